// SPDX-License-Identifier: Apache-2.0
// The device side of the device-call tests: host tensors copied to a GPU's memory (DeviceTensor),
// and the devices of the APIs this build has (each API without a driver or device here is
// skipped with a visible message, never failed).
#pragma once

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/device_memory.h"
#include "segloss/segloss.h"
#include "tests/support/host_tensor.h"

namespace segloss::test {

// A host tensor's storage (layout and gaps included) in device memory.
template <typename T>
class DeviceTensor {
public:
    DeviceTensor(DeviceMemory &dev, HostTensor<T> &host) : dev_(dev), host_(host), bytes_(host.storage().size() * sizeof(T)) {
        mem_ = dev.alloc(bytes_);
        dev.upload(mem_, host.storage().data(), bytes_);
    }
    ~DeviceTensor() { dev_.release(mem_); }
    DeviceTensor(const DeviceTensor &) = delete;
    DeviceTensor &operator=(const DeviceTensor &) = delete;
    DLTensor dl() {
        DLTensor t = host_.dl();
        t.data = mem_;
        t.device = dev_.device();
        return t;
    }
    // The device storage, in a copy of the host tensor.
    HostTensor<T> download() {
        HostTensor<T> h = host_;
        dev_.download(mem_, h.storage().data(), bytes_);
        return h;
    }

private:
    DeviceMemory &dev_;
    HostTensor<T> &host_;
    size_t bytes_;
    void *mem_ = nullptr;
};

// The APIs of this build (tests/CMakeLists.txt), each with its device or the reason it has none.
inline std::vector<std::string> built_apis() {
    std::vector<std::string> apis;
#ifdef SEGLOSS_TEST_CUDA
    apis.push_back("cuda");
#endif
#ifdef SEGLOSS_TEST_OPENCL
    apis.push_back("opencl");
#endif
    return apis;
}

inline DeviceMemory *device_for(const std::string &api) {
    static std::vector<std::pair<std::string, std::unique_ptr<DeviceMemory>>> opened;
    for (auto &o : opened) {
        if (o.first == api) return o.second.get();
    }
    std::string why;
    opened.emplace_back(api, open_device(api, why));
    if (!opened.back().second) std::printf("SKIPPED: no %s device here (%s); its device calls are not run\n", api.c_str(), why.c_str());
    return opened.back().second.get();
}

// The built APIs' devices here; a missing one is a visible warning of the running test.
inline std::vector<std::pair<std::string, DeviceMemory *>> available_devices() {
    std::vector<std::pair<std::string, DeviceMemory *>> found;
    for (const std::string &api : built_apis()) {
        if (DeviceMemory *dev = device_for(api)) {
            found.emplace_back(api, dev);
        } else {
            WARN("skipped: no " << api << " device here");
        }
    }
    return found;
}

// A device result against the host's: no element off by more than abs + rel |host| (NaN
// equals NaN); a failure names the first one.
template <typename T>
void check_close(const HostTensor<T> &device, const HostTensor<T> &host, double rel, double abs, const char *what) {
    std::string first;
    const int64_t differ = count_differences(device, host, rel, abs, first);
    INFO(what << ": " << differ << " elements differ, the first " << first);
    CHECK(differ == 0);
}

// What one loss call returned and wrote (device outputs brought back).
template <typename V>
struct LossResult {
    segloss_status_t status;
    std::string error, kernels;
    HostTensor<V> value;
    HostTensor<float> grad;
};

// segloss_loss_compute on `dev`'s stream with value and grad in device memory, starting as
// copies of value_init and grad_init; the outputs brought back.
template <typename V>
LossResult<V> loss_on_device(DeviceMemory &dev, const segloss_loss_params_t &p, DLTensor &logits, DLTensor &target,
                             HostTensor<V> &value_init, HostTensor<float> &grad_init) {
    segloss_context_t ctx = nullptr;
    REQUIRE(segloss_context_create(&ctx) == SEGLOSS_STATUS_OK);
    REQUIRE(segloss_context_set_stream(ctx, dev.device(), dev.stream()) == SEGLOSS_STATUS_OK);
    DeviceTensor<V> value(dev, value_init);
    DeviceTensor<float> grad(dev, grad_init);
    DLTensor v = value.dl(), g = grad.dl();
    LossResult<V> r{SEGLOSS_STATUS_OK, "", "", {}, {}};
    r.status = segloss_loss_compute(ctx, &p, &logits, &target, &v, &g, 0.5f);
    r.error = segloss_last_error(ctx);
    r.kernels = segloss_last_kernel(ctx);
    segloss_context_destroy(ctx);
    r.value = value.download();
    r.grad = grad.download();
    return r;
}

// Every kernel of a call (segloss_last_kernel: names separated by commas) is the `api` twin
// (its name ends with _<api>); returns how many ran.
inline size_t check_kernels_on(const std::string &kernels, const std::string &api) {
    const std::string suffix = "_" + api;
    size_t begin = 0, ran = 0;
    while (begin <= kernels.size()) {
        const size_t end = std::min(kernels.find(',', begin), kernels.size());
        const std::string name = kernels.substr(begin, end - begin);
        INFO("kernel " << name);
        CHECK(name.size() > suffix.size());
        CHECK(name.compare(name.size() - std::min(name.size(), suffix.size()), suffix.size(), suffix) == 0);
        ran++;
        begin = end + 1;
    }
    return ran;
}

}  // namespace segloss::test
