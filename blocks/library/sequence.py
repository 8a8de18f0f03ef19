"""Sequence blocks: embeddings, recurrent layers and attention over [L, F] samples.

A sequence sample is [L, F] (length, features; no batch), so every layer runs
batch-first. Feature sizes (input_size, embed_dim, d_model) follow from the
input and are never typed.
"""

from __future__ import annotations

from ..registry import Category, register, register_category
from ..spec import BlockSpec, Constructor, Param, Port, ShapeError
from ._rules import IN, OUT, attention_count, fmt, library_class, linear_count, need_rank, nn_class

C = register_category(Category("Sequence", color="#5a9e4b", icon="sequence.svg")).name
SEQ = "[L, F]"


# ---- Embedding ---------------------------------------------------------------

def _embedding_infer(s, p):
    shape = s["in"]
    need_rank(shape, (1,), "[L] of integer token ids")
    n, idx = p["num_embeddings"], p["padding_idx"]
    if idx is not None and not -n <= idx < n:
        raise ShapeError(f"padding_idx {idx} must be a token id below num_embeddings {n}")
    return {"out": (*shape, p["embedding_dim"])}


def _embedding_constructor(s, p):
    return Constructor(nn_class("Embedding"), (p["num_embeddings"], p["embedding_dim"]),
                       {"padding_idx": p["padding_idx"]})


register(BlockSpec(
    name="Embedding", category=C,
    doc="Looks up a learned vector per token id, y[t] = W[x[t]]; [L] integer tokens -> [L, embedding_dim].",
    inputs=IN, outputs=OUT,
    params=(
        Param("num_embeddings", "int", 1000, "vocabulary size: token ids run from 0 to num_embeddings - 1", min=1),
        Param("embedding_dim", "int", 32, "size of each token's vector", min=1),
        Param("padding_idx", "int", None, "token id whose vector stays zero and gets no gradient (empty: none)",
              optional=True),
    ),
    infer=_embedding_infer, constructor=_embedding_constructor, key_params=("num_embeddings", "embedding_dim"),
    dtypes="ids", param_count=lambda s, p: p["num_embeddings"] * p["embedding_dim"],
))


# ---- RNN, LSTM, GRU ------------------------------------------------------------

def _recurrent_params(kind):
    params = [
        Param("hidden_size", "int", 32, "size of the hidden state h", min=1),
        Param("num_layers", "int", 1, "recurrent layers stacked, each reading the one below", min=1, max=16),
    ]
    if kind == "RNN":
        params.append(Param("nonlinearity", "choice", "tanh", "activation of the hidden state",
                            choices=("tanh", "relu")))
    params += [
        Param("bias", "bool", True, "learn the biases b_ih and b_hh"),
        Param("dropout", "float", 0.0, "dropout between stacked layers (needs num_layers > 1)", min=0.0, max=1.0),
        Param("bidirectional", "bool", False, "also read the sequence backwards; doubles the output size"),
        Param("output", "choice", "sequence",
              "'sequence': h at every step [L, H*dirs]; 'last': each direction's final h [H*dirs]",
              choices=("sequence", "last")),
    ]
    return tuple(params)


def _recurrent_infer(s, p):
    shape = s["in"]
    need_rank(shape, (2,), SEQ)
    width = p["hidden_size"] * (2 if p["bidirectional"] else 1)
    return {"out": (shape[0], width) if p["output"] == "sequence" else (width,)}


GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _recurrent_count(kind):
    """Per layer and direction: W_ih [gates*H, in], W_hh [gates*H, H] and, with bias, b_ih and b_hh;
    the first layer reads F, the others the layer below, H per direction."""
    def count(s, p):
        rows, dirs = GATES[kind] * p["hidden_size"], 2 if p["bidirectional"] else 1
        total, width = 0, s["in"][-1]
        for _ in range(p["num_layers"]):
            total += dirs * (rows * (width + p["hidden_size"]) + (2 * rows if p["bias"] else 0))
            width = dirs * p["hidden_size"]
        return total
    return count


def _recurrent(kind, formula):
    def constructor(s, p):
        kw = dict(p)
        if kw["num_layers"] == 1:
            kw["dropout"] = 0.0  # torch only drops between layers; a value here just warns
        return Constructor(library_class(f"{kind}Layer"), (s["in"][-1], kw.pop("hidden_size")), kw)

    register(BlockSpec(
        name=kind, category=C,
        doc=f"{formula}; input_size is F. [L, F] -> [L, H*dirs] ('sequence') or [H*dirs] ('last').",
        inputs=IN, outputs=OUT, params=_recurrent_params(kind), infer=_recurrent_infer, constructor=constructor,
        key_params=("hidden_size", "output"), param_count=_recurrent_count(kind),
    ))


_recurrent("RNN", "Elman recurrent layer, h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu)")
_recurrent("LSTM", "Long short-term memory, gated c_t = f_t*c_(t-1) + i_t*g_t, h_t = o_t*tanh(c_t)")
_recurrent("GRU", "Gated recurrent unit, h_t = (1 - z_t)*n_t + z_t*h_(t-1)")


# ---- positional encoding ---------------------------------------------------------

def _positional_infer(s, p):
    shape = s["in"]
    need_rank(shape, (2,), "[L, D]")
    if shape[0] > p["max_len"]:
        raise ShapeError(f"in: sequence length {shape[0]} exceeds max_len {p['max_len']}", "in")
    return {"out": shape}


def _positional_constructor(s, p):
    return Constructor(library_class("PositionalEncoding"), (s["in"][-1],),
                       {"dropout": p["dropout"], "max_len": p["max_len"]})


register(BlockSpec(
    name="PositionalEncoding", category=C,
    doc="Adds sinusoidal position codes, PE[t, 2i] = sin(t/10000^(2i/D)), PE[t, 2i+1] = cos(...); "
        "[L, D] -> [L, D], no weights.",
    inputs=IN, outputs=OUT,
    params=(
        Param("dropout", "float", 0.1, "dropout applied after adding the codes", min=0.0, max=1.0),
        Param("max_len", "int", 5000, "longest sequence the table covers", min=1),
    ),
    infer=_positional_infer, constructor=_positional_constructor,
    # no weights; a table too large to hold is left for the building to refuse
    param_count=lambda s, p: 0 if p["max_len"] * s["in"][-1] < 2**40 else None,
))


# ---- attention --------------------------------------------------------------------

def _heads_divide(shape, heads, dim_name, heads_name):
    if shape[-1] % heads:
        raise ShapeError(
            f"in: {dim_name} {shape[-1]} (the input's last size) must be divisible by {heads_name} {heads}", "in")


def _attention_infer(s, p):
    shape = s["in"]
    need_rank(shape, (2,), "[L, E]")
    _heads_divide(shape, p["num_heads"], "embed_dim", "num_heads")
    if p["cross"]:
        _same_width(s["context"], shape, "context", "in", "embed_dim")
    return {"out": shape}


def _same_width(shape, query, port, query_port, what):
    """A cross-attention source [S, E] whose E is the queries' (keys and values are projected from it)."""
    if len(shape) != 2 or shape[-1] != query[-1]:
        raise ShapeError(
            f"{port}: expected [S, {query[-1]}] (any length S, {what} {query[-1]} as {query_port} "
            f"{fmt(query)}), got {fmt(shape)}", port)


def _attention_constructor(s, p):
    kw = dict(p)
    return Constructor(library_class("SelfAttention"), (s["in"][-1], kw.pop("num_heads")), kw)


def _attention_inputs(p):
    if p.get("cross"):
        return (*IN, Port("context", "keys and values come from here [S, E]"))
    return IN


_attention_inputs.shown = "`in` (and `context` with `cross`)"

register(BlockSpec(
    name="MultiheadAttention", category=C,
    doc="Attention, softmax(Q K^T / sqrt(E/num_heads)) V per head, Q from in, K and V from in (or from context "
        "with cross); [L, E] -> [L, E], embed_dim is E.",
    inputs=IN, outputs=OUT,
    params=(
        Param("num_heads", "int", 2, "parallel attention heads; must divide embed_dim", min=1),
        Param("dropout", "float", 0.0, "dropout on the attention weights", min=0.0, max=1.0),
        Param("bias", "bool", True, "learn biases in the input and output projections"),
        Param("causal", "bool", False, "each position attends only to itself and earlier ones"),
        Param("cross", "bool", False, "cross-attention: keys and values from a second input, context [S, E]"),
    ),
    infer=_attention_infer, constructor=_attention_constructor, dynamic_inputs=_attention_inputs,
    key_params=("num_heads",), param_count=lambda s, p: attention_count(s["in"][-1], p["bias"]),
))


def _encoder_infer(s, p):
    shape = s["in"]
    need_rank(shape, (2,), "[L, d_model]")
    _heads_divide(shape, p["nhead"], "d_model", "nhead")
    return {"out": shape}


def _encoder_constructor(s, p):
    kw = dict(p)
    return Constructor(nn_class("TransformerEncoderLayer"), (s["in"][-1], kw.pop("nhead")), {**kw, "batch_first": True})


TRANSFORMER_PARAMS = (
    Param("nhead", "int", 2, "attention heads; must divide d_model", min=1),
    Param("dim_feedforward", "int", 256, "hidden size of the feed-forward network", min=1),
    Param("dropout", "float", 0.1, "dropout after attention and in the feed-forward network",
          min=0.0, max=1.0),
    Param("activation", "choice", "relu", "feed-forward activation", choices=("relu", "gelu")),
    Param("layer_norm_eps", "float", 1e-5, "added to the variance in each LayerNorm", min=0.0),
    Param("norm_first", "bool", False, "LayerNorm before each sub-layer (pre-norm) instead of after"),
    Param("bias", "bool", True, "learn biases in the linear and norm layers"),
)

def _transformer_count(attentions, norms):
    """``attentions`` attention blocks, the feed-forward network (Linear d -> ff -> d) and ``norms``
    LayerNorms over d, every one with biases unless ``bias`` is off."""
    def count(s, p):
        d, ff, bias = s["in" if "in" in s else "tgt"][-1], p["dim_feedforward"], p["bias"]
        return (attentions * attention_count(d, bias) + linear_count(d, ff, bias) + linear_count(ff, d, bias)
                + norms * d * (2 if bias else 1))
    return count


register(BlockSpec(
    name="TransformerEncoderLayer", category=C,
    doc="Transformer encoder layer, x = x + SelfAttention(x), x = x + FeedForward(x), each with LayerNorm; "
        "[L, d_model] -> [L, d_model].",
    inputs=IN, outputs=OUT, params=TRANSFORMER_PARAMS,
    infer=_encoder_infer, constructor=_encoder_constructor, key_params=("nhead",),
    param_count=_transformer_count(1, 2),
))


def _decoder_infer(s, p):
    tgt = s["tgt"]
    need_rank(tgt, (2,), "[L, d_model]", "tgt")
    if tgt[-1] % p["nhead"]:
        raise ShapeError(f"tgt: d_model {tgt[-1]} (the last size of tgt) must be divisible by nhead {p['nhead']}",
                         "tgt")
    _same_width(s["memory"], tgt, "memory", "tgt", "d_model")
    return {"out": tgt}


def _decoder_constructor(s, p):
    kw = dict(p)
    return Constructor(library_class("DecoderLayer"), (s["tgt"][-1], kw.pop("nhead")), kw)


register(BlockSpec(
    name="TransformerDecoderLayer", category=C,
    doc="Transformer decoder layer, x = x + SelfAttention(x), x = x + Attention(x, memory), "
        "x = x + FeedForward(x), each with LayerNorm; tgt [L, d_model], memory [S, d_model] -> [L, d_model].",
    inputs=(Port("tgt", "the sequence being decoded [L, d_model]"),
            Port("memory", "the encoder's output it attends to [S, d_model]")),
    outputs=OUT,
    params=(*TRANSFORMER_PARAMS,
            Param("causal", "bool", False, "each target position attends only to itself and earlier ones")),
    infer=_decoder_infer, constructor=_decoder_constructor, key_params=("nhead", "causal"),
    param_count=_transformer_count(2, 3),
))
