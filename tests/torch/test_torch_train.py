# SPDX-License-Identifier: Apache-2.0
"""A tiny 3D network trained for 50 steps with segloss.torch's DiceCELoss on a synthetic phantom
(noisy balls of random centre and radius, two classes): the loss must go down, to under half its
first value, and the Dice of the thresholded prediction on a held-out phantom must exceed 0.8.
Run under Debian's /usr/bin/python3 with PYTHONPATH=<build>/python (ctest does)."""
import sys

import torch

from segloss.torch import DiceCELoss


def phantom(n, size, gen):
    grid = torch.stack(torch.meshgrid(*[torch.arange(size, dtype=torch.float32)] * 3, indexing="ij"))
    images, labels = [], []
    for _ in range(n):
        centre = torch.rand(3, 1, 1, 1, generator=gen) * size * 0.5 + size * 0.25
        radius = 2.5 + torch.rand(1, generator=gen).item() * size * 0.2
        ball = ((grid - centre) ** 2).sum(0) < radius ** 2
        images.append(ball.float() + 0.6 * torch.randn(size, size, size, generator=gen))
        labels.append(ball.long())
    return torch.stack(images).unsqueeze(1), torch.stack(labels)


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv3d(1, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv3d(8, 8, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv3d(8, 2, 1))
    loss_fn = DiceCELoss(dice={"include_background": False})
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for step in range(50):
        x, y = phantom(2, 16, gen)
        loss = loss_fn(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    x, y = phantom(4, 16, gen)
    with torch.no_grad():
        pred = net(x).argmax(1)
    inter = ((pred == 1) & (y == 1)).sum().item()
    dice = 2 * inter / ((pred == 1).sum().item() + (y == 1).sum().item())
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    print(f"DiceCE loss: first 5 steps {first:.4f}, last 5 steps {last:.4f}; held-out Dice {dice:.3f}")
    if not (last < 0.5 * first and dice > 0.8):
        print("FAILED: the loss did not go down enough or the network did not learn the phantom")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
