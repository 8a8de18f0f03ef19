"""int8 weights: onnxruntime's dynamic quantization of an ONNX file, and PyTorch's of a program.

Dynamic quantization stores the weights of convolutions and matrix products as
int8 with a scale each and quantizes activations on the fly, so it needs no
calibration data. The quantized ONNX file goes beside the float one as
``OUT.int8.onnx``.

For ``.pt2`` programs PyTorch offers ``torch.ao.quantization.quantize_dynamic``
(deprecated in 2.13 in favour of torchao, which is not installed); the modules
it makes are tried with ``torch.export`` and the export is refused, with
torch's reason, when it cannot trace them (2.13 cannot).
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import torch
from torch import nn

from .errors import ExportError

INT8_KINDS = ("int8",)
# the layers torch.ao.quantization.quantize_dynamic replaces by default
_DYNAMIC_LAYERS = (nn.Linear, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell)


def int8_path(path: str | Path) -> Path:
    """``OUT.onnx`` -> ``OUT.int8.onnx``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.int8{path.suffix or '.onnx'}")


def int8_weights(path: str | Path) -> int:
    """How many weights of the ONNX file at ``path`` are stored as 8-bit integers (0: nothing was quantized)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    small = (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)
    return sum(1 for t in model.graph.initializer if t.data_type in small)


def quantize_onnx(data: bytes) -> bytes:
    """The serialised ONNX model ``data`` with int8 weights (onnxruntime ``quantize_dynamic``),
    checked to load in onnxruntime. Raises ``ExportError`` with onnxruntime's reason."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from .onnx_check import session
    from .quiet import quiet

    with tempfile.TemporaryDirectory(prefix="studio-int8-") as folder:
        out = Path(folder) / "model.int8.onnx"
        try:
            with quiet():  # it suggests pre-processing on the root logger
                quantize_dynamic(onnx.load_from_string(data), out, weight_type=QuantType.QInt8)
            quantized = out.read_bytes()
            session(quantized)
        except Exception as exc:  # noqa: BLE001 - onnxruntime's own reason, first line
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportError(f"onnxruntime could not quantize the network to int8: {reason}") from exc
    return quantized


def quantize_program(net: nn.Module, args: tuple[torch.Tensor, ...]) -> torch.export.ExportedProgram:
    """``net`` with PyTorch dynamic int8 quantization, as a ``torch.export`` program; raises
    ``ExportError`` where PyTorch cannot do it (in 2.13 the quantized modules do not export)."""
    import warnings

    try:
        from torch.ao.quantization import quantize_dynamic
    except ImportError as exc:
        raise ExportError(f"PyTorch {torch.__version__} has no dynamic quantization "
                          "(torch.ao.quantization.quantize_dynamic); use --format onnx --quantize int8") from exc
    if not any(isinstance(m, _DYNAMIC_LAYERS) for m in net.modules()):
        raise ExportError("PyTorch's dynamic quantization applies to Linear, LSTM and GRU layers; "
                          "this network has none (use --format onnx --quantize int8, which also takes convolutions)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its deprecation notices, said in the docs instead
        quantized = quantize_dynamic(copy.deepcopy(net).eval(), set(_DYNAMIC_LAYERS), dtype=torch.qint8)
        try:
            return torch.export.export(quantized, args)
        except Exception as exc:  # noqa: BLE001 - torch's reason, first line
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportError(
                f"PyTorch {torch.__version__.split('+')[0]}'s dynamic quantization "
                f"(torch.ao.quantization.quantize_dynamic) makes modules torch.export cannot save ({reason}); "
                "use --format onnx --quantize int8") from exc
