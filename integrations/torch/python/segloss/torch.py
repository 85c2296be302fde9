# SPDX-License-Identifier: Apache-2.0
"""PyTorch modules for every loss of segloss, on its fused CPU and CUDA kernels.

One ``nn.Module`` per loss of LOSSES.md (``docs/losses.md``), named by the loss in CamelCase plus
``Loss`` (``dice`` -> ``DiceLoss``, ``generalized_dice`` -> ``GeneralizedDiceLoss``, ``ce`` ->
``CELoss``), whose keyword arguments are the loss's options by their LOSSES.md names::

    from segloss.torch import DiceLoss, DiceCELoss
    loss = DiceLoss(include_background=False, batch=True)(logits, target)
    loss = DiceCELoss(dice={"include_background": False}, ce={"weight": [0.2, 1, 1]})(logits, target)
    loss.backward()

A compound loss's part options go in a dict named by the part (or as ``"dice.option"`` keys).
MONAI's ``softmax=``, ``sigmoid=`` and ``to_onehot_y=`` are understood too (``_from_monai``).
Values: bools, numbers, strings for the choices (``reduction="sum"``), sequences or tensors for
per-class lists. Bad names or values raise ``RuntimeError`` when the module is made.

``loss(logits, target, loss_mask=None)``: logits ``N, C, spatial`` (1 to 3 spatial axes;
float32, float16 or bfloat16, any strides); target an index map ``N, spatial`` or ``N, 1,
spatial`` (int64, int32 or uint8) or a dense map ``N, C, spatial`` (float32); loss_mask voxel
weights in [0, 1] shaped like an index map. Mean and sum return a 0-dim float32 tensor,
differentiable w.r.t. the logits (the gradient is computed in the same kernel pass as the
value, and scaled by the upstream gradient in backward); ``reduction="none"`` returns the map
without a gradient. Tensors are passed as views, never copied; on CUDA the call runs on
``torch.cuda.current_stream()``. The kernels are deterministic, bitwise for any thread count
(``torch.use_deterministic_algorithms(True)`` is fine); they use ``torch.get_num_threads()``
threads.
"""
import os

import torch

torch.ops.load_library(os.path.join(os.path.dirname(os.path.abspath(__file__)), "_segloss_torch.so"))
_ops = torch.ops.segloss


def _format(value):
    """An option value as LOSSES.md spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().flatten().tolist()
    if isinstance(value, (list, tuple)):
        return ",".join(_format(v) for v in value)
    if isinstance(value, int):
        return str(value)
    return repr(float(value))  # shortest repr that reads back to the same double


def _options(options, prefix=""):
    """["name=value", ...] from keyword options; a dict value holds a compound part's options."""
    out = []
    for name, value in options.items():
        if isinstance(value, dict):
            out += _options(value, prefix + name + ".")
        elif value is not None:
            out.append(prefix + name + "=" + _format(value))
    return out


def _from_monai(options):
    """MONAI's activation flags, so that a MONAI user changes the import only: ``softmax=True``
    is ``activation="softmax"``, ``sigmoid=True`` ``activation="sigmoid"``, both given as False
    ``activation="none"`` (MONAI's default: the input holds probabilities); ``to_onehot_y`` is
    accepted and has no effect (an index target is expanded on the fly, a dense one is used as
    it is). Without them segloss's default, softmax, applies."""
    options = dict(options)
    options.pop("to_onehot_y", None)
    flags = {k: options.pop(k) for k in ("softmax", "sigmoid") if k in options}
    if not flags:
        return options
    if "activation" in options:
        raise ValueError("give either activation= or MONAI's softmax=/sigmoid=, not both")
    if flags.get("softmax") and flags.get("sigmoid"):
        raise ValueError("softmax=True and sigmoid=True are exclusive")
    options["activation"] = "softmax" if flags.get("softmax") else "sigmoid" if flags.get("sigmoid") else "none"
    return options


class _AllReducedRegionLoss(torch.autograd.Function):
    """A region loss whose batch statistics are summed over the processes of a group between the
    statistics pass and the epilogue: every process gets the loss of the whole distributed batch
    and the exact gradient of that loss w.r.t. its own logits."""

    @staticmethod
    def forward(ctx, logits, target, name, options, loss_mask, stream, group):
        stats = _ops.region_stats(logits, target, name, options, loss_mask, stream).sum(0, keepdim=True)
        torch.distributed.all_reduce(stats, group=group)
        value, coef = _ops.region_epilogue(stats, name, options, stream)
        ctx.save_for_backward(logits, target, coef, loss_mask)
        ctx.call = (name, options, stream)
        return value.reshape(()).float()

    @staticmethod
    def backward(ctx, grad_output):
        logits, target, coef, loss_mask = ctx.saved_tensors
        name, options, stream = ctx.call
        coef = coef.expand(logits.shape[0], -1, -1).contiguous()
        grad = _ops.region_grad(logits, target, coef, name, options, loss_mask, stream)
        return grad * grad_output.to(grad.dtype), None, None, None, None, None, None


class SeglossLoss(torch.nn.Module):
    """Base of the loss modules: ``loss_name`` is the LOSSES.md name.

    ``process_group`` (region losses with ``batch=True``): sum the batch statistics over the
    processes of this ``torch.distributed`` group (``torch.distributed.group.WORLD`` for all)
    before the epilogue, so that the loss is that of the whole distributed batch and each
    process's gradient is the exact gradient of it w.r.t. its own logits (docs/torch.md)."""

    loss_name = None

    def __init__(self, process_group=None, **options):
        super().__init__()
        self.options = _options(_from_monai(options))
        _ops.check_options(self.loss_name, self.options)
        if process_group is not None and "batch=true" not in self.options:
            raise ValueError(f"{type(self).__name__}: process_group sums batch statistics: it needs batch=True "
                             "(without batch each image's loss is its own, and no statistics cross processes)")
        self.process_group = process_group

    def forward(self, logits, target, loss_mask=None):
        stream = torch.cuda.current_stream(logits.device).cuda_stream if logits.is_cuda else 0
        if self.process_group is not None:
            return _AllReducedRegionLoss.apply(logits, target, self.loss_name, self.options, loss_mask, stream,
                                               self.process_group)
        return _ops.loss(logits, target, self.loss_name, self.options, loss_mask, stream)

    def extra_repr(self):
        return ", ".join(self.options)


_WORDS = {"ce": "CE", "wce": "WCE", "dpce": "DPCE", "iou": "IoU", "topk": "TopK", "dt": "DT"}


def class_name(loss_name):
    """``generalized_dice`` -> ``GeneralizedDiceLoss``, ``dice_ce`` -> ``DiceCELoss``."""
    return "".join(_WORDS.get(w, w.capitalize()) for w in loss_name.split("_")) + "Loss"


__all__ = ["SeglossLoss", "class_name"]
for _name in _ops.loss_names():
    _cls = type(class_name(_name), (SeglossLoss,), {
        "loss_name": _name,
        "__doc__": f"segloss's `{_name}` loss (docs/losses.md); keyword options by their LOSSES.md names.",
        "__module__": __name__,
    })
    globals()[_cls.__name__] = _cls
    __all__.append(_cls.__name__)
del _name, _cls
