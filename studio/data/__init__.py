"""Data sets: built-in toy and classic sets (never downloaded) and the user's own files.

Contract
--------
A data set is described by a plain JSON-able dict, stored in the graph file
under ``training.dataset``::

    {"name": "spiral", "classes": 3, "points": 100, "noise": 0.2,
     "val_fraction": 0.2, "seed": 0, "standardize": "none"}
    {"name": "csv", "path": "data/iris.csv", "target": "species"}

``load_dataset(spec, base_dir=None, graph=None, progress=None) -> Dataset`` loads it; relative
paths are resolved against ``base_dir``: the graph file's reach, a
``studio.files.reach.Reach`` (its folder plus what the user granted) or a plain
folder (that folder alone). A path outside it (absolute, ``~``, ``..`` or a link
pointing out) raises ``DataOutsideFolder``, a ``DataError`` whose ``outside``
the app asks the person about before loading again with a granted Reach.
``paths_in(spec)`` lists the (place, written path) pairs a spec names. Given the
``graph``, options the spec leaves out may come from it (``image_folder``: size
and channels from the Input's ``[C, H, W]``). A bare name
(``"iris"``) is accepted too. Every problem raises ``DataError`` whose text
starts with the place: the option (``training.dataset.points``), the file and
line and column for CSV, the file for images.

``progress(fraction, done, unit)``, called on the loading thread, hears how far a
file is read (``studio.data.progress``); without it a load that takes long
prints its progress to stderr.

A ``csv``, ``npz`` or ``image_folder`` set larger than half the free memory is
decoded once into a memory-mapped float32 cache file (``studio.data.stream``:
``$STUDIO_CACHE_DIR/data`` or the platform's cache folder), rows in split
order, so its ``Split`` tensors are ``torch.from_numpy`` views of the map and
``t[idx]`` reads only a batch's rows; ``extra["streamed"]`` (and
``describe()``) says so. Uncompressed ``.npy``/``.npz`` arrays are mapped the
same way, straight from the user's file when nothing needs splitting,
scaling or converting.

``catalog()`` lists every data set as ``DatasetInfo`` (name, task, doc,
options as ``blocks.Param`` records with defaults, ranges and choices,
``source`` "builtin" or "file"); ``names()`` just the names; ``info(name)`` one.

``Dataset`` (tensors on the CPU; the trainer moves them):

- ``name``, ``task``: "classification", "regression", "sequence",
  "node_classification" or "gan".
- ``inputs``: ``DataInput(name, shape, dtype)`` per network input, ``shape``
  without the batch dimension, ``dtype`` "float" (float32) or "long" (int64
  token ids), as the Input block says. ``input_shape`` is the first one's.
- ``train`` and ``val`` (``val`` is None when nothing is held out): ``Split``
  with ``inputs`` (one tensor ``[n, *shape]`` per data input, in the order of
  ``Dataset.inputs``; ``split.x`` is the first), ``targets`` (``split.y``) and
  ``mask``.
- ``output_shape``: what the network's output must be per sample.
  Classification: ``(C,)`` scores, targets int64 ``[n]``. Per-position
  classification (token tasks "reverse", "sort", "copy"): output ``(L, C)``,
  targets int64 ``[n, L]``; the class scores are always the last dimension,
  so ``cross_entropy(out.reshape(-1, C), y.reshape(-1))`` serves both. With
  two classes a last dimension of 1 (one logit, ``bce_with_logits``) fits too.
  Regression: targets float32 ``[n, *output_shape]``, e.g. ``(1,)``.
  Sequence ("sine"): input ``[L, 1]``, targets float32 ``[n, horizon]``
  (``standardize`` scales the targets with the windows, same units).
  Node classification ("karate"): one graph is one sample, two inputs
  ``x`` ``[1, N, F]`` and ``adj`` ``[1, N, N]``, targets ``[1, N]``, output
  ``(N, C)``; ``train.mask`` / ``val.mask`` (bool ``[N]``) say which nodes
  count for loss and accuracy (both parts share the tensors).
  GAN ("ring"): ``train.x`` holds real samples ``[n, 2]``, targets None,
  ``output_shape`` is one sample's shape; ``extra["centres"]`` and
  ``extra["std"]`` feed ``modes_covered(samples, centres, std)``.
- ``class_names`` (``num_classes``), ``vocab`` (token id -> text, token sets
  and "text"), ``scaler`` (the ``Scaler`` fitted on the training part when
  ``standardize`` is "zscore" or "minmax"; already applied to both parts),
  ``extra`` (loader-specific facts), ``spec`` (the options, defaults filled).
- ``augment(batch_x, generator)``: the data set's augmentation (options
  ``augment_flip``, ``augment_shift``, ``augment_noise``) applied to a training
  batch on the batch's own device; returns the batch unchanged when none.
- ``describe()``: one line for people; ``preview(limit)``: NumPy arrays for a
  scatter, image grid, series, table, token rows or graph (``Preview``).

``check_fits(dataset, graph) -> list[Problem]`` (kind "data") refuses, before
training, a data set that does not fit: number of Input nodes vs data inputs,
each Input's shape and dtype, the output's shape vs classes or targets. Data
inputs are matched to Input nodes by name (node id or label equal to the data
input's name, e.g. ``adj``), the rest in document order.
"""

from .catalog import DatasetInfo, catalog, info, load_dataset, names, paths_in
from .dataset import TASKS, DataInput, Dataset, Preview, Split
from .errors import DataError, DataOutsideFolder
from .fit import check_fits, match_inputs
from .modes import modes_covered
from .scaling import Scaler

__all__ = [
    "DataError", "DataInput", "DataOutsideFolder", "Dataset", "DatasetInfo", "Preview", "Scaler", "Split", "TASKS",
    "catalog", "check_fits", "info", "load_dataset", "match_inputs", "modes_covered", "names", "paths_in",
]
