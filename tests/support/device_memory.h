// SPDX-License-Identifier: Apache-2.0
// The caller's side of a device call, for the tests and the GPU bench: a GPU API's context, stream and memory,
// through its driver loaded with dlopen (no SDK needed to build; skipped where no driver or
// device is). OpenCL: the first device of the first platform (pocl in the CI); CUDA: device 0's
// primary context, a stream of its own.
#pragma once

#include <dlfcn.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <dlpack/dlpack.h>

namespace segloss::test {

class DeviceMemory {
public:
    virtual ~DeviceMemory() = default;
    virtual DLDevice device() const = 0;
    virtual void *stream() const = 0;                 // what segloss_context_set_stream takes
    virtual void *alloc(size_t bytes) = 0;            // a CUdeviceptr or cl_mem, as DLTensor::data
    virtual void upload(void *mem, const void *src, size_t bytes) = 0;
    virtual void download(void *mem, void *dst, size_t bytes) = 0;  // waits for the stream
    virtual void release(void *mem) = 0;
    virtual void copy(void *dst, void *src, size_t bytes) = 0;  // device to device, on the stream
    virtual void synchronize() = 0;                             // waits for the stream
    virtual std::string name() const = 0;
};

namespace detail {

template <typename Fn>
Fn symbol(void *lib, const char *name) {
    void *s = dlsym(lib, name);
    if (!s) throw std::runtime_error(std::string("missing ") + name);
    return reinterpret_cast<Fn>(s);
}

inline void check(int err, const char *what) {
    if (err != 0) throw std::runtime_error(std::string(what) + " failed with " + std::to_string(err));
}

class OpenCl final : public DeviceMemory {
public:
    explicit OpenCl(void *lib) {
        using GetPlatforms = int (*)(uint32_t, void **, uint32_t *);
        using GetDevices = int (*)(void *, uint64_t, uint32_t, void **, uint32_t *);
        using CreateContext = void *(*)(const intptr_t *, uint32_t, void **, void *, void *, int *);
        using CreateQueue = void *(*)(void *, void *, uint64_t, int *);
        void *platform = nullptr, *dev = nullptr;
        uint32_t n = 0;
        check(symbol<GetPlatforms>(lib, "clGetPlatformIDs")(1, &platform, &n), "clGetPlatformIDs");
        if (n == 0) throw std::runtime_error("no OpenCL platform");
        check(symbol<GetDevices>(lib, "clGetDeviceIDs")(platform, 0xFFFFFFFF /* ALL */, 1, &dev, &n), "clGetDeviceIDs");
        int err = 0;
        context_ = symbol<CreateContext>(lib, "clCreateContext")(nullptr, 1, &dev, nullptr, nullptr, &err);
        check(err, "clCreateContext");
        queue_ = symbol<CreateQueue>(lib, "clCreateCommandQueue")(context_, dev, 0, &err);
        check(err, "clCreateCommandQueue");
        create_ = symbol<CreateBuffer>(lib, "clCreateBuffer");
        write_ = symbol<Enqueue>(lib, "clEnqueueWriteBuffer");
        read_ = symbol<Enqueue>(lib, "clEnqueueReadBuffer");
        release_ = symbol<Release>(lib, "clReleaseMemObject");
        release_queue_ = symbol<Release>(lib, "clReleaseCommandQueue");
        release_context_ = symbol<Release>(lib, "clReleaseContext");
        copy_ = symbol<Copy>(lib, "clEnqueueCopyBuffer");
        finish_ = symbol<Release>(lib, "clFinish");
    }
    ~OpenCl() override {
        release_queue_(queue_);
        release_context_(context_);
    }
    DLDevice device() const override { return {kDLOpenCL, 0}; }
    void *stream() const override { return queue_; }
    void *alloc(size_t bytes) override {
        int err = 0;
        void *mem = create_(context_, 1 /* CL_MEM_READ_WRITE */, bytes, nullptr, &err);
        check(err, "clCreateBuffer");
        return mem;
    }
    void upload(void *mem, const void *src, size_t bytes) override {
        check(write_(queue_, mem, 1, 0, bytes, const_cast<void *>(src), 0, nullptr, nullptr), "clEnqueueWriteBuffer");
    }
    void download(void *mem, void *dst, size_t bytes) override {
        check(read_(queue_, mem, 1, 0, bytes, dst, 0, nullptr, nullptr), "clEnqueueReadBuffer");
    }
    void release(void *mem) override { release_(mem); }
    void copy(void *dst, void *src, size_t bytes) override {
        check(copy_(queue_, src, dst, 0, 0, bytes, 0, nullptr, nullptr), "clEnqueueCopyBuffer");
    }
    void synchronize() override { check(finish_(queue_), "clFinish"); }
    std::string name() const override { return "opencl"; }

private:
    using CreateBuffer = void *(*)(void *, uint64_t, size_t, void *, int *);
    using Copy = int (*)(void *, void *, void *, size_t, size_t, size_t, uint32_t, const void *, void *);
    using Enqueue = int (*)(void *, void *, uint32_t, size_t, size_t, void *, uint32_t, const void *, void *);
    using Release = int (*)(void *);
    void *context_ = nullptr, *queue_ = nullptr;
    CreateBuffer create_;
    Enqueue write_, read_;
    Copy copy_;
    Release release_, release_queue_, release_context_, finish_;
};

class Cuda final : public DeviceMemory {
public:
    explicit Cuda(void *lib) {
        using Init = int (*)(unsigned);
        using DeviceGet = int (*)(int *, int);
        using Retain = int (*)(void **, int);
        using Push = int (*)(void *);
        using StreamCreate = int (*)(void **, unsigned);
        check(symbol<Init>(lib, "cuInit")(0), "cuInit");
        int dev = 0;
        check(symbol<DeviceGet>(lib, "cuDeviceGet")(&dev, 0), "cuDeviceGet");
        check(symbol<Retain>(lib, "cuDevicePrimaryCtxRetain")(&context_, dev), "cuDevicePrimaryCtxRetain");
        check(symbol<Push>(lib, "cuCtxPushCurrent_v2")(context_), "cuCtxPushCurrent");
        check(symbol<StreamCreate>(lib, "cuStreamCreate")(&stream_, 1 /* non-blocking */), "cuStreamCreate");
        alloc_ = symbol<Alloc>(lib, "cuMemAlloc_v2");
        free_ = symbol<Free>(lib, "cuMemFree_v2");
        htod_ = symbol<HtoD>(lib, "cuMemcpyHtoDAsync_v2");
        dtoh_ = symbol<DtoH>(lib, "cuMemcpyDtoHAsync_v2");
        sync_ = symbol<Sync>(lib, "cuStreamSynchronize");
        dtod_ = symbol<DtoD>(lib, "cuMemcpyDtoDAsync_v2");
    }
    DLDevice device() const override { return {kDLCUDA, 0}; }
    void *stream() const override { return stream_; }
    void *alloc(size_t bytes) override {
        uint64_t p = 0;
        check(alloc_(&p, bytes), "cuMemAlloc");
        return reinterpret_cast<void *>(p);
    }
    void upload(void *mem, const void *src, size_t bytes) override {
        check(htod_(reinterpret_cast<uint64_t>(mem), src, bytes, stream_), "cuMemcpyHtoDAsync");
        check(sync_(stream_), "cuStreamSynchronize");
    }
    void download(void *mem, void *dst, size_t bytes) override {
        check(dtoh_(dst, reinterpret_cast<uint64_t>(mem), bytes, stream_), "cuMemcpyDtoHAsync");
        check(sync_(stream_), "cuStreamSynchronize");
    }
    void release(void *mem) override { free_(reinterpret_cast<uint64_t>(mem)); }
    void copy(void *dst, void *src, size_t bytes) override {
        check(dtod_(reinterpret_cast<uint64_t>(dst), reinterpret_cast<uint64_t>(src), bytes, stream_), "cuMemcpyDtoDAsync");
    }
    void synchronize() override { check(sync_(stream_), "cuStreamSynchronize"); }
    std::string name() const override { return "cuda"; }

private:
    using Alloc = int (*)(uint64_t *, size_t);
    using Free = int (*)(uint64_t);
    using HtoD = int (*)(uint64_t, const void *, size_t, void *);
    using DtoH = int (*)(void *, uint64_t, size_t, void *);
    using Sync = int (*)(void *);
    using DtoD = int (*)(uint64_t, uint64_t, size_t, void *);
    void *context_ = nullptr, *stream_ = nullptr;
    Alloc alloc_;
    Free free_;
    HtoD htod_;
    DtoH dtoh_;
    Sync sync_;
    DtoD dtod_;
};

}  // namespace detail

// The API's device here, or nullptr (with the reason in `why`).
inline std::unique_ptr<DeviceMemory> open_device(const std::string &api, std::string &why) {
    const char *lib_name = api == "cuda" ? "libcuda.so.1" : "libOpenCL.so.1";
    void *lib = dlopen(lib_name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        why = std::string(lib_name) + " cannot be loaded";
        return nullptr;
    }
    try {
        if (api == "cuda") return std::make_unique<detail::Cuda>(lib);
        return std::make_unique<detail::OpenCl>(lib);
    } catch (const std::exception &e) {
        why = e.what();
        return nullptr;
    }
}

}  // namespace segloss::test
