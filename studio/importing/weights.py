"""The module's weights renamed to the compiled graph's names.

The compiled network names each node's submodule after the node id; a
tensor ``layer1.0.conv1.weight`` of the user's module goes to
``layer1_0_conv1.weight``, or to ``layer1_0.conv1.weight`` where ``layer1.0``
became a group (``module_of`` then names the node ``layer1_0.conv1``). Every tensor of the compiled networks must come
from exactly one of the module's, and every one of the module's must land.
"""

from __future__ import annotations

from typing import Iterator, Mapping

import torch
from torch import nn

from studio.compile import Network, compile_networks
from studio.graph import Graph

from .errors import ImportRefused


def renamed_state(graph: Graph, module_of: Mapping[str, str], model: nn.Module,
                  scales: Mapping[str, float] | None = None) -> dict[str, dict[str, torch.Tensor]]:
    """``{network_key: state_dict}`` for ``studio.training.checkpoint.save_weights``; a node in
    ``scales`` gets its weight and bias times that constant (``embed(x) * math.sqrt(d)``)."""
    own = model.state_dict()
    landed: dict[str, str] = {}  # the module's key -> the compiled key it went to
    states: dict[str, dict[str, torch.Tensor]] = {}
    with torch.device("meta"):  # names and shapes only: no memory, no random init of every weight
        networks = compile_networks(graph)
    for key, net in networks.items():
        state: dict[str, torch.Tensor] = {}
        for node_id, attr in _leaves(net):
            path = module_of.get(node_id)
            for suffix, value in net.get_submodule(attr).state_dict().items():
                if path is None:
                    raise ImportRefused(f"node {node_id!r} holds {suffix}, which no module of the model gives")
                source = f"{path}.{suffix}" if path else suffix
                if source not in own:
                    raise ImportRefused(f"node {node_id!r} needs tensor {source!r}, which the model's state_dict "
                                        "lacks")
                if source in landed:
                    raise ImportRefused(f"tensor {source!r} would land twice ({landed[source]} and {attr}.{suffix})")
                tensor = own[source]
                if tuple(tensor.shape) != tuple(value.shape):
                    raise ImportRefused(f"tensor {source!r} has shape {list(tensor.shape)}, node {node_id!r} "
                                        f"needs {list(value.shape)}")
                landed[source] = f"{attr}.{suffix}"
                factor = (scales or {}).get(node_id)
                state[f"{attr}.{suffix}"] = tensor.detach() * factor if factor is not None else tensor.detach()
        states[key] = state
    leftover = [k for k in own if k not in landed]
    if leftover:
        raise ImportRefused(f"tensor {leftover[0]!r} of the model has no place in the graph (a parameter or "
                            f"buffer the forward uses outside any block?)"
                            + (f"; {len(leftover) - 1} more" if len(leftover) > 1 else ""))
    return states


def _leaves(net: Network, prefix: str = "", attr_prefix: str = "") -> Iterator[tuple[str, str]]:
    """(node, submodule path) of each node with a module, groups opened: ``layer1_0.conv1``."""
    for node_id, attr in net.node_to_attr.items():
        sub = net.get_submodule(attr)
        if isinstance(sub, Network):  # a group: its own nodes
            yield from _leaves(sub, f"{prefix}{node_id}.", f"{attr_prefix}{attr}.")
        else:
            yield f"{prefix}{node_id}", f"{attr_prefix}{attr}"
