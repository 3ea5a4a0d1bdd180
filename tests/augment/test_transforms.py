"""Each augmentation against an exact reference: shapes, values, probabilities, seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gradwise.augment.compose import AugmentContext, Compose, build_batch_transforms
from gradwise.augment.options import AUGMENT_OPTIONS
from gradwise.augment.registry import AUGMENTATIONS, BatchAugmentation, per_position
from gradwise.errors import ConfigError

KIND_OF = {"signal": (1, 32), "image": (1, 12, 12), "tabular": (6,)}


def build(entry, kind: str = "signal", seed: int = 0, **context):
    shape = KIND_OF[kind]
    generator = torch.Generator().manual_seed(seed)
    defaults = {"n_classes": 3, "output_dim": 3, "input_kind": kind, "feature_shape": shape}
    ctx = AugmentContext(generator=generator, **{**defaults, **context})
    (transform,) = build_batch_transforms([entry], ctx)
    return transform


def batch(kind: str = "signal", n: int = 64, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn((n, *KIND_OF[kind]), generator=gen)
    y = torch.randint(0, 3, (n,), generator=gen)
    return x, y


def test_every_option_table_has_a_registered_augmentation():
    assert set(AUGMENTATIONS.names()) == set(AUGMENT_OPTIONS)


@pytest.mark.parametrize("name", sorted(AUGMENT_OPTIONS))
def test_contract_shape_dtype_seed_and_p_zero(name: str):
    """Every augmentation keeps shapes, is a function of the seed, and p=0 is the identity."""
    kind = next(k for k in ("signal", "image", "tabular") if k in AUGMENT_OPTIONS[name].inputs)
    x, y = batch(kind)
    first = build({name: {}}, kind, seed=3)(x, y)
    again = build({name: {}}, kind, seed=3)(x, y)
    assert first[0].shape == x.shape and first[0].dtype == x.dtype
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    other = build({name: {}}, kind, seed=4)(x, y)
    assert not torch.equal(first[0], other[0])
    x0, y0 = build({name: {"p": 0.0}}, kind)(x, y)
    assert torch.equal(x0, x) and torch.equal(y0, y)


def test_p_chooses_about_that_share_of_samples():
    x, y = batch("tabular", n=4000)
    out, _ = build({"gaussian_noise": {"sigma": 1.0, "p": 0.3}}, "tabular")(x, y)
    changed = (out != x).any(dim=1).float().mean().item()
    assert abs(changed - 0.3) < 0.03
    untouched = (out == x).all(dim=1) | (out != x).all(dim=1)
    assert untouched.all()  # a sample is augmented whole or not at all


# ------------------------------------------------------------------------------------ noise
def test_gaussian_noise_has_sigma():
    x = torch.zeros(2000, 50)
    out, _ = build({"gaussian_noise": 0.3}, "tabular", feature_shape=(50,))(x, x[:, 0])
    assert abs(out.mean().item()) < 0.01 and abs(out.std().item() - 0.3) < 0.01


def test_uniform_noise_bounds_and_variance():
    x = torch.zeros(2000, 50)
    out, _ = build({"uniform_noise": 0.5}, "tabular", feature_shape=(50,))(x, x[:, 0])
    assert out.abs().max().item() <= 0.5
    assert abs(out.var().item() - 0.5**2 / 3) < 0.003  # Var U(-a, a) = a²/3


def test_dropout_noise_zeroes_a_share_without_rescaling():
    x = torch.ones(1000, 40)
    out, _ = build({"dropout_noise": 0.25}, "tabular", feature_shape=(40,))(x, x[:, 0])
    assert set(out.unique().tolist()) == {0.0, 1.0}
    assert abs((out == 0).float().mean().item() - 0.25) < 0.01


def test_multiplicative_noise_scales_each_input():
    x = torch.full((1000, 40), 2.0)
    out, _ = build({"multiplicative_noise": 0.2}, "tabular", feature_shape=(40,))(x, x[:, 0])
    ratio = out / x
    assert abs(ratio.mean().item() - 1) < 0.01 and abs(ratio.std().item() - 0.2) < 0.01


@pytest.mark.parametrize(
    ("name", "draw", "formula"),
    [
        ("gaussian_noise", torch.randn, lambda x, e: x + 0.1 * e),
        ("uniform_noise", torch.rand, lambda x, u: x + (2 * u - 1) * 0.1),
        ("dropout_noise", torch.rand, lambda x, u: x * (u >= 0.1)),
        ("multiplicative_noise", torch.randn, lambda x, e: x * (1 + 0.1 * e)),
    ],
)
def test_noise_draws_from_the_run_generator(name, draw, formula, monkeypatch):
    """Each noise is its formula on one draw of the seeded generator, via the base helpers."""
    calls = []
    for helper in ("uniform", "normal"):
        original = getattr(BatchAugmentation, helper)

        def spy(self, *shape, device, original=original, helper=helper):
            calls.append(helper)
            return original(self, *shape, device=device)

        monkeypatch.setattr(BatchAugmentation, helper, spy)
    x, y = batch("tabular")
    out, _ = build({name: 0.1}, "tabular", seed=7)(x, y)
    expected = formula(x, draw(x.shape, generator=torch.Generator().manual_seed(7)))
    assert torch.equal(out, expected)
    assert calls == ["normal" if draw is torch.randn else "uniform"]


def test_per_position_broadcasts_a_mask_over_the_channels():
    images = torch.zeros(4, 3, 2, 5, 6)  # (B, *C, H, W)
    assert per_position(torch.ones(4, 5, 6), images).shape == (4, 1, 1, 5, 6)
    assert per_position(torch.ones(4, 6), images).shape == (4, 1, 1, 1, 6)
    assert per_position(torch.ones(4, 6), torch.zeros(4, 6)).shape == (4, 6)
    signals = torch.ones(4, 3, 6)  # (B, C, L)
    mask = torch.rand(4, 6) > 0.5  # (B, L)
    masked = signals * per_position(mask, signals)
    assert torch.equal(masked, mask[:, None, :].expand(4, 3, 6).float())


def test_scale_uses_one_factor_per_sample():
    x, y = batch("signal")
    out, _ = build({"scale": 0.2})(x, y)
    ratio = out / x  # (B, 1, L): constant along each sample
    assert torch.allclose(ratio, ratio[..., :1].expand_as(ratio), atol=1e-5)
    assert ratio.min() >= 0.8 - 1e-6 and ratio.max() <= 1.2 + 1e-6


# ----------------------------------------------------------------------------------- signal
def test_circular_shift_is_a_per_sample_roll():
    x, y = batch("signal")
    out, _ = build({"shift": {"max": 5}})(x, y)
    for i in range(len(x)):  # the oracle: some roll in [-5, 5] per sample
        assert any(torch.equal(out[i], torch.roll(x[i], s, dims=-1)) for s in range(-5, 6))


def test_zero_shift_fills_with_zeros():
    x = torch.arange(1, 33, dtype=torch.float32).repeat(64, 1, 1)  # (64, 1, 32), no zeros
    out, _ = build({"shift": {"max": 5, "mode": "zeros"}})(x, x[:, 0, 0].long())
    for row in out[:, 0]:
        zeros = (row == 0).sum().item()
        kept = row[row != 0]
        assert zeros <= 5 and torch.equal(kept, torch.arange(kept[0], kept[0] + len(kept)))
        assert zeros == 0 or row[0] == 0 or row[-1] == 0


def test_stretch_resamples_about_the_centre_like_numpy_interp():
    x, y = batch("signal")
    out, _ = build({"stretch": 0.3}, seed=7)(x, y)
    u = torch.rand(len(x), generator=torch.Generator().manual_seed(7))  # the factors drawn
    factors = 1 + (2 * u - 1) * 0.3
    steps = np.arange(32)
    for i, factor in enumerate(factors.tolist()):
        position = 15.5 + (steps - 15.5) / factor
        expected = np.interp(position, steps, x[i, 0].numpy())  # edge values beyond the ends
        np.testing.assert_allclose(out[i, 0].numpy(), expected, atol=1e-5)


def test_time_mask_zeroes_one_window_up_to_width():
    x = torch.ones(200, 1, 32)
    out, _ = build({"time_mask": {"width": 6}})(x, torch.zeros(200, dtype=torch.long))
    for row in out[:, 0]:
        zero_at = torch.nonzero(row == 0).flatten()
        assert len(zero_at) <= 6
        if len(zero_at):
            assert zero_at[-1] - zero_at[0] + 1 == len(zero_at)  # contiguous


# ------------------------------------------------------------------------------------ image
def test_hflip_mirrors_the_chosen_images():
    x, y = batch("image")
    out, _ = build({"hflip": 0.5}, "image")(x, y)
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    same = (out == x).flatten(1).all(1)
    assert (flipped | same).all() and 10 < flipped.sum() < 54


def test_crop_is_a_window_of_the_padded_image():
    x, y = batch("image")
    out, _ = build({"crop": {"padding": 2}}, "image")(x, y)
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(8):
        windows = [padded[i, :, r : r + 12, c : c + 12] for r in range(5) for c in range(5)]
        assert any(torch.equal(out[i], w) for w in windows)


def test_affine_without_rotation_or_translation_is_identity():
    x, y = batch("image")
    out, _ = build({"affine": {"degrees": 0, "translate": 0}}, "image")(x, y)
    assert torch.allclose(out, x, atol=1e-5)


def test_affine_quarter_turn_rotates_a_square_image():
    x, y = batch("image", n=4)
    out, _ = build({"affine": {"degrees": 90, "translate": 0}}, "image")(x, y)
    # bilinear sampling of a rotation by θ ~ U(-90°, 90°) keeps the image's mass near centre
    assert out.shape == x.shape and torch.isfinite(out).all()
    generator = torch.Generator().manual_seed(0)
    angle = (2 * torch.rand(4, generator=generator) - 1) * math.radians(90)
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack(
        [torch.stack([cos, -sin, 0 * cos], -1), torch.stack([sin, cos, 0 * cos], -1)], 1
    )
    grid = F.affine_grid(theta, [4, 1, 12, 12], align_corners=False)
    expected = F.grid_sample(x, grid, align_corners=False)
    assert torch.allclose(out, expected, atol=1e-5)


def quarter_turn(height: int, width: int, channels: int = 2):
    """A ``degrees: 90`` affine with θ forced to +90° (the largest angle it can draw)."""
    context = {"feature_shape": (channels, height, width)}
    transform = build({"affine": {"degrees": 90, "translate": 0}}, "image", **context)
    transform.uniform = lambda *shape, device: torch.ones(shape, device=device)
    return transform


def test_affine_quarter_turn_keeps_a_bar_on_a_non_square_image_rigid():
    height, width = 16, 32
    image = torch.zeros(1, 2, height, width)
    image[..., 7:9, 12:20] = 1  # a 2×8 bar at the centre
    out, _ = quarter_turn(height, width)(image, torch.zeros(1))
    lit = out[0, 0] > 0.5
    assert lit.any(1).sum() == 8 and lit.any(0).sum() == 2  # 8 rows × 2 columns
    assert torch.equal(out[:, 1], out[:, 0])
    assert torch.allclose(out.sum(), image.sum(), atol=1e-3)  # no stretching


def test_affine_quarter_turn_of_a_non_square_image_is_rot90_of_its_centre():
    """A 90° turn about the centre maps the central H×H square onto itself: torch.rot90."""
    height, width = 12, 20
    square = torch.randn(3, 2, height, height)
    image = torch.zeros(3, 2, height, width)
    left = (width - height) // 2
    image[..., left : left + height] = square
    out, _ = quarter_turn(height, width)(image, torch.zeros(3))
    expected = torch.zeros_like(image)
    expected[..., left : left + height] = torch.rot90(square, 1, dims=(-2, -1))
    assert torch.allclose(out, expected, atol=1e-5)


def test_crop_reflect_padding_must_be_smaller_than_the_image():
    shape = {"feature_shape": (3, 16, 24)}
    expected = r"data\.augment\[0\]\.crop\.padding: fill: reflect needs padding < min\(H, W\) = 16"
    with pytest.raises(ConfigError, match=expected):
        build({"crop": {"padding": 16, "fill": "reflect"}}, "image", **shape)
    x = torch.randn(4, 3, 16, 24)
    for fill, padding in (("reflect", 15), ("replicate", 20), ("zeros", 20)):
        out, _ = build({"crop": {"padding": padding, "fill": fill}}, "image", **shape)(x, x[:, 0])
        assert out.shape == x.shape


def test_cutout_zeroes_a_clipped_square():
    x = torch.ones(300, 1, 12, 12)
    out, _ = build({"cutout": 4}, "image")(x, torch.zeros(300, dtype=torch.long))
    zeros = (out == 0).flatten(1).sum(1)
    assert zeros.max() == 16 and zeros.min() >= 4  # 4×4 inside, at least 2×2 at a corner
    for image in out[:20, 0]:
        rows = torch.nonzero((image == 0).any(1)).flatten()
        cols = torch.nonzero((image == 0).any(0)).flatten()
        assert (image == 0).sum() == len(rows) * len(cols)  # a rectangle


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("entry", "kind", "expected"),
    [
        ({"shift": 4}, "tabular", "data.augment[0].shift: works on signal inputs"),
        ({"hflip": 0.5}, "signal", "data.augment[0].hflip: works on image inputs"),
        ({"cutout": 4}, "tabular", "data.augment[0].cutout: works on image inputs"),
    ],
)
def test_augmentation_that_does_not_fit_the_inputs(entry, kind, expected):
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        build(entry, kind)


def test_compose_applies_in_order():
    x, y = batch("signal")
    shift = build({"shift": {"max": 3}}, seed=5)
    noise = build({"gaussian_noise": 0.1}, seed=6)
    composed, _ = Compose([shift, noise])(x, y)
    expected, _ = build({"gaussian_noise": 0.1}, seed=6)(
        build({"shift": {"max": 3}}, seed=5)(x, y)[0], y
    )
    assert torch.equal(composed, expected)
