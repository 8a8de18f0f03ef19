"""What cannot become blocks is refused with one message naming the fx node, what it calls and
the module path; nothing is half-built."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from studio.importing import BadArgument, ImportRefused, import_model


def _refusal(model, shapes=((4,),), dtypes=("float",)) -> ImportRefused:
    with pytest.raises(ImportRefused) as info:
        import_model(model, list(shapes), list(dtypes))
    return info.value


class Act(nn.Module):
    def forward(self, x):
        return x * torch.special.erf(x / 1.4142)


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = Act()

    def forward(self, x):
        return self.act(self.fc(x))


class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer3 = Layer()

    def forward(self, x):
        return self.layer3(x)


def test_an_op_without_a_block_names_node_target_and_module_path():
    exc = _refusal(Deep())
    assert exc.code == 1
    assert str(exc) == ("node 'truediv': operator.truediv (called in layer3.act) has no block: a division (only a "
                        "constant dividing the output of an Embedding or Linear that nothing else reads goes into "
                        "its weights)")


def test_arithmetic_with_a_constant_has_no_block():
    class Net(nn.Module):
        def forward(self, x):
            return 0.5 * x

    assert str(_refusal(Net())) == ("node 'mul': operator.mul (called in Net.forward) has no block: one operand is "
                                    "the constant 0.5; blocks combine two tensors")


def test_a_function_without_a_block():
    class Net(nn.Module):
        def forward(self, x):
            return torch.special.erf(x)

    assert str(_refusal(Net())) == "node 'special_erf': torch.special.erf (called in Net.forward) has no block"


def test_a_function_without_a_block_inside_a_submodule():
    class Inner(nn.Module):
        def forward(self, x):
            return torch.special.erf(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.act = Inner()

        def forward(self, x):
            return self.act(self.fc(x))

    assert str(_refusal(Net())) == "node 'special_erf': torch.special.erf (called in act) has no block"


def test_a_module_without_a_block_names_its_path_and_class():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.shuffle = nn.Sequential(nn.Linear(4, 4), nn.Mish())

        def forward(self, x):
            return self.shuffle(x)

    assert str(_refusal(Net())) == ("node 'shuffle_1': module shuffle.1 (torch.nn.modules.activation.Mish) "
                                    "has no block")


def test_a_data_dependent_if_says_which_line_cannot_be_traced():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            if x.sum() > 0:
                return self.fc(x)
            return x

    message = str(_refusal(Net()))
    assert "test_refusals.py:" in message and "`if x.sum() > 0:`" in message
    assert "Net.forward cannot be traced" in message and "torch.where" in message


def test_a_module_whose_size_does_not_fit_its_input_is_refused_naming_it():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(6, 2))

        def forward(self, x):
            return self.body(x)

    assert str(_refusal(Net())) == ("node 'body_2': module body.2 takes in_features 6, but its input here is [8] "
                                    "(in_features 8)")


def test_a_shape_the_block_refuses_names_the_node():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)

        def forward(self, x):
            return self.conv(x)

    message = str(_refusal(Net(), [(5,)]))
    assert message.startswith("node 'conv': module conv (Conv2d) becomes block Conv2d 'conv', which refuses its "
                              "input: ")
    assert "[C, H, W]" in message


@pytest.mark.parametrize("make, words", [
    (lambda: nn.LSTM(4, 3), "module lstm (LSTM): batch_first=False reads [L, B, F]"),
    (lambda: nn.MultiheadAttention(4, 2), "module lstm (MultiheadAttention): batch_first=False"),
])
def test_batch_second_layers_are_refused(make, words):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = make()

        def forward(self, x):
            out = self.lstm(x, x, x) if isinstance(self.lstm, nn.MultiheadAttention) else self.lstm(x)
            return out[0]

    assert words in str(_refusal(Net(), [(3, 4)]))


def test_a_module_called_twice_with_weights_is_refused():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(self.fc(x))

    assert str(_refusal(Net())) == ("node 'fc_1': module fc is called a second time (first as fc); blocks do not "
                                    "share weights, so each call needs its own module")


def test_a_view_that_loses_the_batch_is_refused():
    class Net(nn.Module):
        def forward(self, x):
            return x.view(4, -1)

    message = str(_refusal(Net(), [(2, 2)]))
    assert message.startswith("node 'view': Tensor.view (called in Net.forward) does not keep the batch size")


def test_a_tensor_used_outside_any_layer_is_refused():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(4))

        def forward(self, x):
            return x * self.scale

    assert str(_refusal(Net())) == ("node 'scale': self.scale (called in Net.forward) is a tensor the forward uses "
                                    "outside any layer, which has no block")


def test_a_parameter_with_no_place_in_the_graph_is_refused():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.unused = nn.Parameter(torch.zeros(3))

        def forward(self, x):
            return self.fc(x)

    assert str(_refusal(Net())).startswith("tensor 'unused' of the model has no place in the graph")


def test_a_mask_is_refused():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(4, 2, batch_first=True)

        def forward(self, x, mask):
            return self.attn(x, x, x, key_padding_mask=mask)[0]

    message = str(_refusal(Net(), [(3, 4), (3,)]))
    assert message == ("module attn (MultiheadAttention): is called with key_padding_mask=...; a MultiheadAttention "
                       "block takes no key_padding_mask")


def test_the_whole_sequence_and_the_last_step_together_are_refused():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(4, 3, batch_first=True)

        def forward(self, x):
            out, h = self.gru(x)
            return out.sum(1) + h[-1]

    assert str(_refusal(Net(), [(5, 4)])) == (
        "node 'getitem_2': operator.getitem (called in Net.forward) uses both the whole sequence and the final "
        "state of gru; its block gives one of them (output 'sequence' or 'last')")


def test_input_shapes_must_match_the_forward():
    class Net(nn.Module):
        def forward(self, x, y):
            return x + y

    with pytest.raises(BadArgument) as info:
        import_model(Net(), [(4,)])
    assert str(info.value) == ("--input-shape given 1 time(s), but Net.forward also needs 'y' (one --input-shape "
                               "per input, in order: x, y)")
    assert info.value.code == 2


def test_an_optional_argument_takes_its_default():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x, scale=None):
            return F.relu(self.fc(x))

    graph = import_model(Net(), [(4,)]).graph
    assert [n.block for n in graph.nodes.values()] == ["Input", "Linear", "ReLU"]
