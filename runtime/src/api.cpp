// SPDX-License-Identifier: Apache-2.0
// The C entry points: catch every failure at the ABI boundary and turn it into a status and
// the context's message.
#include <cmath>
#include <cstring>
#include <mutex>
#include <new>

#include "../devices/cpu.h"
#include "../families/distance.h"
#include "../families/metrics.h"
#include "../families/families.h"
#include "context.h"
#include "enum_field.h"
#include "failure.h"
#include "losses.h"
#include "precision.h"
#include "problem.h"

using namespace segloss::rt;

namespace {

template <typename F>
segloss_status_t guarded(segloss_context *ctx, F &&body) {
    if (!ctx) return SEGLOSS_STATUS_INVALID_ARGUMENT;
    std::lock_guard<std::mutex> turn(ctx->calls);
    ctx->last_error.clear();
    try {
        ensure_cpu_runtime();
        body();
        return SEGLOSS_STATUS_OK;
    } catch (const Failure &f) {
        ctx->last_error = f.message;
        return f.status;
    } catch (const std::bad_alloc &) {
        ctx->last_error = "out of memory";
        return SEGLOSS_STATUS_OUT_OF_MEMORY;
    } catch (...) {
        ctx->last_error = "unexpected internal error";
        return SEGLOSS_STATUS_INTERNAL;
    }
}

void require_region_loss(const segloss_loss_params_t *p) {
    const Family f = find_loss(enum_field(p->loss))->family;
    if (f == Family::pointwise || f == Family::boundary) {
        fail(SEGLOSS_STATUS_INVALID_ARGUMENT, segloss_loss_name(p->loss), " is not a region loss");
    }
}

// A call whose tensors make_problem found on a device runs its kernels there.
void start_device_call(Call &call, Problem &pb) {
    if (!pb.logits.on_device()) return;
    call.use_device(pb.logits.device);
    put_lines_on_device(call, pb);
}

}  // namespace

extern "C" {

const char *segloss_version(void) {
#define SEGLOSS_STR2(x) #x
#define SEGLOSS_STR(x) SEGLOSS_STR2(x)
    return SEGLOSS_STR(SEGLOSS_VERSION_MAJOR) "." SEGLOSS_STR(SEGLOSS_VERSION_MINOR) "." SEGLOSS_STR(SEGLOSS_VERSION_PATCH);
}

const char *segloss_status_string(segloss_status_t s) {
    switch (s) {
    case SEGLOSS_STATUS_OK: return "SEGLOSS_STATUS_OK";
    case SEGLOSS_STATUS_INVALID_ARGUMENT: return "SEGLOSS_STATUS_INVALID_ARGUMENT";
    case SEGLOSS_STATUS_INVALID_SHAPE: return "SEGLOSS_STATUS_INVALID_SHAPE";
    case SEGLOSS_STATUS_UNSUPPORTED: return "SEGLOSS_STATUS_UNSUPPORTED";
    case SEGLOSS_STATUS_INVALID_LABEL: return "SEGLOSS_STATUS_INVALID_LABEL";
    case SEGLOSS_STATUS_NONFINITE: return "SEGLOSS_STATUS_NONFINITE";
    case SEGLOSS_STATUS_TOO_LARGE: return "SEGLOSS_STATUS_TOO_LARGE";
    case SEGLOSS_STATUS_OUT_OF_MEMORY: return "SEGLOSS_STATUS_OUT_OF_MEMORY";
    case SEGLOSS_STATUS_INTERNAL: return "SEGLOSS_STATUS_INTERNAL";
    case SEGLOSS_STATUS_DEVICE_UNAVAILABLE: return "SEGLOSS_STATUS_DEVICE_UNAVAILABLE";
    case SEGLOSS_STATUS_DEVICE_MISMATCH: return "SEGLOSS_STATUS_DEVICE_MISMATCH";
    }
    return "SEGLOSS_STATUS_UNKNOWN";
}

segloss_status_t segloss_context_create(segloss_context_t *ctx) {
    if (!ctx) return SEGLOSS_STATUS_INVALID_ARGUMENT;
    *ctx = new (std::nothrow) segloss_context();
    return *ctx ? SEGLOSS_STATUS_OK : SEGLOSS_STATUS_OUT_OF_MEMORY;
}

void segloss_context_destroy(segloss_context_t ctx) { delete ctx; }

const char *segloss_last_error(segloss_context_t ctx) { return ctx ? ctx->last_error.c_str() : "context is NULL"; }

const char *segloss_last_kernel(segloss_context_t ctx) { return ctx ? ctx->last_kernel.c_str() : ""; }

segloss_status_t segloss_context_set_thread_pool(segloss_context_t ctx, segloss_parallel_for_fn parallel_for,
                                                 void *pool) {
    return guarded(ctx, [&] {
        ctx->parallel_for = parallel_for;
        ctx->pool = parallel_for ? pool : nullptr;
    });
}

segloss_status_t segloss_context_set_stream(segloss_context_t ctx, DLDevice device, void *stream) {
    return guarded(ctx, [&] {
        StreamBinding b;
        if (device.device_type != kDLCPU) {
            b = {true, device, stream};
            check_binding(b);
        }
        ctx->stream = b;
    });
}

segloss_status_t segloss_set_num_threads(int n) {
    if (n < 0) return SEGLOSS_STATUS_INVALID_ARGUMENT;
    set_num_threads(n);
    return SEGLOSS_STATUS_OK;
}

segloss_status_t segloss_set_max_cpu_isa(segloss_cpu_isa_t isa) {
    const int v = enum_field(isa);
    if (v < SEGLOSS_CPU_ISA_BASELINE || (v > SEGLOSS_CPU_ISA_AVX512 && v != SEGLOSS_CPU_ISA_ALL)) {
        return SEGLOSS_STATUS_INVALID_ARGUMENT;
    }
    set_max_cpu_isa(isa);
    return SEGLOSS_STATUS_OK;
}

segloss_status_t segloss_loss_params_init(segloss_loss_params_t *p, segloss_loss_kind_t loss) {
    if (!p || !find_loss(enum_field(loss))) return SEGLOSS_STATUS_INVALID_ARGUMENT;
    default_params(*p, loss);
    return SEGLOSS_STATUS_OK;
}

segloss_status_t segloss_loss_from_name(const char *name, segloss_loss_kind_t *loss) {
    const LossInfo *l = find_loss(name);
    if (!l || !loss) return SEGLOSS_STATUS_INVALID_ARGUMENT;
    *loss = l->kind;
    return SEGLOSS_STATUS_OK;
}

const char *segloss_loss_name(segloss_loss_kind_t loss) {
    const LossInfo *l = find_loss(enum_field(loss));
    return l ? l->name : "unknown";
}

segloss_status_t segloss_loss_parts(segloss_loss_kind_t loss, segloss_loss_kind_t *region_part,
                                    segloss_loss_kind_t *pointwise_part) {
    const LossInfo *l = find_loss(enum_field(loss));
    if (!l || !has_parts(*l) || !region_part || !pointwise_part) return SEGLOSS_STATUS_INVALID_ARGUMENT;
    *region_part = l->region_part;
    *pointwise_part = l->pointwise_part;
    return SEGLOSS_STATUS_OK;
}

segloss_status_t segloss_loss_compute(segloss_context_t ctx, const segloss_loss_params_t *params,
                                      const DLTensor *logits, const DLTensor *target, DLTensor *value,
                                      DLTensor *grad, float grad_scale) {
    return guarded(ctx, [&] {
        Problem pb = make_problem(params, logits, target, true);
        if (!std::isfinite(grad_scale)) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "grad_scale must be finite");
        Call call(ctx);
        const Family family = find_loss(enum_field(params->loss))->family;
        start_device_call(call, pb);
        prepare_logits(call, pb);
        if (family == Family::pointwise) {
            run_pointwise(call, pb, value, grad, grad_scale);
        } else if (family == Family::boundary) {
            run_boundary(call, pb, value, grad, grad_scale);
        } else {
            run_region(call, pb, value, grad, grad_scale);
        }
    });
}

segloss_status_t segloss_region_stats(segloss_context_t ctx, const segloss_loss_params_t *params,
                                      const DLTensor *logits, const DLTensor *target, DLTensor *stats) {
    return guarded(ctx, [&] {
        Problem pb = make_problem(params, logits, target, true);
        require_region_loss(params);
        Call call(ctx);
        start_device_call(call, pb);
        prepare_logits(call, pb);
        region_stats(call, pb, stats);
    });
}

segloss_status_t segloss_region_epilogue(segloss_context_t ctx, const segloss_loss_params_t *params,
                                         const DLTensor *stats, DLTensor *value, DLTensor *coef,
                                         float grad_scale) {
    return guarded(ctx, [&] {
        check_params(params);
        require_region_loss(params);
        if (!std::isfinite(grad_scale)) fail(SEGLOSS_STATUS_INVALID_ARGUMENT, "grad_scale must be finite");
        Call call(ctx);
        region_epilogue(call, params, stats, value, coef, grad_scale);
    });
}

segloss_status_t segloss_region_grad(segloss_context_t ctx, const segloss_loss_params_t *params,
                                     const DLTensor *logits, const DLTensor *target, const DLTensor *coef,
                                     DLTensor *grad) {
    return guarded(ctx, [&] {
        Problem pb = make_problem(params, logits, target, true);
        require_region_loss(params);
        Call call(ctx);
        start_device_call(call, pb);
        prepare_logits(call, pb);
        region_grad(call, pb, coef, grad);
    });
}

segloss_status_t segloss_distance_params_init(segloss_distance_params_t *p) {
    if (!p) return SEGLOSS_STATUS_INVALID_ARGUMENT;
    default_distance_params(*p);
    return SEGLOSS_STATUS_OK;
}

segloss_status_t segloss_distance_compute(segloss_context_t ctx, const segloss_distance_params_t *params,
                                          const DLTensor *source, DLTensor *distance, DLTensor *flags) {
    return guarded(ctx, [&] {
        Call call(ctx);
        run_distance(call, params, source, distance, flags);
    });
}

segloss_status_t segloss_metric_params_init(segloss_metric_params_t *p) {
    if (!p) return SEGLOSS_STATUS_INVALID_ARGUMENT;
    default_metric_params(*p);
    return SEGLOSS_STATUS_OK;
}

segloss_status_t segloss_metrics_compute(segloss_context_t ctx, const segloss_metric_params_t *params,
                                         const DLTensor *prediction, const DLTensor *target, DLTensor *values,
                                         DLTensor *cases) {
    return guarded(ctx, [&] {
        Call call(ctx);
        run_metrics(call, params, prediction, target, values, cases);
    });
}

}  // extern "C"
