"""A small fake emoji package (the layout of emoji-datasource-<style>), written by the tests."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

# (image, category, subcategory, skin variations)
FAKE_EMOJI = [
    ("1f600.png", "Smileys & Emotion", "face-smiling", 0),
    ("1f601.png", "Smileys & Emotion", "face-smiling", 0),
    ("1f60d.png", "Smileys & Emotion", "face-affection", 0),
    ("1f44d.png", "People & Body", "hand-fingers-closed", 2),
    ("1f436.png", "Animals & Nature", "animal-mammal", 0),
    ("1f431.png", "Animals & Nature", "animal-mammal", 0),
    ("1f3fb.png", "Component", "skin-tone", 0),
]
BASE_COUNT = sum(1 for _, category, _, _ in FAKE_EMOJI if category != "Component")
SKIN_COUNT = sum(skins for *_, skins in FAKE_EMOJI)


def emoji_png(seed: int, size: int = 64) -> bytes:
    """An RGBA disc of a seeded colour on a fully transparent surround."""
    rng = np.random.default_rng(seed)
    pixels = np.zeros((size, size, 4), dtype=np.uint8)
    pixels[..., :3] = rng.integers(0, 256, 3, dtype=np.uint8)
    rows, cols = np.mgrid[:size, :size]
    pixels[..., 3] = np.where((rows - size / 2) ** 2 + (cols - size / 2) ** 2 < (size / 3) ** 2, 255, 0)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def _add(archive: tarfile.TarFile, name: str, payload: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(payload)
    archive.addfile(member, io.BytesIO(payload))


def write_fake_package(path: Path, style: str, *, extra_members: dict[str, bytes] | None = None,
                       more: int = 0) -> str:
    """The tarball npm pack would write, at ``path``; returns its npm-style sha512 integrity.
    ``more`` adds that many emoji spread over the fake categories (for training runs)."""
    index, images = [], {}
    listed = list(FAKE_EMOJI) + [(f"f{k:04x}.png", *FAKE_EMOJI[k % 6][1:3], 0) for k in range(more)]
    for seed, (image, category, subcategory, skins) in enumerate(listed):
        variations = {}
        for tone in range(skins):
            stem = image.removesuffix(".png")
            variations[f"1F3F{tone + 1}"] = {"image": f"{stem}-1f3f{tone + 1}.png", f"has_img_{style}": True}
            images[f"{stem}-1f3f{tone + 1}.png"] = emoji_png(100 * seed + tone)
        entry = {"image": image, "category": category, "subcategory": subcategory, f"has_img_{style}": True}
        if variations:
            entry["skin_variations"] = variations
        index.append(entry)
        images[image] = emoji_png(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        _add(archive, "package/emoji.json", json.dumps(index).encode())
        _add(archive, "package/LICENSE", b"MIT\n")
        _add(archive, f"package/img/{style}/sheets/64.png", b"not extracted")
        for name, payload in images.items():
            _add(archive, f"package/img/{style}/64/{name}", payload)
        for name, payload in (extra_members or {}).items():
            _add(archive, name, payload)
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()
