"""Taking a network away from Studio: PyTorch source, a ``torchrun`` training
script, a ``torch.export`` program (``.pt2``), and ONNX checked in onnxruntime, with its
int8 copy and the table comparing the two.

No Qt here; the CLI (``studio export``) and the editor both call these.
"""

from .errors import ExportError
from .int8_table import Int8Table, load_validation, measure
from .onnx import OnnxExport, compiled_networks, export_onnx
from .program import example_inputs, export_program
from .python_source import export_python
from .quantize import int8_path, quantize_onnx, quantize_program
from .torchrun import export_torchrun_script

__all__ = ["ExportError", "Int8Table", "OnnxExport", "compiled_networks", "example_inputs", "export_onnx",
           "export_program", "export_python", "export_torchrun_script", "int8_path", "load_validation", "measure",
           "quantize_onnx", "quantize_program"]
