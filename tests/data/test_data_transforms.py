import numpy as np
import pytest
import torch

from studio.data import DataError, load_dataset
from studio.data.augment import Augmentation
from studio.data.splitting import chronological, split_indices


def test_zscore_is_fitted_on_the_training_part_only():
    raw = load_dataset({"name": "iris", "seed": 3})
    ds = load_dataset({"name": "iris", "seed": 3, "standardize": "zscore"})
    x = raw.train.x
    assert torch.allclose(ds.scaler.shift, x.mean(0))
    assert torch.allclose(ds.scaler.scale, x.std(0, unbiased=False))
    assert torch.allclose(ds.train.x.mean(0), torch.zeros(4), atol=1e-5)
    assert torch.allclose(ds.train.x.std(0, unbiased=False), torch.ones(4), atol=1e-5)
    # Validation uses the training statistics: not exactly centred itself.
    assert torch.allclose(ds.val.x, (raw.val.x - x.mean(0)) / x.std(0, unbiased=False), atol=1e-5)
    assert ds.val.x.mean(0).abs().max() > 1e-3
    assert torch.allclose(ds.scaler.invert(ds.val.x), raw.val.x, atol=1e-5)


def test_minmax_maps_training_range_to_unit_interval():
    raw = load_dataset({"name": "moons", "points": 100})
    ds = load_dataset({"name": "moons", "points": 100, "standardize": "minmax"})
    assert torch.allclose(ds.train.x.min(0).values, torch.zeros(2))
    assert torch.allclose(ds.train.x.max(0).values, torch.ones(2))
    lo, hi = raw.train.x.min(0).values, raw.train.x.max(0).values
    assert torch.allclose(ds.val.x, (raw.val.x - lo) / (hi - lo), atol=1e-6)


def test_sine_targets_scale_with_the_windows():
    raw = load_dataset({"name": "sine", "samples": 60})
    ds = load_dataset({"name": "sine", "samples": 60, "standardize": "zscore"})
    mean, std = raw.train.x.mean(), raw.train.x.std(unbiased=False)
    assert torch.allclose(ds.train.x, (raw.train.x - mean) / std, atol=1e-5)
    assert torch.allclose(ds.val.y, (raw.val.y - mean) / std, atol=1e-5)
    # Still a forecast: the next window ends with this window's target.
    assert torch.allclose(ds.train.x[1, -1, 0], ds.train.y[0, 0])


def test_images_standardize_per_channel():
    ds = load_dataset({"name": "digits", "standardize": "zscore"})
    assert ds.scaler.shift.shape == (1, 1, 1)
    assert abs(float(ds.train.x.mean())) < 1e-4 and abs(float(ds.train.x.std(unbiased=False)) - 1) < 1e-4


def test_split_is_seeded_and_disjoint():
    tr, va = split_indices(50, 0.2, seed=7)
    tr2, va2 = split_indices(50, 0.2, seed=7)
    assert np.array_equal(tr, tr2) and np.array_equal(va, va2)
    assert len(va) == 10 and sorted(np.concatenate([tr, va])) == list(range(50))
    assert not np.array_equal(va, split_indices(50, 0.2, seed=8)[1])
    labels = np.array([0] * 30 + [1] * 10 + [2] * 3)
    tr, va = split_indices(43, 0.3, seed=0, labels=labels)
    assert len(va) == 13 and np.bincount(labels[va]).tolist() == [9, 3, 1]
    assert np.array_equal(chronological(10, 0.3)[1], [7, 8, 9])


def test_val_fraction_zero_gives_no_validation():
    ds = load_dataset({"name": "spiral", "points": 10, "val_fraction": 0.0})
    assert ds.val is None and len(ds.train) == 30


def test_flip_and_shift_move_pixels_on_the_batch_device():
    x = torch.zeros(64, 1, 5, 5)
    x[:, 0, 2, 0] = 1.0  # one lit pixel on the left edge
    g = torch.Generator().manual_seed(0)
    flipped = Augmentation(flip=True)(x, g)
    right = flipped[:, 0, 2, 4] == 1.0
    assert 20 < int(right.sum()) < 44  # about half flipped
    assert torch.equal(flipped[~right], x[~right])
    assert torch.equal(flipped.sum((1, 2, 3)), torch.ones(64))

    x = torch.zeros(64, 2, 7, 7)
    x[:, :, 3, 3] = 1.0  # centre pixel in both channels
    shifted = Augmentation(shift=2)(x, torch.Generator().manual_seed(1))
    assert shifted.shape == x.shape and shifted.device == x.device
    assert torch.equal(shifted.sum((2, 3)), torch.ones(64, 2))  # shifts of <= 2 keep the centre pixel inside
    pos = shifted[:, 0].flatten(1).argmax(1)
    rows, cols = pos // 7, pos % 7
    assert int((rows - 3).abs().max()) == 2 and int((cols - 3).abs().max()) == 2
    assert len(set(pos.tolist())) > 10  # per-sample shifts, not one for the batch
    assert torch.equal(shifted[:, 0], shifted[:, 1])  # channels move together


def test_noise_and_determinism_by_generator():
    x = torch.zeros(1000, 1, 4, 4)
    a = Augmentation(noise=0.5)(x, torch.Generator().manual_seed(3))
    b = Augmentation(noise=0.5)(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert abs(float(a.std()) - 0.5) < 0.01


def test_dataset_augment_uses_its_options():
    ds = load_dataset({"name": "digits", "augment_flip": True, "augment_shift": 1})
    batch = ds.train.x[:32]
    out = ds.augment(batch, torch.Generator().manual_seed(0))
    assert out.shape == batch.shape and not torch.equal(out, batch)
    plain = load_dataset("digits")
    assert plain.augment(batch) is batch


def test_image_augmentation_on_flat_data_is_refused(tmp_path):
    np.savez(tmp_path / "flat.npz", x=np.ones((10, 4), np.float32), y=np.arange(10) % 2)
    with pytest.raises(DataError, match=r"training.dataset.augment_flip: augment_flip needs image samples "
                                        r"\[C, H, W\]; 'npz' gives \[4\]"):
        load_dataset({"name": "npz", "path": "flat.npz", "augment_flip": True}, tmp_path)
