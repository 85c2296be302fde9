#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""PyTorch's own forward+backward of the losses that segloss_bench_gpu times, on the same GPU,
shapes and data types (float32 logits N,C,D,H,W; int64 labels, as PyTorch's cross_entropy
needs), run by tools/gpu-check in the same session. ce: F.cross_entropy; dice: the MONAI-style
soft Dice written in PyTorch (softmax, one-hot, sums over the spatial axes, mean over classes
and images); dice_ce: their sum (nnU-Net's default); topk: nnU-Net's TopKLoss (the mean of the
10% largest voxel CE values of the batch, torch.topk); dice_topk: dice + topk (DiceTopK10). Prints one line per (loss, shape): median, min and max ms over the repetitions.
Usage: gpu_torch_baseline.py [--repetitions R] [--small] [--device cuda|cpu]"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def dice_loss(logits, target, smooth=1e-5):
    p = torch.softmax(logits, dim=1)
    g = F.one_hot(target, logits.shape[1]).movedim(-1, 1).to(p.dtype)
    axes = tuple(range(2, logits.dim()))
    inter = (p * g).sum(axes)
    denom = p.sum(axes) + g.sum(axes)
    return (1 - (2 * inter + smooth) / (denom + smooth)).mean()


def topk_loss(logits, target, percent=10):
    voxels = F.cross_entropy(logits, target, reduction="none").flatten()
    k = max(1, voxels.numel() * percent // 100)
    return voxels.topk(k, sorted=False).values.mean()


def time_it(fn, reps, sync):
    fn()
    sync()
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms), min(ms), max(ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repetitions", type=int, default=20)
    ap.add_argument("--small", action="store_true", help="tiny shapes, to check the script itself")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    args = ap.parse_args()
    device, reps, small = args.device, args.repetitions, args.small
    shapes = [(2, 4, 16, 16, 16)] if small else [(2, 4, 128, 128, 128), (8, 4, 1, 256, 256), (1, 14, 96, 96, 96),
                                                (1, 4, 256, 256, 256)]
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    print(f"torch {torch.__version__} on {name}")
    print(f"{'loss':8} {'shape NxCxDxHxW':22} {'median ms':>10} {'min ms':>10} {'max ms':>10}")
    torch.manual_seed(1)
    for n, c, d, h, w in shapes:
        logits = (3 * torch.randn(n, c, d, h, w, device=device)).requires_grad_()
        target = torch.randint(0, c, (n, d, h, w), device=device)
        shape = f"{n}x{c}x{d}x{h}x{w}"
        for loss_name, loss_fn in (("ce", lambda: F.cross_entropy(logits, target)),
                                   ("dice", lambda: dice_loss(logits, target)),
                                   ("dice_ce", lambda: dice_loss(logits, target) + F.cross_entropy(logits, target)),
                                   ("topk", lambda: topk_loss(logits, target)),
                                   ("dice_topk", lambda: dice_loss(logits, target) + topk_loss(logits, target))):
            def step():
                logits.grad = None
                loss_fn().backward()
            med, lo, hi = time_it(step, reps, sync)
            print(f"{loss_name:8} {shape:22} {med:10.3f} {lo:10.3f} {hi:10.3f}")


if __name__ == "__main__":
    main()
