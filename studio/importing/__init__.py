"""Any traceable ``torch.nn.Module`` in, as editable blocks (torch.fx).

``import_model(model, input_shapes, dtypes)`` gives an ``Imported``: the graph
(laid out, shapes inferred) and the module's weights renamed to the compiled
graph's names; ``write`` saves both as one unit. ``model_from("net.py:ResNet",
kwargs)`` builds the user's model.
"""

from .errors import BadArgument, ImportRefused
from .importer import DTYPES, Imported, import_model, model_from, write
from .source import parse_kwargs, parse_shape

__all__ = ["BadArgument", "DTYPES", "ImportRefused", "Imported", "import_model", "model_from", "parse_kwargs",
           "parse_shape", "write"]
