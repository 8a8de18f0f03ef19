"""Taking a network away from Studio: PyTorch source, a ``torchrun`` training
script, and a ``torch.export`` program (``.pt2``).

No Qt here; the CLI (``studio export``) and the editor both call these.
"""

from .errors import ExportError
from .program import example_inputs, export_program
from .python_source import export_python
from .torchrun import export_torchrun_script

__all__ = ["ExportError", "example_inputs", "export_program", "export_python", "export_torchrun_script"]
