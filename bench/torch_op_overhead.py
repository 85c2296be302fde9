#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The PyTorch op's overhead over the C ABI, in one process on the same tensors: per shape, the
median time of (1) segloss_loss_compute called through ctypes on the tensors' memory (the C ABI),
(2) torch.ops.segloss.loss_and_grad (the dispatcher, option parsing, output allocation) and
(3) segloss.torch's module, forward + backward through autograd (torch.autograd.grad). Value and
gradient in every case.

usage (Debian's python3, after a build with the extension):
  PYTHONPATH=build/python /usr/bin/python3 bench/torch_op_overhead.py [--build build] [--loss dice_ce]
"""
import argparse
import ctypes
import statistics
import time

import torch


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32), ("dtype", DLDataType),
                ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
                ("byte_offset", ctypes.c_uint64)]


def dl(t, keep):
    """A DLTensor of a contiguous CPU tensor (its shape array kept alive in `keep`)."""
    shape = (ctypes.c_int64 * t.dim())(*t.shape)
    keep.append(shape)
    code, bits = {torch.float32: (2, 32), torch.float64: (2, 64), torch.int32: (0, 32)}[t.dtype]
    return DLTensor(t.data_ptr(), DLDevice(1, 0), t.dim(), DLDataType(code, bits, 1), shape, None, 0)


def median_ms(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--loss", default="dice_ce")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    from segloss import torch as st

    lib = ctypes.CDLL(f"{args.build}/runtime/libsegloss.so")
    lib.segloss_loss_from_name.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    lib.segloss_loss_compute.argtypes = [ctypes.c_void_p, ctypes.c_void_p] + [ctypes.POINTER(DLTensor)] * 4 + [
        ctypes.c_float]
    ctx = ctypes.c_void_p()
    assert lib.segloss_context_create(ctypes.byref(ctx)) == 0
    kind = ctypes.c_int()
    assert lib.segloss_loss_from_name(args.loss.encode(), ctypes.byref(kind)) == 0
    params = ctypes.create_string_buffer(4096)  # more than sizeof(segloss_loss_params_t)
    assert lib.segloss_loss_params_init(params, kind) == 0
    torch.set_num_threads(args.threads)
    lib.segloss_set_num_threads(args.threads)
    module = getattr(st, st.class_name(args.loss))()

    print(f"loss {args.loss}, {args.threads} threads; median ms (ratio to the C ABI)")
    print("| shape | C ABI (ctypes) | loss_and_grad op | module fwd+bwd |")
    print("|---|---|---|---|")
    for shape, reps in (((1, 2, 8, 8, 8), 200), ((2, 4, 32, 32, 32), 50), ((2, 4, 64, 64, 64), 15),
                        ((2, 4, 128, 128, 128), 7)):
        gen = torch.Generator().manual_seed(0)
        x = torch.rand(shape, generator=gen) * 20 - 10
        y = torch.randint(0, shape[1], (shape[0],) + shape[2:], generator=gen, dtype=torch.int32)
        value = torch.zeros(1, dtype=torch.float64)
        grad = torch.empty_like(x)
        keep = []
        tl, tt, tv, tg = dl(x, keep), dl(y, keep), dl(value, keep), dl(grad, keep)

        def capi():
            assert lib.segloss_loss_compute(ctx, params, tl, tt, tv, tg, 1.0) == 0

        def op():
            torch.ops.segloss.loss_and_grad(x, y, args.loss, [], None, True, 0)

        xs = x.clone().requires_grad_()

        def mod():
            # autograd.grad: the gradient handed on as in a network, where the logits are not a
            # leaf (a leaf's .grad would add AccumulateGrad's copy of it).
            torch.autograd.grad(module(xs, y), xs)

        c = median_ms(capi, reps)
        o = median_ms(op, reps)
        m = median_ms(mod, reps)
        name = "x".join(map(str, shape))
        print(f"| {name} | {c:.3f} | {o:.3f} ({o / c:.2f}) | {m:.3f} ({m / c:.2f}) |")
        # The three give the same value (a check that the timing compares like with like).
        v_op = torch.ops.segloss.loss_and_grad(x, y, args.loss, [], None, False, 0)[0].item()
        assert abs(v_op - value.item()) <= 1e-12 * abs(value.item()), (v_op, value.item())
    lib.segloss_context_destroy(ctx)


if __name__ == "__main__":
    main()
