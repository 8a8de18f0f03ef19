"""An exported ONNX file against the compiled network it came from, in onnxruntime.

Both run on the same random batch; the largest absolute difference over every
output is the verdict. Long inputs (token ids) get ids in the range of the
embedding they feed. Random normal inputs can make a network's output
undefined (a graph convolution's degrees of a random adjacency go negative);
then the check runs on inputs in [0, 1) instead, and the two must agree on
which outputs are not finite.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from studio.compile import Network
from studio.graph import Graph

TOLERANCE = 1e-4
BATCHES = (3, 1)  # 1 as well: the batch dimension is dynamic


def check_inputs(graph: Graph, net: Network, batch: int, generator: torch.Generator,
                 uniform: bool = False) -> tuple[torch.Tensor, ...]:
    """One random tensor per Input node of ``net``, in ``forward`` order."""
    out = []
    for node_id in net.input_nodes:
        params = graph.node(node_id).params
        shape = (batch, *params["shape"])
        if params.get("dtype") == "long":
            out.append(torch.randint(0, token_range(net, node_id), shape, generator=generator))
        elif uniform:
            out.append(torch.rand(shape, generator=generator))
        else:
            out.append(torch.randn(shape, generator=generator))
    return tuple(out)


def token_range(net: Network, node_id: str) -> int:
    """How many token ids an input may carry: the smallest vocabulary of the embeddings it feeds."""
    sizes = []
    for node in net.graph.nodes:
        if node.op == "placeholder" and node.meta.get("node_id") == node_id:
            for user in node.users:
                if user.op == "call_module":
                    module = net.get_submodule(user.target)
                    if isinstance(module, nn.Embedding):
                        sizes.append(module.num_embeddings)
    return min(sizes) if sizes else 2


def session(data: bytes, threads: int = 0):
    """An onnxruntime CPU session of the model ``data``; ``threads`` 0 lets onnxruntime choose."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings are for onnxruntime's developers
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


class ReferenceFailed(Exception):
    """The compiled network itself could not run the check's batch (``batch``); the cause is torch's."""

    def __init__(self, batch: int, reason: BaseException) -> None:
        super().__init__(str(reason))
        self.batch = batch


def max_difference(graph: Graph, net: Network, data: bytes, batches=BATCHES) -> dict[int, float]:
    """Batch size -> the largest |onnxruntime - network| over every output, on a random batch.

    Raises ``ReferenceFailed`` when the compiled network cannot run a batch, and onnxruntime's
    own exception when it cannot load or run the file."""
    runner = session(data)
    names = [i.name for i in runner.get_inputs()]
    was_training = net.training
    net.eval()
    result = {}
    try:
        for batch in batches:
            generator = torch.Generator().manual_seed(batch)
            inputs = check_inputs(graph, net, batch, generator)
            try:
                expected = _outputs(net, inputs)
                if not all(np.isfinite(e).all() for e in expected):
                    inputs = check_inputs(graph, net, batch, generator, uniform=True)
                    expected = _outputs(net, inputs)
            except Exception as exc:  # noqa: BLE001 - said as the network's, not onnxruntime's
                raise ReferenceFailed(batch, exc) from exc
            got = runner.run(None, {name: x.numpy() for name, x in zip(names, inputs)})
            result[batch] = _largest(expected, got)
    finally:
        net.train(was_training)
    return result


def _outputs(net: nn.Module, inputs) -> list[np.ndarray]:
    with torch.no_grad():
        out = net(*inputs)
    out = out if isinstance(out, (tuple, list)) else (out,)
    return [t.detach().cpu().numpy() for t in out]


def _largest(expected: list[np.ndarray], got: list[np.ndarray]) -> float:
    if len(expected) != len(got):
        return float("inf")
    worst = 0.0
    for e, g in zip(expected, got):
        g = np.asarray(g)
        if e.shape != g.shape:
            return float("inf")
        finite_e, finite_g = np.isfinite(e), np.isfinite(g)
        if (finite_e != finite_g).any():
            return float("inf")
        both = finite_e & finite_g
        if both.any():
            worst = max(worst, float(np.abs(e[both].astype(np.float64) - g[both].astype(np.float64)).max()))
    return worst
