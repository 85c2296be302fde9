# SPDX-License-Identifier: Apache-2.0
"""segloss: loss functions of medical image segmentation and their gradients, as fused Halide
kernels. `segloss.torch` holds one PyTorch module per loss (`from segloss.torch import DiceLoss`).
"""
