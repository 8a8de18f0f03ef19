"""Sequence blocks compute what torch computes, with the output the block promises."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import blocks

torch.set_num_threads(1)


def build(name, in_shapes, **given):
    spec = blocks.get(name)
    return spec.make(in_shapes, spec.coerce_params(given))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layer_is_torch_layer_batch_first(kind):
    torch.manual_seed(0)
    layer = build(kind, {"in": (6, 4)}, hidden_size=5, num_layers=2).eval()
    plain = getattr(nn, kind)(4, 5, num_layers=2, batch_first=True).eval()
    plain.load_state_dict(layer.state_dict())  # same parameter names as torch's own layer
    x = torch.randn(3, 6, 4)
    assert torch.equal(layer(x), plain(x)[0])


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_last_output_is_final_step_of_sequence(kind):
    torch.manual_seed(0)
    seq = build(kind, {"in": (6, 4)}, hidden_size=5).eval()
    last = build(kind, {"in": (6, 4)}, hidden_size=5, output="last").eval()
    last.load_state_dict(seq.state_dict())
    x = torch.randn(3, 6, 4)
    torch.testing.assert_close(last(x), seq(x)[:, -1])


def test_bidirectional_last_takes_each_direction_at_its_end():
    # Forward ends at the last step; backward ends at the first step.
    torch.manual_seed(0)
    seq = build("LSTM", {"in": (6, 4)}, hidden_size=5, bidirectional=True).eval()
    last = build("LSTM", {"in": (6, 4)}, hidden_size=5, bidirectional=True, output="last").eval()
    last.load_state_dict(seq.state_dict())
    x = torch.randn(3, 6, 4)
    full = seq(x)
    torch.testing.assert_close(last(x), torch.cat((full[:, -1, :5], full[:, 0, 5:]), dim=-1))


def test_dropout_with_one_layer_builds_without_warning(recwarn):
    build("GRU", {"in": (6, 4)}, dropout=0.5)
    assert [str(w.message) for w in recwarn] == []


def test_embedding_looks_up_rows_and_keeps_padding_zero():
    torch.manual_seed(0)
    emb = build("Embedding", {"in": (4,)}, num_embeddings=10, embedding_dim=3, padding_idx=0)
    tokens = torch.tensor([[0, 3, 3, 9]])
    out = emb(tokens)
    assert torch.equal(out[0, 1], emb.weight[3])
    assert torch.equal(out[0, 0], torch.zeros(3))
    out.sum().backward()
    assert torch.equal(emb.weight.grad[0], torch.zeros(3))
    assert torch.equal(emb.weight.grad[3], torch.full((3,), 2.0))


@pytest.mark.parametrize("d", [8, 7])
def test_positional_encoding_adds_sines_and_cosines(d):
    pe = build("PositionalEncoding", {"in": (5, d)}, dropout=0.0, max_len=50).eval()
    x = torch.randn(2, 5, d)
    added = pe(x) - x
    for pos in (0, 1, 4):
        for i in range(0, d, 2):
            angle = pos / 10000 ** (i / d)
            assert added[1, pos, i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            if i + 1 < d:
                assert added[1, pos, i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)
    assert list(pe.parameters()) == []
    assert "pe" not in pe.state_dict()  # a pure function of the sizes, so not saved


def test_self_attention_matches_torch_multihead_attention():
    torch.manual_seed(0)
    attn = build("MultiheadAttention", {"in": (6, 8)}, num_heads=2).eval()
    plain = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    plain.load_state_dict(attn.state_dict())
    x = torch.randn(3, 6, 8)
    torch.testing.assert_close(attn(x), plain(x, x, x, need_weights=False)[0])


def test_causal_attention_does_not_see_the_future():
    torch.manual_seed(0)
    causal = build("MultiheadAttention", {"in": (6, 8)}, num_heads=2, causal=True).eval()
    full = build("MultiheadAttention", {"in": (6, 8)}, num_heads=2).eval()
    full.load_state_dict(causal.state_dict())
    x = torch.randn(2, 6, 8)
    later = x.clone()
    later[:, 4:] += 5.0
    torch.testing.assert_close(causal(later)[:, :4], causal(x)[:, :4])
    assert not torch.allclose(full(later)[:, :4], full(x)[:, :4])
    # the first position can only attend to itself: softmax over one score is 1
    torch.testing.assert_close(causal(x)[:, 0], full(x[:, :1])[:, 0])


def test_transformer_encoder_layer_is_torch_layer():
    layer = build("TransformerEncoderLayer", {"in": (6, 8)}, nhead=4, dim_feedforward=16, activation="gelu",
                  norm_first=True)
    assert isinstance(layer, nn.TransformerEncoderLayer)
    assert layer.self_attn.batch_first and layer.norm_first
    assert layer.linear1.in_features == 8 and layer.linear1.out_features == 16


def test_cross_attention_takes_keys_and_values_from_the_context():
    torch.manual_seed(0)
    spec = blocks.get("MultiheadAttention")
    assert [p.name for p in spec.input_ports(spec.coerce_params({}))] == ["in"]
    assert [p.name for p in spec.input_ports(spec.coerce_params({"cross": True}))] == ["in", "context"]
    attn = build("MultiheadAttention", {"in": (6, 8), "context": (9, 8)}, num_heads=2, cross=True).eval()
    plain = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    plain.load_state_dict(attn.state_dict())  # the same keys with or without cross
    x, context = torch.randn(3, 6, 8), torch.randn(3, 9, 8)
    out = attn(x, context)
    assert out.shape == (3, 6, 8)
    torch.testing.assert_close(out, plain(x, context, context, need_weights=False)[0])
    assert not torch.allclose(out, attn(x, x + 1.0))


def test_self_attention_state_dict_keys_are_unchanged_by_cross():
    old = build("MultiheadAttention", {"in": (6, 8)})
    new = build("MultiheadAttention", {"in": (6, 8), "context": (3, 8)}, cross=True)
    assert list(old.state_dict()) == list(new.state_dict()) == list(nn.MultiheadAttention(8, 2).state_dict())
    assert "cross" not in repr(old) and "cross=True" in repr(new)


def test_causal_cross_attention_sees_context_up_to_its_own_position():
    torch.manual_seed(0)
    attn = build("MultiheadAttention", {"in": (4, 8), "context": (6, 8)}, cross=True, causal=True).eval()
    x, context = torch.randn(2, 4, 8), torch.randn(2, 6, 8)
    later = context.clone()
    later[:, 2:] += 5.0  # positions 0 and 1 look at context 0..1 only
    torch.testing.assert_close(attn(x, later)[:, :2], attn(x, context)[:, :2])
    assert not torch.allclose(attn(x, later)[:, 2:], attn(x, context)[:, 2:])


@pytest.mark.parametrize("causal", [False, True])
def test_decoder_layer_is_torch_decoder_layer(causal):
    torch.manual_seed(0)
    layer = build("TransformerDecoderLayer", {"tgt": (5, 8), "memory": (7, 8)}, nhead=4, dim_feedforward=16,
                  causal=causal).eval()
    assert isinstance(layer, nn.TransformerDecoderLayer)
    plain = nn.TransformerDecoderLayer(8, 4, dim_feedforward=16, batch_first=True).eval()
    assert list(layer.state_dict()) == list(plain.state_dict())
    plain.load_state_dict(layer.state_dict())
    tgt, memory = torch.randn(3, 5, 8), torch.randn(3, 7, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(5) if causal else None
    torch.testing.assert_close(layer(tgt, memory), plain(tgt, memory, tgt_mask=mask))


def test_causal_decoder_does_not_see_later_targets_but_sees_all_memory():
    torch.manual_seed(0)
    layer = build("TransformerDecoderLayer", {"tgt": (6, 8), "memory": (4, 8)}, causal=True, dropout=0.0).eval()
    tgt, memory = torch.randn(2, 6, 8), torch.randn(2, 4, 8)
    later = tgt.clone()
    later[:, 3:] += 5.0
    torch.testing.assert_close(layer(later, memory)[:, :3], layer(tgt, memory)[:, :3])
    moved = memory.clone()
    moved[:, -1] += 5.0
    assert not torch.allclose(layer(tgt, moved)[:, 0], layer(tgt, memory)[:, 0])
