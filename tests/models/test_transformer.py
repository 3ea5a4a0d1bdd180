"""The Transformer encoder (``model.kind: transformer``): its embeddings, positions, pre-norm
blocks and pooling, each checked against the formula written out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from gradwise.config import load_config
from gradwise.errors import ConfigError, DataError
from gradwise.models import build_model
from gradwise.models.transformer import PatchEmbedding, sinusoidal_table


def transformer(shape: tuple[int, ...], outputs: int = 3, **options) -> torch.nn.Module:
    config = load_config({"data": {"source": "x"}, "model": {"kind": "transformer", **options}})
    torch.manual_seed(0)
    return build_model(config.model, shape, outputs).eval()


def test_patches_are_consecutive_steps_of_every_channel_projected():
    torch.manual_seed(0)
    embed = PatchEmbedding(channels=2, length=10, patch_size=4, width=5)
    x = torch.randn(3, 2, 10)
    tokens = embed(x)
    assert tokens.shape == (3, 3, 5)  # ⌈10 / 4⌉ patches, the last one zero-padded
    padded = torch.cat([x, torch.zeros(3, 2, 2)], dim=2)
    for n in range(3):
        patch = padded[:, :, 4 * n : 4 * n + 4].reshape(3, 8)  # channel-major (C·P)
        expected = patch @ embed.project.weight.T + embed.project.bias
        assert torch.allclose(tokens[:, n], expected, atol=1e-6)
    # a (B, L) batch is one channel
    one = PatchEmbedding(channels=1, length=8, patch_size=2, width=4)
    assert torch.equal(one(x[:, 0, :8]), one(x[:, :1, :8]))


def test_the_sinusoidal_table_is_the_formula():
    table = sinusoidal_table(7, 6)
    for n in range(7):
        for i in range(3):
            angle = n / 10000 ** (2 * i / 6)
            assert table[n, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[n, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_feature_tokens_have_a_weight_and_bias_per_feature():
    model = transformer((4,), embedding="feature", d_model=8, heads=2)
    embed = model.tokens.embed
    x = torch.randn(5, 4)
    expected = torch.stack([x[:, f, None] * embed.weight[f] + embed.bias[f] for f in range(4)], 1)
    assert torch.allclose(embed(x), expected)
    assert model(x).shape == (5, 3)
    assert transformer((2, 3, 3), embedding="feature", d_model=8, heads=2)(
        torch.randn(2, 2, 3, 3)
    ).shape == (2, 3)


def manual_block(block: torch.nn.TransformerEncoderLayer, x: torch.Tensor, heads: int):
    """Pre-norm: y = x + Attn(LN₁(x)); out = y + W₂ act(W₁ LN₂(y)), attention written out."""
    batch, tokens, width = x.shape
    h = block.norm1(x)
    q, k, v = (h @ block.self_attn.in_proj_weight.T + block.self_attn.in_proj_bias).chunk(3, -1)

    def split(t: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, heads, T, D/heads)
        return t.reshape(batch, tokens, heads, width // heads).transpose(1, 2)

    q, k, v = split(q), split(k), split(v)
    att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(width // heads), dim=-1)
    mixed = (att @ v).transpose(1, 2).reshape(batch, tokens, width)
    y = x + block.self_attn.out_proj(mixed)
    return y + block.linear2(block.activation(block.linear1(block.norm2(y))))


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_the_forward_pass_is_pre_norm_blocks_then_pooling(pooling: str):
    model = transformer((2, 12), d_model=8, heads=2, layers=2, patch_size=3, pooling=pooling)
    x = torch.randn(4, 2, 12)
    tokens = model.tokens.embed(x)  # (4, 4, 8)
    if pooling == "cls":
        tokens = torch.cat([model.tokens.cls.expand(4, -1, -1), tokens], dim=1)
    tokens = tokens + model.tokens.position
    for block in model.blocks:
        tokens = manual_block(block, tokens, heads=2)
    tokens = model.norm(tokens)
    pooled = tokens[:, 0] if pooling == "cls" else tokens.mean(1)
    with torch.no_grad():
        assert torch.allclose(model(x), model.head(pooled), atol=1e-5)
    assert (model.tokens.cls is not None) == (pooling == "cls")
    assert model.tokens.position.shape == (1, 4 + (pooling == "cls"), 8)


def test_positions_make_the_order_of_patches_matter():
    x = torch.randn(3, 16)
    swapped = torch.cat([x[:, 4:8], x[:, :4], x[:, 8:]], dim=1)  # patches 0 and 1 swapped
    options = {"d_model": 8, "heads": 2, "patch_size": 4, "pooling": "mean"}
    blind = transformer((16,), positional="none", **options)
    with torch.no_grad():
        assert torch.allclose(blind(x), blind(swapped), atol=1e-5)
        for positional in ("learned", "sinusoidal"):
            seeing = transformer((16,), positional=positional, **options)
            assert not torch.allclose(seeing(x), seeing(swapped), atol=1e-3), positional
    # sinusoidal positions are fixed: not parameters, not in the state dict
    sinusoidal = transformer((16,), positional="sinusoidal", **options)
    assert not any("table" in name for name in sinusoidal.state_dict())


def test_shapes_and_settings_it_cannot_take_are_one_line():
    with pytest.raises(DataError, match=r"patch embedding expects sequences shaped"):
        transformer((3, 8, 8))
    with pytest.raises(ConfigError, match=r"d_model \(10\) must be a multiple of heads \(4\)"):
        load_config({"data": {"source": "x"}, "model": {"kind": "transformer", "d_model": 10}})
