"""One image file → an H×W×C uint8 array, or a DataSourceError naming the file and the problem.

Steps, in order: the pixel count from the header is checked against :data:`MAX_PIXELS` before
anything is decoded; the file is decoded; its EXIF orientation is applied (so photos come out
upright, as viewers show them); the pixels are converted to 8-bit grayscale or RGB; then the
image is resized and centre-cropped to ``data.image_size`` (or refused when its size differs and
``data.resize`` is false).

Conversions: palette and 1-bit images become L/RGB; transparent and partly transparent pixels
are composited onto ``data.background`` (an RGB colour; converted to gray for one channel), so
a set that mixes images with and without alpha comes out alike; CMYK (print JPEGs) becomes RGB
with PIL's plain formula, no colour profile applied;
16-bit grayscale (PNG) is scaled linearly from 0..65535 to 0..255 (value / 257, rounded), so
the full tonal range survives instead of everything above 255 saturating. 32-bit float and
other exotic modes are refused: their range is unknown.
"""

from __future__ import annotations

import re
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ganforge.errors import DataSourceError

# 64 megapixels (8000×8000): above any camera photo a GAN data set is likely to hold, yet an RGB
# decode stays at ~190 MB per worker thread. It is below PIL's own limit (~89.5 MP), so PIL's
# decompression-bomb warning never gets as far as a decode.
MAX_PIXELS = 64_000_000

# Modes converted to L/RGB without any decision to make.
EIGHT_BIT_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})
# 16-bit grayscale: PNG opens as "I;16" (older Pillow: "I", 32-bit ints holding 0..65535).
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
SUPPORTED_MODES = EIGHT_BIT_MODES | SIXTEEN_BIT_MODES | {"CMYK"}

# PIL checks the pixel count inside Image.open: it warns between one and two times its limit and
# raises DecompressionBombError above. Both come before we can compare with MAX_PIXELS, so we
# silence the warning (our own error follows) and reword the error. warnings.catch_warnings
# swaps process-wide state, so the decode threads take turns; open() reads only the header.
_OPEN_LOCK = threading.Lock()
_PIL_PIXELS = re.compile(r"\((\d+) pixels\)")


def _too_large(path: Path, pixels: str) -> DataSourceError:
    return DataSourceError(
        f"Image file '{path}' is too large: {pixels} pixels, over the limit of {MAX_PIXELS:,}. "
        "Downscale it (e.g. to at most 8000×8000) and run again."
    )


def _open_header(path: Path) -> Image.Image:
    """``Image.open`` without PIL's decompression-bomb warning or error reaching the user."""
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(path)
        except Image.DecompressionBombError as error:
            match = _PIL_PIXELS.search(str(error))
            limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
            pixels = f"{int(match.group(1)):,}" if match else f"more than {limit:,}"
            raise _too_large(path, pixels) from None


def _check_header(path: Path, picture: Image.Image) -> None:
    """Refuse, before decoding, images that are too large or in a mode we do not convert."""
    width, height = picture.size
    if width * height > MAX_PIXELS:
        raise _too_large(path, f"{width}×{height} = {width * height:,}")
    if picture.mode not in SUPPORTED_MODES:
        raise DataSourceError(
            f"Image file '{path}' has mode '{picture.mode}', which GAN Forge does not "
            f"convert (supported: {', '.join(sorted(SUPPORTED_MODES))}). Convert it to "
            "8-bit grayscale or RGB first."
        )


def _sixteen_to_eight_bit(path: Path, picture: Image.Image) -> Image.Image:
    """Scale 0..65535 linearly onto 0..255; PIL's convert("L") would clip at 255 instead."""
    values = np.asarray(picture)
    if values.size and (values.min() < 0 or values.max() > 65535):  # mode "I" is 32-bit
        raise DataSourceError(
            f"Image file '{path}' holds integer pixels outside 0..65535 (mode "
            f"'{picture.mode}'). Convert it to 8-bit grayscale or RGB first."
        )
    eight_bit = (values.astype(np.uint32) + 128) // 257  # round(value / 257)
    return Image.fromarray(eight_bit.astype(np.uint8))  # 2-D uint8 → mode "L"


def _to_mode(path: Path, picture: Image.Image, channels: int, background: tuple[int, int, int]) -> Image.Image:
    if picture.mode in SIXTEEN_BIT_MODES:
        picture = _sixteen_to_eight_bit(path, picture)
    elif picture.mode == "CMYK":
        picture = picture.convert("RGB")  # PIL's naive formula, no ICC profile applied
    if picture.mode == "P" and "transparency" in picture.info:
        picture = picture.convert("RGBA")
    if picture.mode in ("LA", "RGBA"):
        # Composite onto the background instead of exposing whatever colour the transparent
        # pixels happen to hold (emoji keep black there: dropping alpha gives black surrounds).
        backdrop = Image.new("RGBA", picture.size, (*background, 255))
        picture = Image.alpha_composite(backdrop, picture.convert("RGBA"))
    return picture.convert("L" if channels == 1 else "RGB")


def _fit(picture: Image.Image, size: int) -> Image.Image:
    """Resize the shorter side to ``size`` and crop the centre square."""
    width, height = picture.size
    if (width, height) == (size, size):
        return picture
    scale = size / min(width, height)
    new_size = (max(size, round(width * scale)), max(size, round(height * scale)))
    picture = picture.resize(new_size, Image.Resampling.BICUBIC)
    left, top = (new_size[0] - size) // 2, (new_size[1] - size) // 2
    return picture.crop((left, top, left + size, top + size))


def decode_image(
    path: Path, size: int, channels: int, resize: bool, background: tuple[int, int, int] = (0, 0, 0)
) -> np.ndarray:
    """One image file → H×W×C uint8, or a DataSourceError naming the file and the problem;
    transparency is composited onto ``background`` (RGB)."""
    if path.stat().st_size == 0:
        raise DataSourceError(f"Image file '{path}' is empty (0 bytes). Remove or replace it.")
    try:
        with _open_header(path) as picture:
            _check_header(path, picture)
            picture.load()  # decode fully now so truncation is detected here, not later
            ImageOps.exif_transpose(picture, in_place=True)  # camera orientation → upright
            picture = _to_mode(path, picture, channels, background)
    except DataSourceError:
        raise
    except Image.DecompressionBombError:  # a later frame of an animated file, say
        raise _too_large(path, f"more than {MAX_PIXELS:,}") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise DataSourceError(
            f"Image file '{path}' could not be decoded ({error}). It is truncated or corrupt; remove or replace it."
        ) from error
    if resize:
        picture = _fit(picture, size)
    elif picture.size != (size, size):
        raise DataSourceError(
            f"Image file '{path}' is {picture.size[0]}×{picture.size[1]} but data.image_size is "
            f"{size}×{size} and data.resize is false. Set data.resize: true or resize the file."
        )
    array = np.asarray(picture, dtype=np.uint8)
    return array[:, :, None] if array.ndim == 2 else array
