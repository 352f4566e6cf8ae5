"""Writers for small on-disk data in every supported layout (imported by the data tests)."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
from PIL import Image

PROJECT = Path(__file__).resolve().parents[2]


def digits(count: int, size: int = 28, channels: int | None = None, seed: int = 0) -> np.ndarray:
    """Non-blank, distinct random uint8 images (N×H×W, or N×H×W×C)."""
    rng = np.random.default_rng(seed)
    shape = (count, size, size) if channels is None else (count, size, size, channels)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def write_idx(
    root: Path, folder: str, images: np.ndarray, labels: np.ndarray, prefix: str = "train"
) -> Path:
    """torchvision's raw layout: ``<root>/<folder>/raw/<prefix>-images-idx3-ubyte`` (+ labels)."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    count, height, width = images.shape
    (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
        struct.pack(">IIII", 0x0803, count, height, width) + images.tobytes()
    )
    (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
        struct.pack(">II", 0x0801, count) + labels.astype(np.uint8).tobytes()
    )
    return raw


def write_cifar(root: Path, per_batch: int = 4, test: int = 6) -> Path:
    """``<root>/cifar-10-batches-py`` with data_batch_1..5, test_batch, batches.meta."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for index, name in enumerate(names):
        count = test if name == "test_batch" else per_batch
        data = digits(count, 32, 3, seed=index).transpose(0, 3, 1, 2).reshape(count, -1)
        entry = {"data": data, "labels": [(index + k) % 10 for k in range(count)]}
        with open(folder / name, "wb") as file:
            pickle.dump(entry, file)
    meta = {
        "label_names": [
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ]
    }
    with open(folder / "batches.meta", "wb") as file:
        pickle.dump(meta, file)
    return folder


def write_png_folder(
    root: Path, classes: dict[str, int] | int, size: int = 28, mode: str = "L"
) -> Path:
    """PNGs under ``root`` (one sub-folder per class) or flat when ``classes`` is a count."""
    root.mkdir(parents=True, exist_ok=True)
    layout = {"": classes} if isinstance(classes, int) else classes
    seed = 0
    for name, count in layout.items():
        folder = root / name if name else root
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            seed += 1
            pixels = digits(1, size, 3 if mode == "RGB" else None, seed=seed)[0]
            Image.fromarray(pixels, mode=mode).save(folder / f"img_{i:03d}.png")
    return root
