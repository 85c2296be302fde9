// SPDX-License-Identifier: Apache-2.0
#include "label_volume.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <nifti2_io.h>

#include "npy.h"

namespace segloss::cli {
namespace {

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int64_t as_label(double v, const std::string &path) {
    if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9.0e15) {
        throw std::runtime_error(path + ": value " + std::to_string(v) + " is not an integer label");
    }
    return static_cast<int64_t>(v);
}

LabelVolume read_npy_labels(const std::string &path) {
    const NpyArray a = read_npy(path);
    if (a.shape.empty() || a.shape.size() > 3) throw std::runtime_error(path + ": a label map has 1 to 3 axes (one image)");
    LabelVolume v;
    v.shape = a.shape;
    v.labels.resize(static_cast<size_t>(a.numel()));
    const unsigned char *d = a.data.data();
    for (int64_t i = 0; i < a.numel(); i++) {
        if (a.descr == "<i4") v.labels[i] = reinterpret_cast<const int32_t *>(d)[i];
        else if (a.descr == "<i8") v.labels[i] = reinterpret_cast<const int64_t *>(d)[i];
        else if (a.descr == "|u1" || a.descr == "<u1" || a.descr == "|b1") v.labels[i] = d[i];
        else if (a.descr == "<f4") v.labels[i] = as_label(reinterpret_cast<const float *>(d)[i], path);
        else v.labels[i] = as_label(reinterpret_cast<const double *>(d)[i], path);
    }
    return v;
}

// Element i of NIfTI data of the given datatype, as a double (labels fit exactly).
double nifti_value(const nifti_image &im, int64_t i) {
    const void *d = im.data;
    switch (im.datatype) {
    case DT_UINT8: return static_cast<const uint8_t *>(d)[i];
    case DT_INT8: return static_cast<const int8_t *>(d)[i];
    case DT_INT16: return static_cast<const int16_t *>(d)[i];
    case DT_UINT16: return static_cast<const uint16_t *>(d)[i];
    case DT_INT32: return static_cast<const int32_t *>(d)[i];
    case DT_UINT32: return static_cast<const uint32_t *>(d)[i];
    case DT_INT64: return static_cast<double>(static_cast<const int64_t *>(d)[i]);
    case DT_UINT64: return static_cast<double>(static_cast<const uint64_t *>(d)[i]);
    case DT_FLOAT32: return static_cast<const float *>(d)[i];
    case DT_FLOAT64: return static_cast<const double *>(d)[i];
    default: throw std::runtime_error(std::string("NIfTI datatype ") + nifti_datatype_string(im.datatype) + " is not a label type");
    }
}

LabelVolume read_nifti_labels(const std::string &path) {
    std::unique_ptr<nifti_image, void (*)(nifti_image *)> im(nifti_image_read(path.c_str(), 1), nifti_image_free);
    if (!im || !im->data) throw std::runtime_error(path + ": cannot read a NIfTI image");
    for (int d = 4; d <= im->dim[0] && d < 8; d++) {
        if (im->dim[d] > 1) throw std::runtime_error(path + ": a label map has 1 to 3 dimensions (one image, one channel)");
    }
    // Trailing dimensions of one voxel are dropped: a 2-D slice is (j, i).
    int rank = static_cast<int>(std::min<int64_t>(im->dim[0], 3));
    while (rank > 1 && im->dim[rank] <= 1) rank--;
    LabelVolume v;
    v.nifti = true;
    for (int d = rank; d >= 1; d--) {  // x (i) is fastest in the file: the last tensor axis
        v.shape.push_back(im->dim[d]);
        v.spacing.push_back(std::fabs(im->pixdim[d]));
    }
    const bool scaled = im->scl_slope != 0 && (im->scl_slope != 1 || im->scl_inter != 0);
    v.labels.resize(static_cast<size_t>(im->nvox));
    for (int64_t i = 0; i < im->nvox; i++) {
        double x = nifti_value(*im, i);
        if (scaled) x = x * im->scl_slope + im->scl_inter;
        v.labels[i] = as_label(x, path);
    }
    return v;
}

}  // namespace

LabelVolume read_label_volume(const std::string &path) {
    if (ends_with(path, ".npy")) return read_npy_labels(path);
    if (ends_with(path, ".nii") || ends_with(path, ".nii.gz")) return read_nifti_labels(path);
    throw std::runtime_error(path + ": expected a .npy, .nii or .nii.gz file");
}

}  // namespace segloss::cli
