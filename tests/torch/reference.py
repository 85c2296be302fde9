# SPDX-License-Identifier: Apache-2.0
"""Plain PyTorch float64 versions of some losses, written from LOSSES.md's formulas, the oracle
of test_torch_losses.py (autograd differentiates them)."""
import torch
import torch.nn.functional as F


def onehot(target, classes):
    """N,spatial labels -> N,C,spatial float64 (labels outside [0, C) give a zero row)."""
    valid = (target >= 0) & (target < classes)
    g = F.one_hot(torch.where(valid, target, torch.zeros_like(target)).long(), classes).double()
    g = g * valid.unsqueeze(-1).double()
    return g.movedim(-1, 1)


def ce(x, target, weight=None, ignore_index=None, label_smoothing=0.0, reduction="mean"):
    return F.cross_entropy(x, target.long(), weight=weight, reduction=reduction,
                           ignore_index=-100 if ignore_index is None else ignore_index,
                           label_smoothing=label_smoothing)


def dice(x, target, include_background=True, batch=False, mask=None, smooth_nr=1e-5, smooth_dr=1e-5):
    """1 - (2I + s_nr) / (P + G + s_dr) per group (n, c) or (c) with batch, mean over groups."""
    p = torch.softmax(x, dim=1)
    g = onehot(target, x.shape[1])
    m = torch.ones_like(p[:, :1]) if mask is None else mask.double().unsqueeze(1)
    axes = tuple(range(2, x.dim()))
    if batch:
        axes = (0,) + axes
    inter = (m * p * g).sum(axes)
    pred = (m * p).sum(axes)
    truth = (m * g).sum(axes)
    loss = 1 - (2 * inter + smooth_nr) / (pred + truth + smooth_dr)
    if not include_background:
        loss = loss[..., 1:]
    return loss.mean()


def focal(x, target, gamma=2.0):
    """-(1/W) sum_v (1 - p_t)^gamma log p_t, W the voxel count (weight_norm=count)."""
    logp = torch.log_softmax(x, dim=1).gather(1, target.long().unsqueeze(1)).squeeze(1)
    return (-(1 - logp.exp()) ** gamma * logp).mean()
