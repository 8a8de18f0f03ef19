"""What the compiler returns: one ``Network`` per separate network, and the
``Networks`` container when a graph holds several.

Both keep ``node_to_attr`` (node id -> submodule path), so code that hooks a
node (probes, exports) finds it with ``module.get_submodule(module.node_to_attr[node_id])``
whatever the id had to become to be a safe attribute name.
"""

from __future__ import annotations

from typing import Mapping

from torch import nn
from torch.fx import GraphModule


class Network(GraphModule):
    """A compiled network: plain ``torch.fx`` code over submodules named after node ids.

    The bookkeeping lives in ``meta`` so ``copy.deepcopy`` (EMA, SWA) keeps it.
    """

    def recompile(self):
        code = super().recompile()
        # fx routes every call through a wrapper that only reformats errors; a
        # few microseconds a call, which is percent of a small network's step.
        # Tracebacks still show the generated lines (fx registers the source
        # with linecache), so call straight into nn.Module.
        type(self).__call__ = nn.Module.__call__
        return code

    @property
    def node_to_attr(self) -> dict[str, str]:
        """Node id -> attribute name of its submodule, for nodes that have weights or a module."""
        return self.meta.setdefault("node_to_attr", {})

    @property
    def node_to_value(self) -> dict[str, str]:
        """Node id -> the variable that holds its output in ``code`` (its first output port)."""
        return self.meta.setdefault("node_to_value", {})

    @property
    def input_nodes(self) -> list[str]:
        """Ids of the Input nodes, in the order ``forward`` takes them."""
        return self.meta.setdefault("input_nodes", [])

    @property
    def output_nodes(self) -> list[tuple[str, str]]:
        """(node id, port) of each output, in the order ``forward`` returns them."""
        return self.meta.setdefault("output_nodes", [])

    def submodule_of(self, node_id: str) -> nn.Module:
        """The submodule a node compiled to; KeyError names nodes that compiled to plain code."""
        attr = self.node_to_attr.get(node_id)
        if attr is None:
            raise KeyError(f"node {node_id!r} has no submodule in this network (it compiles to plain code"
                           " or belongs to another network)")
        return self.get_submodule(attr)


class Networks(nn.ModuleDict):
    """Several separate networks from one graph (a GAN's generator and
    discriminator), keyed by the id of each network's first Input node."""

    def __init__(self, networks: Mapping[str, Network]) -> None:
        super().__init__(dict(networks))
        self.node_to_attr: dict[str, str] = {
            node_id: f"{key}.{attr}"
            for key, net in networks.items()
            for node_id, attr in net.node_to_attr.items()
        }
        self.network_of: dict[str, str] = {}  # node id -> key of the network it belongs to
        for key, net in networks.items():
            for node_id in net.meta.get("nodes", ()):
                self.network_of[node_id] = key

    def submodule_of(self, node_id: str) -> nn.Module:
        attr = self.node_to_attr.get(node_id)
        if attr is None:
            raise KeyError(f"node {node_id!r} has no submodule (it compiles to plain code)")
        return self.get_submodule(attr)
