# SPDX-License-Identifier: Apache-2.0
"""segloss.torch against plain PyTorch float64 losses (reference.py) and finite differences:
values, gradients through autograd, options (reduction, weight, ignore_index, label smoothing,
include_background, batch, compound parts), target forms and dtypes, loss masks, memory
formats, the upstream gradient, bad input, determinism, and that every loss has its module.
Run under Debian's /usr/bin/python3 with PYTHONPATH=<build>/python (ctest does)."""
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402
from segloss import torch as st  # noqa: E402

torch.manual_seed(0)


def problem(n=2, c=3, spatial=(4, 5, 6), scale=4.0, empty_class=True):
    """Logits in [-scale, scale) and int64 labels; with empty_class the last class is absent in
    image 0 (an empty group), and a thin line of class 1 crosses every image."""
    x = (torch.rand(n, c, *spatial) * 2 - 1) * scale
    y = torch.randint(0, c, (n, *spatial))
    if empty_class:
        y[0][y[0] == c - 1] = 0
    y[(slice(None), 0) + (slice(None),) * (len(spatial) - 1)] = 1
    return x, y


def seg_value_grad(module, x, y, mask=None):
    xs = x.clone().float().requires_grad_()
    v = module(xs, y, mask)
    v.backward()
    return v.detach().double(), xs.grad.double()


def ref_value_grad(fn, x, y, **kw):
    xr = x.clone().double().requires_grad_()
    v = fn(xr, y, **kw)
    v.backward()
    return v.detach(), xr.grad


class Reference(unittest.TestCase):
    def check(self, module, fn, x, y, mask=None, **kw):
        v, g = seg_value_grad(module, x, y, mask)
        if mask is not None:
            kw["mask"] = mask
        rv, rg = ref_value_grad(fn, x, y, **kw)
        self.assertLess(abs(v.item() - rv.item()), 1e-5 * max(1.0, abs(rv.item())), (v.item(), rv.item()))
        err = (g - rg).abs().max().item()
        self.assertLess(err, 1e-6 + 1e-4 * rg.abs().max().item(), f"gradient off by {err}")

    def test_ce_plain_weighted_ignored_smoothed(self):
        x, y = problem()
        self.check(st.CELoss(), reference.ce, x, y)
        w = torch.tensor([0.2, 1.0, 3.0])
        self.check(st.CELoss(weight=w), reference.ce, x, y, weight=w.double())
        y_ign = y.clone()
        y_ign[1, :2] = 7  # ignored voxels
        self.check(st.CELoss(ignore_index=7), reference.ce, x, y_ign, ignore_index=7)
        self.check(st.CELoss(label_smoothing=0.1), reference.ce, x, y, label_smoothing=0.1)
        self.check(st.CELoss(reduction="sum"), reference.ce, x, y, reduction="sum")

    def test_ce_reduction_none_is_the_map(self):
        x, y = problem()
        v = st.CELoss(reduction="none")(x, y)
        self.assertEqual(tuple(v.shape), tuple(y.shape))
        r = reference.ce(x.double(), y, reduction="none")
        self.assertLess((v.double() - r).abs().max().item(), 1e-5)
        # It has no gradient: backward says so instead of returning a wrong one.
        xs = x.clone().requires_grad_()
        with self.assertRaisesRegex(RuntimeError, "reduction=none"):
            st.CELoss(reduction="none")(xs, y).sum().backward()

    def test_dice_options(self):
        x, y = problem()
        self.check(st.DiceLoss(), reference.dice, x, y)
        self.check(st.DiceLoss(include_background=False, batch=True), reference.dice, x, y,
                   include_background=False, batch=True)
        self.check(st.DiceLoss(smooth_nr=0.5, smooth_dr=0.5), reference.dice, x, y, smooth_nr=0.5, smooth_dr=0.5)

    def test_dice_2d_and_1d(self):
        x, y = problem(spatial=(7, 9))
        self.check(st.DiceLoss(), reference.dice, x, y)
        x, y = problem(spatial=(17,))
        self.check(st.DiceLoss(), reference.dice, x, y)

    def test_focal(self):
        x, y = problem()
        self.check(st.FocalLoss(), reference.focal, x, y)
        self.check(st.FocalLoss(gamma=0.5), reference.focal, x, y, gamma=0.5)

    def test_dice_ce_with_part_options(self):
        x, y = problem()
        w = torch.tensor([0.5, 1.0, 2.0])

        def dice_ce(xr, yr):
            return reference.dice(xr, yr, include_background=False) + 0.5 * reference.ce(xr, yr, weight=w.double())

        self.check(st.DiceCELoss(dice={"include_background": False}, ce={"weight": w}, lambda_ce=0.5), dice_ce, x, y)
        # The same options as "part.option" keys.
        self.check(st.DiceCELoss(**{"dice.include_background": False, "ce.weight": w.tolist(), "lambda_ce": 0.5}),
                   dice_ce, x, y)

    def test_loss_mask(self):
        x, y = problem()
        mask = (torch.rand(y.shape) > 0.3).float()
        mask[0, 0, 0, 0] = 0.5  # a fractional weight
        self.check(st.DiceLoss(), reference.dice, x, y, mask=mask)
        # bool and uint8 masks: the same values as their float32 copy.
        binary = mask > 0.6
        v_bool = st.DiceLoss()(x, y, binary)
        v_u8 = st.DiceLoss()(x, y, binary.to(torch.uint8))
        v_f = st.DiceLoss()(x, y, binary.float())
        self.assertEqual(v_bool.item(), v_f.item())
        self.assertEqual(v_u8.item(), v_f.item())


class TargetsAndLayouts(unittest.TestCase):
    def test_target_forms_and_dtypes_agree(self):
        x, y = problem()
        base = st.DiceCELoss()(x, y).item()
        for t in (y.int(), y.to(torch.uint8), y.unsqueeze(1), reference.onehot(y, 3).float()):
            self.assertAlmostEqual(st.DiceCELoss()(x, t).item(), base, places=5)

    def test_channels_last_and_strided_views(self):
        x, y = problem(n=2, c=4, spatial=(6, 5, 4))
        v, g = seg_value_grad(st.DiceLoss(), x, y)
        xl = x.clone().to(memory_format=torch.channels_last_3d).requires_grad_()
        vl = st.DiceLoss()(xl, y)
        vl.backward()
        self.assertFalse(xl.is_contiguous())
        self.assertTrue(xl.grad.is_contiguous(memory_format=torch.channels_last_3d))
        self.assertAlmostEqual(vl.item(), v.item(), places=6)
        self.assertLess((xl.grad.double() - g).abs().max().item(), 1e-7)
        # A view of every other voxel along W (a non-unit innermost stride).
        big = torch.randn(2, 4, 6, 5, 8)
        view = big[..., ::2]
        self.assertAlmostEqual(st.DiceLoss()(view, y).item(), st.DiceLoss()(view.contiguous(), y).item(), places=6)

    def test_half_logits(self):
        x, y = problem()
        for dtype in (torch.float16, torch.bfloat16):
            xh = x.to(dtype).requires_grad_()
            v = st.CELoss()(xh, y)
            v.backward()
            self.assertEqual(xh.grad.dtype, dtype)
            ref = reference.ce(xh.detach().double(), y).item()
            self.assertAlmostEqual(v.item(), ref, places=4)


class Gradients(unittest.TestCase):
    def test_finite_differences_float32(self):
        """Central differences of the float32 op (h = 1e-2) at 12 random logits per loss: the
        gradient agrees to 2e-3 of its largest entry (truncation and float32 rounding of the
        value bound the difference quotient's error)."""
        x, y = problem(n=1, c=3, spatial=(3, 4, 5), scale=2.0)
        for module in (st.CELoss(), st.DiceLoss(include_background=False), st.FocalLoss(), st.DiceCELoss(),
                       st.TverskyLoss(), st.GeneralizedDiceLoss(), st.ExpLogLoss()):
            _, g = seg_value_grad(module, x, y)
            flat = x.flatten()
            gen = torch.Generator().manual_seed(1)
            for i in torch.randint(0, flat.numel(), (12,), generator=gen).tolist():
                h = 1e-2
                xp, xm = flat.clone(), flat.clone()
                xp[i] += h
                xm[i] -= h
                fd = (module(xp.view_as(x), y).double() - module(xm.view_as(x), y).double()) / (2 * h)
                tol = 2e-3 * g.abs().max().item()
                self.assertLess(abs(fd.item() - g.flatten()[i].item()), tol, f"{module.loss_name} at {i}")

    def test_upstream_gradient_scales(self):
        x, y = problem()
        _, g = seg_value_grad(st.DiceCELoss(), x, y)
        xs = x.clone().requires_grad_()
        (3.0 * st.DiceCELoss()(xs, y)).backward()
        self.assertLess((xs.grad.double() - 3 * g).abs().max().item(), 1e-6)

    def test_gradients_held_by_the_caller_are_never_reused(self):
        """The op keeps its last CPU gradient for reuse: one the caller still holds (or a view
        of it) must not be overwritten by the next call; one dropped may be."""
        x, y = problem()
        y2 = torch.roll(y, 1, dims=-1)
        xs = x.clone().requires_grad_()
        g1 = torch.autograd.grad(st.DiceLoss()(xs, y), xs)[0]
        kept = g1.clone()
        view = g1[0]
        g2 = torch.autograd.grad(st.DiceLoss()(xs, y2), xs)[0]
        self.assertTrue(torch.equal(g1, kept))
        self.assertNotEqual(g1.data_ptr(), g2.data_ptr())
        del g1
        g3 = torch.autograd.grad(st.DiceLoss()(xs, y), xs)[0]
        self.assertTrue(torch.equal(view, kept[0]))  # the view keeps the storage: not reused
        self.assertTrue(torch.equal(g3, kept))
        # Two losses on the same logits before one backward (deep supervision).
        total = st.DiceLoss()(xs, y) + st.DiceLoss()(xs, y2)
        g = torch.autograd.grad(total, xs)[0]
        self.assertLess((g - kept - g2).abs().max().item(), 1e-7)

    def test_no_grad_and_inference_mode(self):
        x, y = problem()
        ref = st.DiceLoss()(x, y).item()
        with torch.no_grad():
            self.assertEqual(st.DiceLoss()(x.requires_grad_(), y).item(), ref)
        with torch.inference_mode():
            self.assertEqual(st.DiceLoss()(x.detach(), y).item(), ref)


class Behaviour(unittest.TestCase):
    def test_every_loss_has_a_module(self):
        names = torch.ops.segloss.loss_names()
        self.assertEqual(len(names), 24)
        for name in names:
            cls = getattr(st, st.class_name(name))
            self.assertEqual(cls.loss_name, name)
        self.assertIs(st.CELoss, getattr(st, "CELoss"))
        self.assertEqual(st.class_name("generalized_dice"), "GeneralizedDiceLoss")
        self.assertEqual(st.class_name("dice_ce"), "DiceCELoss")

    def test_every_loss_runs_forward_and_backward(self):
        x, y = problem(n=2, c=3, spatial=(5, 6, 7))
        opts = {"wce": {"class_weights": "inverse_frequency"}, "combo": {"activation": "sigmoid"}}
        for name in torch.ops.segloss.loss_names():
            module = getattr(st, st.class_name(name))(**opts.get(name, {}))
            target = reference.onehot(y, 3).float() if name == "combo" else y
            xs = x.clone().requires_grad_()
            v = module(xs, target)
            v.backward()
            self.assertTrue(torch.isfinite(v).item(), name)
            self.assertTrue(torch.isfinite(xs.grad).all().item(), name)
            self.assertGreater(xs.grad.abs().sum().item(), 0, name)

    def test_bad_input_raises_with_the_argument_named(self):
        x, y = problem()
        with self.assertRaisesRegex(RuntimeError, "unknown option 'gama'"):
            st.FocalLoss(gama=2)
        with self.assertRaisesRegex(RuntimeError, "expected name=value"):
            torch.ops.segloss.check_options("focal", ["gamma2"])
        with self.assertRaisesRegex(RuntimeError, "gamma"):
            st.FocalLoss(gamma=-1)(x, y)
        bad = y.clone()
        bad[0, 0, 0, 0] = 5
        with self.assertRaisesRegex(RuntimeError, "INVALID_LABEL"):
            st.DiceLoss()(x, bad)
        with self.assertRaisesRegex(RuntimeError, "INVALID_SHAPE"):
            st.DiceLoss()(x, y[:, :3])
        with self.assertRaisesRegex(RuntimeError, "logits has dtype"):
            st.DiceLoss()(x.to(torch.complex64), y)
        # The library's statuses through the operator, the argument named.
        op = torch.ops.segloss.loss
        with self.assertRaisesRegex(RuntimeError, "unknown loss 'dcie'"):
            op(x, y, "dcie", [])
        with self.assertRaisesRegex(RuntimeError, "INVALID_LABEL"):
            op(x, y - 1, "ce", [])  # -1 is no class and no ignore_index
        self.assertTrue(torch.isfinite(op(x, y.masked_fill(y == 0, -1), "ce", ["ignore_index=-1"])).all())
        with self.assertRaisesRegex(RuntimeError, "INVALID_SHAPE.*loss_mask"):
            op(x, y, "dice", [], torch.ones(2, 4, 5, 7))
        with self.assertRaisesRegex(RuntimeError, "INVALID_ARGUMENT.*loss_mask"):
            op(x, y, "dice", [], torch.full((2, 4, 5, 6), 2.0))
        with self.assertRaisesRegex(RuntimeError, "INVALID_ARGUMENT.*k must be in"):
            op(x, y, "topk", ["k=0"])
        with self.assertRaisesRegex(RuntimeError, "INVALID_ARGUMENT.*spacing"):
            op(x, y, "boundary", ["spacing=1,-1,1"])
        nan = x.clone()
        nan[0, 0, 0, 0, 0] = float("nan")
        self.assertTrue(torch.isnan(op(nan, y, "dice", [])).all())
        with self.assertRaisesRegex(RuntimeError, "NONFINITE"):
            op(nan, y, "dice", ["check_finite=true"])
        with self.assertRaisesRegex(RuntimeError, "INVALID_LABEL"):
            op(x, torch.rand(2, 3, 4, 5, 6) * 3, "dice", ["check_inputs=true"])  # soft targets beyond 1

    def test_monai_arguments(self):
        """MONAI's DiceLoss(to_onehot_y=True, softmax=True) on an N,1,spatial target: the same
        as segloss's defaults; sigmoid=True is the sigmoid; both False read probabilities."""
        x, y = problem()
        base = st.DiceLoss()(x, y).item()
        self.assertEqual(st.DiceLoss(to_onehot_y=True, softmax=True)(x, y.unsqueeze(1)).item(), base)
        self.assertEqual(st.DiceLoss(sigmoid=True)(x, y).item(), st.DiceLoss(activation="sigmoid")(x, y).item())
        p = torch.softmax(x, 1)
        self.assertAlmostEqual(st.DiceLoss(softmax=False, sigmoid=False)(p, y).item(), base, places=6)
        with self.assertRaises(ValueError):
            st.DiceLoss(softmax=True, activation="softmax")

    def test_deterministic_across_runs_and_threads(self):
        x, y = problem(n=2, c=4, spatial=(16, 16, 16))
        torch.use_deterministic_algorithms(True)
        try:
            results = []
            for threads in (1, 2, 1):
                torch.set_num_threads(threads)
                v, g = seg_value_grad(st.DiceCELoss(), x, y)
                results.append((v, g))
        finally:
            torch.use_deterministic_algorithms(False)
            torch.set_num_threads(2)
        for v, g in results[1:]:
            self.assertEqual(v.item(), results[0][0].item())
            self.assertTrue(torch.equal(g, results[0][1]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
