"""What the probes work out once per network (its outputs as compiled code, its modes, its
parameters) gives what the slow, general way gives."""

import torch
from torch import nn

from studio.compile import compile_graph
from studio.training.probes import _Recorder, activation_stats, grad_norms, record_outputs, set_mode

from training_graphs import mlp


def test_the_compiled_tap_records_what_the_interpreter_records():
    torch.manual_seed(0)
    model = compile_graph(mlp(dropout=0.5)).eval()
    x = torch.randn(16, 2)
    slow: dict = {}
    with torch.no_grad():
        _Recorder(model, True, set(), "", slow, {}).run(x)
    fast = record_outputs(model, (x,))
    assert list(fast) == list(slow) and len(fast) == 7  # the input and every node, in the graph's order
    for node_id in slow:
        assert torch.equal(fast[node_id], slow[node_id]), node_id
    # the tap shares the network's weights: a change to them shows in the next probe
    with torch.no_grad():
        model.get_submodule(model.meta["node_to_attr"]["logits"]).bias.add_(1.0)
    assert torch.allclose(record_outputs(model, (x,))["logits"], slow["logits"] + 1.0)


class Loud(nn.Module):
    """A module with a ``train`` of its own, which must still be called."""

    def __init__(self):
        super().__init__()
        self.switched = []
        self.inner = nn.Dropout(0.5)

    def train(self, mode=True):
        self.switched.append(mode)
        return super().train(mode)


def test_set_mode_switches_every_module_and_calls_a_train_of_its_own():
    model = compile_graph(mlp(dropout=0.5))
    set_mode(model, False)
    assert not any(m.training for m in model.modules())
    set_mode(model, True)
    assert all(m.training for m in model.modules())
    outer = nn.Sequential(nn.Linear(2, 2), Loud())
    set_mode(outer, False)
    assert outer[1].switched == [False] and not outer[1].inner.training and not outer[0].training


def test_gradient_norms_follow_the_gradients_of_each_step():
    torch.manual_seed(0)
    model = compile_graph(mlp())
    x = torch.randn(8, 2)
    assert grad_norms({"model": model}) == {}  # no step yet
    model(x).sum().backward()
    first = grad_norms({"model": model})
    model.zero_grad(set_to_none=True)
    (3 * model(x).sum()).backward()  # new gradient tensors, three times the old
    second = grad_norms({"model": model})
    assert set(first) == {"hidden", "hidden2", "logits"}
    for node_id, norm in first.items():
        assert abs(second[node_id] - 3 * norm) < 1e-4 * max(1.0, norm)


def test_statistics_match_torch_on_every_node_and_survive_huge_values():
    torch.manual_seed(0)
    outs = {"conv": torch.randn(4, 6, 5, 5) * 3 + 1, "relu": torch.relu(torch.randn(4, 100)), "one": torch.tensor([2.0]),
            "huge": torch.randn(500) * 1e30, "ids": torch.arange(4)}
    stats = activation_stats(outs, 10)
    assert set(stats) == {"conv", "relu", "one", "huge"}  # integer outputs have no histogram
    for node_id in ("conv", "relu", "huge"):
        t = outs[node_id].double()
        assert abs(stats[node_id].mean - float(t.mean())) <= 1e-5 * float(t.abs().max())
        assert abs(stats[node_id].std / float(t.std()) - 1.0) < 1e-4
        assert stats[node_id].zero_fraction == float((t == 0).double().mean())
        assert stats[node_id].hist_counts.sum() == min(t.numel(), 4096)
    assert (stats["one"].mean, stats["one"].std) == (2.0, 0.0)
    assert stats["conv"].feature_maps.shape == (6, 5, 5)
