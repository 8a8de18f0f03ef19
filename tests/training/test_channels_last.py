"""Images through convolutions on a GPU train channels-last (the layout its tensor cores read). CI has no
GPU, so the same path is taken here on the CPU, where it must give what the usual layout gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from studio.files import load
from studio.training import Trainer, recipe
from studio.training.recipe import image_layout

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def lenet_run(tmp_path, channels_last: bool, monkeypatch):
    monkeypatch.setattr(recipe, "CHANNELS_LAST_ON", ("cuda", "cpu") if channels_last else ("cuda",))
    graph = load(EXAMPLES / "lenet5_digits.json")
    config = {**graph.training, "epochs": 2, "device": "cpu", "threads": 1, "probes": False,
              "checkpoint": {"enabled": True}}
    trainer = Trainer(graph, config=config, base_dir=EXAMPLES, checkpoint_path=tmp_path / f"cl{channels_last}.safetensors")
    trainer.prepare()
    result = trainer.run()
    assert result.status == "finished", result.message
    return trainer, result


def test_channels_last_trains_as_the_usual_layout_does(tmp_path, monkeypatch):
    usual, usual_result = lenet_run(tmp_path, False, monkeypatch)
    last, last_result = lenet_run(tmp_path, True, monkeypatch)
    conv = next(m for m in last.recipe.model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1)
    assert last.recipe.layout is torch.channels_last and usual.recipe.layout is None
    assert conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous()
    assert last.recipe.x[0].is_contiguous(memory_format=torch.channels_last)
    # the same arithmetic in another order: equal to float32's rounding, epoch by epoch
    for a, b in zip(usual_result.history, last_result.history):
        assert b.train_loss == pytest.approx(a.train_loss, rel=1e-4)
        assert b.val_loss == pytest.approx(a.val_loss, rel=1e-4)
        assert b.val_acc == a.val_acc
    # the checkpoint of a channels-last run loads into a fresh network of the usual layout
    from safetensors.torch import load_file

    weights = load_file(str(last_result.checkpoint))
    assert any(k.endswith("conv1.weight") for k in weights)


def test_only_images_through_2d_convolutions_on_a_gpu_are_laid_out_channels_last():
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3))
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 2))
    images, rows = torch.zeros(2, 1, 8, 8), torch.zeros(2, 4)
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert image_layout(conv, [images], cuda) is torch.channels_last
    assert image_layout(conv, [images], cpu) is None  # on a CPU the usual layout is as quick or quicker
    assert image_layout(mlp, [rows], cuda) is None
    assert image_layout(mlp, [images], cuda) is None  # images, but no convolution
