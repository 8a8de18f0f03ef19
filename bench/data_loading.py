"""Loading the user's data: Studio's loaders against the best plain-Python way to read the same files.

Cases (each loader runs in a child process of its own, so its peak memory is its
own: the child's peak resident memory, VmHWM; rounds of the two sides take turns):

- ``csv_500k``: a numeric CSV (``--rows`` x 21: 20 float features and an integer
  label), ``load_dataset`` (split, tensors and all) against ``pandas.read_csv``.
  Targets: time and peak memory each at most 1.5x pandas'. Time is the child's
  CPU time (both parse on one thread; the machine is shared).
- ``csv_streamed``: the same file streamed through the cache (as a table larger
  than memory would be), against pandas: what streaming costs. Measured only.
- ``npy_mmap``: a ``--npy-mb`` float32 ``.npy``, opened by Studio (memory-mapped)
  against ``np.load`` (read whole): the memory each open adds. Target: Studio's
  open adds at most 5% of what ``np.load`` adds; 32 training batches of 256 random
  rows are then gathered from the map, and what they add is reported: resident
  in all (mapped file pages included, which the kernel drops when it needs the
  memory) and the process's own pages.
- ``image_folder``: ``--files`` 32 x 32 RGB PNGs in 10 class folders. Studio's
  loader plus ``--epochs`` epochs of training batches (``x[idx]``, as the trainer
  gathers them) against a folder-of-images ``Dataset`` read with PIL and a
  ``DataLoader(num_workers=2, shuffle=True)``: the equivalent of torchvision's
  ``ImageFolder`` (torchvision is not installed beside the CPU build of torch, so
  the same reading is written out here). CPU time of the child and its workers.
  Target: Studio at most 1.0x. ``image_folder_streamed`` repeats Studio's side
  with the folder streamed from the cache (first load, and a second that reuses it).

Data is generated in a temporary folder. Prints one JSON object per case:
``case``, ``ratio``, ``target``, ``meets`` and the raw figures (medians of
``--rounds``), with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TIME_TARGET = 1.5
MEMORY_TARGET = 1.5
MMAP_TARGET = 0.05
IMAGES_TARGET = 1.0
BATCH = 64


def make_csv(path: Path, rows: int) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    with open(path, "w") as f:
        f.write(",".join([f"f{i}" for i in range(20)] + ["label"]) + "\n")
        for start in range(0, rows, 100_000):
            m = min(100_000, rows - start)
            x = rng.normal(size=(m, 20)).astype(np.float32)
            y = rng.integers(0, 3, m)
            np.savetxt(f, np.column_stack([x, y]), delimiter=",", fmt=["%.6g"] * 20 + ["%d"])


def make_npy(folder: Path, megabytes: int) -> None:
    import numpy as np

    rows = megabytes * 2**20 // (256 * 4)
    x = np.lib.format.open_memmap(folder / "x.npy", mode="w+", dtype=np.float32, shape=(rows, 256))
    for start in range(0, rows, 65536):
        x[start:start + 65536] = np.arange(start, min(start + 65536, rows), dtype=np.float32)[:, None] / rows
    x.flush()
    del x
    np.save(folder / "y.npy", np.arange(rows) % 10)
    # A small pair loaded first: what the first load of a process imports is not the file's cost.
    np.save(folder / "warm_x.npy", np.ones((10, 4), np.float32))
    np.save(folder / "warm_y.npy", np.arange(10) % 2)


def make_images(folder: Path, files: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(files):
        c = folder / f"class{i % 10}"
        c.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(c / f"{i}.png")


# ---- children: one loader each ------------------------------------------------------------------
def _resident() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _anon() -> int:
    """Resident memory of this process's own (anonymous) pages: mapped file pages, which the kernel may
    drop at any time, left out."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return _resident()


def _peak_mb() -> float:
    """This process's peak resident memory since it started its program (VmHWM: ``ru_maxrss`` would
    count the memory of the bench process it was forked from)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def child(which: str, folder: Path, epochs: int) -> dict:
    if which == "pandas":
        import pandas as pd

        base = _peak_mb()
        t, w = _cpu(), time.perf_counter()
        frame = pd.read_csv(folder / "t.csv")
        out = {"rows": len(frame)}
    elif which == "numpy":
        import numpy as np

        before = _resident()
        t, w = _cpu(), time.perf_counter()
        x = np.load(folder / "x.npy")
        out = {"added_mb": (_resident() - before) / 2**20, "bytes": int(x.nbytes)}
        base = 0.0
    elif which == "pil_loader":
        out, t, w, base = _pil_loader(folder, epochs)
    else:
        from studio.data import catalog, load_dataset
        from studio.data import stream

        catalog()
        import pandas  # noqa: F401  (imported by the load; its import is not the load's time)
        import torch

        if which.endswith("streamed"):
            stream.should_stream = lambda nbytes: True
        base = _peak_mb()
        before = _resident()
        t, w = _cpu(), time.perf_counter()
        if which.startswith("studio_csv"):
            ds = load_dataset({"name": "csv", "path": "t.csv"}, folder)
            out = {"rows": len(ds.train) + len(ds.val)}
        elif which == "studio_npy":
            load_dataset({"name": "npz", "path": "warm_x.npy", "y": "warm_y.npy", "val_fraction": 0}, folder)
            before = _resident()
            ds = load_dataset({"name": "npz", "path": "x.npy", "y": "y.npy", "val_fraction": 0}, folder)
            opened, opened_anon = _resident(), _anon()
            out = {"added_mb": (opened - before) / 2**20}
            gen = torch.Generator().manual_seed(0)
            for _ in range(32):
                idx = torch.randint(0, len(ds.train), (256,), generator=gen)
                ds.train.x[idx].sum()
            # Mapped pages a batch touched count as resident until the kernel wants them back.
            out["batches_added_mb"] = (_resident() - opened) / 2**20
            out["batches_added_anon_mb"] = (_anon() - opened_anon) / 2**20
        else:  # images, then epochs of batches as the trainer takes them
            spec = {"name": "image_folder", "path": "images", "channels": "rgb", "size": [32, 32], "val_fraction": 0}
            ds = load_dataset(spec, folder)
            out = {"load_cpu_s": _cpu() - t}
            if which.endswith("streamed"):
                t2 = _cpu()
                load_dataset(spec, folder)
                out["reload_cpu_s"] = _cpu() - t2
            total = 0.0
            for epoch in range(epochs):
                perm = torch.randperm(len(ds.train), generator=torch.Generator().manual_seed(epoch))
                for start in range(0, len(perm), BATCH):
                    idx = perm[start:start + BATCH]
                    total += float(ds.train.x[idx].mean()) + float(ds.train.y[idx].float().mean())
            out["samples"] = len(ds.train)
    out.update(cpu_s=_cpu() - t, wall_s=time.perf_counter() - w, peak_mb=_peak_mb(), load_mb=_peak_mb() - base)
    return out


def _pil_loader(folder: Path, epochs: int):
    import numpy as np
    import torch
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset

    class Folder(Dataset):
        """torchvision's ImageFolder, read the same way: PIL, RGB, resized, to a float tensor in [0, 1]."""

        def __init__(self, root: Path):
            classes = sorted(p.name for p in root.iterdir() if p.is_dir())
            self.items = [(p, c) for c, name in enumerate(classes) for p in sorted((root / name).iterdir())]

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            path, label = self.items[i]
            with Image.open(path) as img:
                img = img.convert("RGB")
                if img.size != (32, 32):
                    img = img.resize((32, 32), Image.Resampling.BILINEAR)
                a = np.asarray(img, dtype=np.float32) / 255.0
            return torch.from_numpy(a.transpose(2, 0, 1).copy()), label

    base = _peak_mb()
    t, w = _cpu(), time.perf_counter()
    data = Folder(folder / "images")
    loader = DataLoader(data, batch_size=BATCH, shuffle=True, num_workers=2,
                        generator=torch.Generator().manual_seed(0))
    total = 0.0
    for _ in range(epochs):
        for x, y in loader:
            total += float(x.mean()) + float(y.float().mean())
    return {"samples": len(data)}, t, w, base


def run_child(which: str, folder: Path, epochs: int) -> dict:
    env = {**os.environ, "STUDIO_CACHE_DIR": str(folder / "cache"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, __file__, "--child", which, "--folder", str(folder),
                           "--epochs", str(epochs)], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{which} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def medians(runs: list[dict]) -> dict:
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float))]
    return {k: round(statistics.median(r[k] for r in runs), 3) for k in keys}


def side_by_side(names: list[str], folder: Path, rounds: int, epochs: int, clear_cache: bool = False) -> list[dict]:
    runs: list[list[dict]] = [[] for _ in names]
    for _ in range(rounds):
        for i, name in enumerate(names):
            if clear_cache:
                import shutil

                shutil.rmtree(folder / "cache", ignore_errors=True)
            runs[i].append(run_child(name, folder, epochs))
    return [medians(r) for r in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000, help="rows of the CSV")
    parser.add_argument("--files", type=int, default=2_000, help="images in the image folder")
    parser.add_argument("--npy-mb", type=int, default=512, help="size of the .npy file in MiB")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of batches in the image case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default="csv_500k,csv_streamed,npy_mmap,image_folder,image_folder_streamed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, Path(args.folder), args.epochs)))
        return
    cases = args.cases.split(",")
    with tempfile.TemporaryDirectory(prefix="studio-bench-data-") as tmp:
        folder = Path(tmp)
        if {"csv_500k", "csv_streamed"} & set(cases):
            make_csv(folder / "t.csv", args.rows)
        if "npy_mmap" in cases:
            make_npy(folder, args.npy_mb)
        if {"image_folder", "image_folder_streamed"} & set(cases):
            make_images(folder / "images", args.files)
        for case in cases:
            line = run_case(case, folder, args)
            line["load_average"] = [round(v, 2) for v in os.getloadavg()]
            print(json.dumps(line), flush=True)


def run_case(case: str, folder: Path, args) -> dict:
    rounds, epochs = args.rounds, args.epochs
    if case == "csv_500k":
        studio, pandas = side_by_side(["studio_csv", "pandas"], folder, rounds, epochs)
        time_ratio = studio["cpu_s"] / pandas["cpu_s"]
        memory_ratio = studio["peak_mb"] / pandas["peak_mb"]
        return {"case": case, "ratio": round(max(time_ratio, memory_ratio), 3), "target": TIME_TARGET,
                "meets": time_ratio <= TIME_TARGET and memory_ratio <= MEMORY_TARGET,
                "time_ratio": round(time_ratio, 3), "memory_ratio": round(memory_ratio, 3),
                "rows": args.rows, "studio": studio, "pandas": pandas}
    if case == "csv_streamed":
        studio, pandas = side_by_side(["studio_csv_streamed", "pandas"], folder, rounds, epochs, clear_cache=True)
        return {"case": case, "ratio": round(studio["cpu_s"] / pandas["cpu_s"], 3), "target": None, "meets": None,
                "memory_ratio": round(studio["peak_mb"] / pandas["peak_mb"], 3), "rows": args.rows,
                "studio": studio, "pandas": pandas}
    if case == "npy_mmap":
        studio, numpy = side_by_side(["studio_npy", "numpy"], folder, rounds, epochs)
        ratio = max(studio["added_mb"], 0.0) / numpy["added_mb"]
        return {"case": case, "ratio": round(ratio, 4), "target": MMAP_TARGET, "meets": ratio <= MMAP_TARGET,
                "time_ratio": round(studio["cpu_s"] / numpy["cpu_s"], 3), "file_mb": args.npy_mb,
                "studio": studio, "numpy": numpy}
    if case == "image_folder":
        studio, peer = side_by_side(["studio_images", "pil_loader"], folder, rounds, epochs)
        ratio = studio["cpu_s"] / peer["cpu_s"]
        return {"case": case, "ratio": round(ratio, 3), "target": IMAGES_TARGET, "meets": ratio <= IMAGES_TARGET,
                "files": args.files, "epochs": epochs, "wall_ratio": round(studio["wall_s"] / peer["wall_s"], 3),
                "studio": studio, "imagefolder_dataloader": peer}
    if case == "image_folder_streamed":
        studio, peer = side_by_side(["studio_images_streamed", "pil_loader"], folder, rounds, epochs,
                                    clear_cache=True)
        return {"case": case, "ratio": round(studio["cpu_s"] / peer["cpu_s"], 3), "target": None, "meets": None,
                "files": args.files, "epochs": epochs, "studio": studio, "imagefolder_dataloader": peer}
    raise SystemExit(f"unknown case {case!r}")


if __name__ == "__main__":
    main()
