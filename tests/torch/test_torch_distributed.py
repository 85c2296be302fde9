# SPDX-License-Identifier: Apache-2.0
"""Batch statistics across processes with torch.distributed (gloo): two processes, each holding
half the batch, with segloss.torch region losses given process_group=WORLD, must get the loss of
the whole batch and, each, the slice of its gradient that one process holding the whole batch
gets (to float32 rounding). Run under Debian's /usr/bin/python3 with PYTHONPATH=<build>/python
(ctest does)."""
import os
import sys
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD = 2
CASES = [
    ("DiceLoss", {"batch": True}),
    ("DiceLoss", {"batch": True, "include_background": False}),
    ("IoULoss", {"batch": True}),
    ("TverskyLoss", {"batch": True, "alpha": 0.4, "beta": 0.6}),
    ("GeneralizedDiceLoss", {"batch": True}),
]


def problem(seed):
    """4 images, 3 classes, 6x7x8, with a loss mask; the same on every process."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(4, 3, 6, 7, 8, generator=gen) * 8 - 4
    y = torch.randint(0, 3, (4, 6, 7, 8), generator=gen)
    y[1][y[1] == 2] = 0  # class 2 absent from image 1
    mask = (torch.rand(4, 6, 7, 8, generator=gen) > 0.2).float()
    return x, y, mask


def value_and_grad(module, x, y, mask):
    xs = x.clone().requires_grad_()
    v = module(xs, y, mask)
    v.backward()
    return v.item(), xs.grad


def worker(rank, init_file, result_dir):
    from segloss import torch as st
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    torch.set_num_threads(1)
    failures = []
    for i, (cls, options) in enumerate(CASES):
        x, y, mask = problem(i)
        whole_v, whole_g = value_and_grad(getattr(st, cls)(**options), x, y, mask)
        half = slice(rank * 2, rank * 2 + 2)
        module = getattr(st, cls)(process_group=dist.group.WORLD, **options)
        v, g = value_and_grad(module, x[half], y[half], mask[half])
        dv = abs(v - whole_v)
        dg = (g - whole_g[half]).abs().max().item()
        scale = whole_g.abs().max().item()
        print(f"rank {rank} {cls} {options}: value {v:.8f} (one process {whole_v:.8f}), "
              f"gradient off by {dg:.2e} of {scale:.2e}")
        if dv > 1e-6 * max(1.0, abs(whole_v)) or dg > 1e-5 * scale:
            failures.append(cls)
    # Without batch=True a process group is refused (each image's loss is its own).
    try:
        st.DiceLoss(process_group=dist.group.WORLD)
        failures.append("process_group without batch accepted")
    except ValueError:
        pass
    with open(os.path.join(result_dir, f"rank{rank}"), "w") as f:
        f.write(",".join(failures))
    dist.destroy_process_group()


def main():
    # The loopback interface: a container's hostname may not resolve to a usable address.
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(worker, args=(os.path.join(tmp, "init"), tmp), nprocs=WORLD, join=True)
        failures = [open(os.path.join(tmp, f"rank{r}")).read() for r in range(WORLD)]
    if any(failures):
        print("FAILED:", failures)
        return 1
    print(f"{len(CASES)} region losses: {WORLD} processes with half the batch each = one process with all of it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
