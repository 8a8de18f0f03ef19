"""The few modules torch.nn lacks, written here in plain torch.

Compiled graphs refer to these by import path, so they are public and stable.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class _HeavisideSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Heaviside(nn.Module):
    """The perceptron's step, y = 1 if x > 0 else 0.

    Its true derivative is zero everywhere, so backpropagation passes the
    gradient straight through, which trains a single perceptron much like the
    classic perceptron rule.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _HeavisideSTE.apply(x)


# ---- sequences ---------------------------------------------------------------
# Shapes exclude the batch, so a sequence sample is [L, F] and every recurrent
# layer runs batch-first. Subclassing keeps torch's parameter names
# (weight_ih_l0, ...), so checkpoints and exported code read like plain torch.

_RNN_OUTPUTS = ("sequence", "last")


def _select(output: str, bidirectional: bool, seq: torch.Tensor, h_n: torch.Tensor) -> torch.Tensor:
    if output == "sequence":
        return seq
    if not bidirectional:
        return h_n[-1]
    # The backward direction ends at t = 0, so its final state is not at seq[:, -1]:
    # take each direction's final state from h_n (last layer), forward first as in seq.
    return torch.cat((h_n[-2], h_n[-1]), dim=-1)


def _check_output(output: str) -> str:
    if output not in _RNN_OUTPUTS:
        raise ValueError(f"output must be one of {_RNN_OUTPUTS}, got {output!r}")
    return output


class _ChosenOutput:
    """What the three recurrent layers share: batch-first input, and ``output`` picking the whole
    sequence or the final state (an LSTM's state is (h, c): its h is the one)."""

    output: str
    bidirectional: bool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq, state = super().forward(x)
        h_n = state[0] if isinstance(state, tuple) else state
        return _select(self.output, self.bidirectional, seq, h_n)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, output={self.output!r}"


class RNNLayer(_ChosenOutput, nn.RNN):
    """Elman RNN over [B, L, F]; ``output`` "sequence" gives [B, L, H*dirs], "last" the final state [B, H*dirs]."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, dropout: float = 0.0, bidirectional: bool = False,
                 output: str = "sequence", **factory) -> None:
        super().__init__(input_size, hidden_size, num_layers, nonlinearity=nonlinearity, bias=bias,
                         batch_first=True, dropout=dropout, bidirectional=bidirectional, **factory)
        self.output = _check_output(output)


class LSTMLayer(_ChosenOutput, nn.LSTM):
    """LSTM over [B, L, F]; ``output`` "sequence" gives [B, L, H*dirs], "last" the final hidden state [B, H*dirs]."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False, output: str = "sequence", **factory) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias=bias, batch_first=True,
                         dropout=dropout, bidirectional=bidirectional, **factory)
        self.output = _check_output(output)


class GRULayer(_ChosenOutput, nn.GRU):
    """GRU over [B, L, F]; ``output`` "sequence" gives [B, L, H*dirs], "last" the final hidden state [B, H*dirs]."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False, output: str = "sequence", **factory) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias=bias, batch_first=True,
                         dropout=dropout, bidirectional=bidirectional, **factory)
        self.output = _check_output(output)


class PositionalEncoding(nn.Module):
    """Adds the sinusoidal position code of "Attention Is All You Need" to [B, L, D], then dropout.

    PE[pos, 2i] = sin(pos / 10000^(2i/D)), PE[pos, 2i+1] = cos(pos / 10000^(2i/D)).
    """

    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000) -> None:
        super().__init__()
        self.d_model = d_model
        self.max_len = max_len
        self.dropout = nn.Dropout(dropout)
        position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
        rate = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32)
                         * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * rate)
        pe[:, 1::2] = torch.cos(position * rate[: d_model // 2])
        # Not persistent: it is a pure function of (max_len, d_model), so checkpoints stay small.
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x + self.pe[: x.size(-2)].to(x.dtype))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"


def _causal_mask(rows: int, columns: int, device: torch.device) -> torch.Tensor:
    """True where a query may not look: every key after its own position."""
    return torch.ones(rows, columns, dtype=torch.bool, device=device).triu(1)


class SelfAttention(nn.MultiheadAttention):
    """Multi-head attention over [B, L, E]: softmax(Q K^T / sqrt(d_head)) V per head, then out_proj.

    Queries come from x; keys and values from x too (self-attention), or with
    ``cross`` from a second input, the context [B, S, E]. With ``causal`` a
    position attends only to itself and earlier positions.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 causal: bool = False, cross: bool = False, **factory) -> None:
        super().__init__(embed_dim, num_heads, dropout=dropout, bias=bias, batch_first=True, **factory)
        self.causal = causal
        self.cross = cross

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        memory = x if context is None else context
        mask = _causal_mask(x.size(-2), memory.size(-2), x.device) if self.causal else None
        out, _ = super().forward(x, memory, memory, attn_mask=mask, need_weights=False)
        return out

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
                f"causal={self.causal}" + (", cross=True" if self.cross else ""))


class DecoderLayer(nn.TransformerDecoderLayer):
    """torch's transformer decoder layer, batch-first, taking (tgt [B, L, d_model], memory [B, S, d_model]).

    tgt = tgt + SelfAttention(tgt); tgt = tgt + CrossAttention(tgt, memory); tgt = tgt + FeedForward(tgt),
    each with LayerNorm. With ``causal`` a target position attends only to itself and earlier ones.
    A subclass, so its state_dict keys are nn.TransformerDecoderLayer's.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str = "relu", layer_norm_eps: float = 1e-5, norm_first: bool = False,
                 bias: bool = True, causal: bool = False, **factory) -> None:
        super().__init__(d_model, nhead, dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                         layer_norm_eps=layer_norm_eps, batch_first=True, norm_first=norm_first, bias=bias,
                         **factory)
        self.causal = causal

    def forward(self, tgt: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        n = tgt.size(-2)
        mask = _causal_mask(n, n, tgt.device) if self.causal else None
        return super().forward(tgt, memory, tgt_mask=mask)

    def extra_repr(self) -> str:
        return f"causal={self.causal}"


# ---- graphs ------------------------------------------------------------------
# One graph is one sample: node features x [B, N, F] and a dense adjacency
# adj [B, N, N] where adj[i, j] != 0 means node i receives a message from node j.


def _with_self_loops(adj: torch.Tensor) -> torch.Tensor:
    # Adds a loop of weight 1 only where a node has none, keeping existing loop weights.
    diag = adj.diagonal(dim1=-2, dim2=-1)
    return adj + torch.diag_embed((diag == 0).to(adj.dtype))


class GCNConv(nn.Module):
    """Graph convolution (Kipf & Welling): H' = D^-1/2 (A+I) D^-1/2 H W + b, D the degrees of A+I."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True, add_self_loops: bool = True,
                 normalize: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.register_parameter("bias", nn.Parameter(torch.empty(out_channels)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        a = adj.to(x.dtype)
        if self.add_self_loops:
            a = _with_self_loops(a)
        if self.normalize:
            inv_sqrt = a.sum(-1).pow(-0.5)
            inv_sqrt = inv_sqrt.masked_fill(torch.isinf(inv_sqrt), 0.0)  # isolated nodes stay zero
            a = inv_sqrt.unsqueeze(-1) * a * inv_sqrt.unsqueeze(-2)
        out = a @ self.lin(x)
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, add_self_loops={self.add_self_loops}, "
                f"normalize={self.normalize}")


class GATConv(nn.Module):
    """Graph attention (Velickovic et al.): h_i' = sum_j alpha_ij W h_j over neighbours j of i,
    alpha_ij = softmax_j(LeakyReLU(a_dst . W h_i + a_src . W h_j)), per head; heads concatenated or averaged.
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0.0, add_self_loops: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.concat = concat
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.add_self_loops = add_self_loops
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = nn.Parameter(torch.empty(heads, out_channels))
        self.att_dst = nn.Parameter(torch.empty(heads, out_channels))
        width = heads * out_channels if concat else out_channels
        self.register_parameter("bias", nn.Parameter(torch.empty(width)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin.weight)
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        *batch, n, _ = x.shape
        h = self.lin(x).view(*batch, n, self.heads, self.out_channels)  # [B, N, H, C]
        score_src = (h * self.att_src).sum(-1)  # [B, N, H]
        score_dst = (h * self.att_dst).sum(-1)
        # e[b, k, i, j]: how much node i attends to neighbour j in head k
        e = score_dst.transpose(-1, -2).unsqueeze(-1) + score_src.transpose(-1, -2).unsqueeze(-2)
        e = nn.functional.leaky_relu(e, self.negative_slope)
        a = adj.to(x.dtype)
        if self.add_self_loops:
            a = _with_self_loops(a)
        blocked = (a == 0).unsqueeze(-3)  # [B, 1, N, N], shared by every head
        alpha = torch.softmax(e.masked_fill(blocked, float("-inf")), dim=-1)
        alpha = alpha.masked_fill(blocked, 0.0)  # a node with no neighbours gets zeros, not NaN
        alpha = nn.functional.dropout(alpha, self.dropout, self.training)
        out = torch.einsum("...kij,...jkc->...ikc", alpha, h)  # [B, N, H, C]
        out = out.reshape(*batch, n, self.heads * self.out_channels) if self.concat else out.mean(-2)
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, heads={self.heads}, concat={self.concat}, "
                f"negative_slope={self.negative_slope}, dropout={self.dropout}")
