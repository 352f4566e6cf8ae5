"""PNG/JPEG/WebP files below ``data.path``; first-level sub-folders are classes.

Symbolic links are followed, for files and class folders alike, only when their resolved target
lies inside the resolved ``data.path``; a linked class folder is read under the link's own name.
A link that points outside ``data.path`` is an error: its data would escape the data set's
fingerprint and provenance, which describe ``data.path`` only. So are a link to a folder that
contains it (a loop) and a link whose target is missing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ganforge.errors import DataSourceError

from ..image_decoding import decode_image
from ..params import DataParams
from .base import SOURCES, Source, SourceData, seeded_order
from .derived import part_bounds

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp"})

def _link_target(link: Path, real_root: Path) -> Path:
    """The resolved target of a symbolic link, if the loader may follow it (module docstring)."""
    try:
        target = link.resolve()
    except (RuntimeError, OSError):  # Python raises these on a loop of links (a → b → a)
        raise DataSourceError(
            f"Symbolic link '{link}' is part of a loop of links. Remove it or point it at a file "
            "or folder inside data.path."
        ) from None
    if not target.is_relative_to(real_root):
        raise DataSourceError(
            f"Symbolic link '{link}' points to '{target}', outside data.path '{real_root}', so "
            "its data would escape the data set's fingerprint and provenance. Copy the files "
            "into data.path, or set data.path to a folder that holds both."
        )
    if not target.exists():
        raise DataSourceError(
            f"Symbolic link '{link}' points to '{target}', which does not exist. Remove the "
            "link or restore its target."
        )
    return target


def _walk(
    folder: Path, real_folder: Path, real_root: Path, ancestors: frozenset[Path]
) -> Iterator[Path]:
    """Files under ``folder`` in sorted order, following links that stay inside the root.

    ``ancestors`` are the resolved folders being walked; a link back to one of them would make
    the walk endless. Hidden files and folders (.DS_Store, .ipynb_checkpoints) are not data.
    """
    ancestors = ancestors | {real_folder}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        real = _link_target(path, real_root) if path.is_symlink() else real_folder / path.name
        if real.is_dir():
            if real in ancestors:
                raise DataSourceError(
                    f"Symbolic link '{path}' points to '{real}', a folder that contains the "
                    "link, so the folder tree never ends. Remove the link."
                )
            yield from _walk(path, real, real_root, ancestors)
        elif real.is_file():
            yield path


def _scan_folder(root: Path) -> tuple[list[Path], list[Path]]:
    real_root = root.resolve()
    images, others = [], []
    for path in _walk(root, real_root, real_root, frozenset()):
        (images if path.suffix.lower() in IMAGE_EXTENSIONS else others).append(path)
    return images, others


@dataclass
class FolderPlan:
    """The files an image-folder ingest reads, in stored order, with their labels and ids:
    everything but the pixels, so that decoding can go a chunk at a time."""

    root: Path
    files: list[Path]
    labels: torch.Tensor | None
    class_names: list[str]
    ids: list[str]

    def __len__(self) -> int:
        return len(self.files)

    def chunk(self, start: int, stop: int, images: torch.Tensor) -> SourceData:
        labels = self.labels[start:stop] if self.labels is not None else None
        return SourceData(images, labels, self.class_names, self.ids[start:stop],
                          [str(path) for path in self.files[start:stop]])


def plan_image_folder(params: DataParams) -> FolderPlan:
    """Scan ``data.path``: PNG/JPEG/WebP files, first-level sub-folders as classes, shuffled,
    limited and cut to ``data.part`` exactly as the in-memory sources are."""
    root = Path(params.root)
    if not root.is_dir():
        raise DataSourceError(
            f"data.path '{root}' is not a folder. Put PNG/JPEG/WebP images there (optionally one "
            "sub-folder per class) or set data.path to your image folder."
        )
    files, others = _scan_folder(root)
    if others:
        shown = ", ".join(str(path.relative_to(root)) for path in others[:10])
        more = f" and {len(others) - 10} more" if len(others) > 10 else ""
        logger.warning(
            "Skipped %d non-image file(s) in '%s' (only %s are read): %s%s",
            len(others),
            root,
            "/".join(sorted(IMAGE_EXTENSIONS)),
            shown,
            more,
        )
    if not files:
        raise DataSourceError(
            f"data.path '{root}' contains no PNG/JPEG/WebP images. Put images there (optionally "
            "one sub-folder per class) or set data.path to your image folder."
        )
    relative = [path.relative_to(root) for path in files]
    nested = [len(path.parts) > 1 for path in relative]
    if any(nested) and not all(nested):
        loose = [str(path) for path, deep in zip(relative, nested, strict=True) if not deep][:5]
        raise DataSourceError(
            f"data.path '{root}' mixes images in class sub-folders with images at the top level "
            f"({', '.join(loose)}). Move every image into a class folder, or none."
        )
    class_names = sorted({path.parts[0] for path in relative}) if all(nested) else []
    index = {name: i for i, name in enumerate(class_names)}
    order = seeded_order(len(files), params.seed, params.limit).tolist()
    if params.part is not None:
        start, stop = part_bounds(len(order), *params.part)
        order = order[start:stop]
    labels = (torch.tensor([index[relative[i].parts[0]] for i in order], dtype=torch.int64)
              if class_names else None)
    return FolderPlan(root, [files[i] for i in order], labels, class_names, [relative[i].as_posix() for i in order])


def decode_chunks(plan: FolderPlan, params: DataParams, chunk_size: int) -> Iterator[SourceData]:
    """The planned images decoded ``chunk_size`` at a time (uint8 N×C×H×W), with one progress
    bar for all of them: no more than a chunk of decoded images is ever held."""
    workers = params.num_workers or min(8, os.cpu_count() or 1)

    def decode(path: Path) -> np.ndarray:
        return decode_image(path, params.image_size, params.channels, params.resize, params.background_rgb)

    # PIL releases the GIL while decoding and resizing, so threads give real parallelism.
    with (ThreadPoolExecutor(max_workers=workers) as pool,
          tqdm(total=len(plan), desc="Decoding images", unit="img", leave=False,
               disable=None) as bar):  # disable=None: a bar on a terminal, silence in logs
        for start in range(0, len(plan), chunk_size):
            stop = min(start + chunk_size, len(plan))
            decoded = list(pool.map(decode, plan.files[start:stop]))
            bar.update(len(decoded))
            images = torch.from_numpy(np.stack(decoded)).permute(0, 3, 1, 2).contiguous()
            yield plan.chunk(start, stop, images)


def load_image_folder(params: DataParams, plan: FolderPlan | None = None) -> SourceData:
    """PNG/JPEG/WebP files under ``data.path`` (or those of ``plan``), decoded into memory;
    first-level sub-folders are classes. ``data.part`` is applied by the plan, before decoding."""
    plan = plan or plan_image_folder(params)
    (data,) = decode_chunks(plan, params, len(plan))  # one chunk: the whole folder
    return data


SOURCES.register("image_folder", Source(load_image_folder, options=frozenset({"background"}),
                                        defaults={"background": "black"}, cuts_part=True))
