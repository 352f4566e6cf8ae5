"""Image files: size cap before decoding, CMYK and 16-bit conversion, EXIF orientation."""

from __future__ import annotations

import struct
import warnings
import zlib

import numpy as np
import pytest
from dp_helpers import write_png_folder
from PIL import Image

from ganforge.errors import DataSourceError
from ganforge.pipelines.data_processing.params import parse_data_params
from ganforge.pipelines.data_processing.sources import decode_image, load_source


def _load(params):
    return load_source(parse_data_params(params))


def _png_header(path, width: int, height: int) -> None:
    """A PNG that declares ``width``×``height`` 1-bit pixels but holds one row: a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grayscale
    row = zlib.compress(b"\x00" * (1 + (width + 7) // 8))
    signature = b"\x89PNG\r\n\x1a\n"
    path.write_bytes(signature + chunk(b"IHDR", header) + chunk(b"IDAT", row) + chunk(b"IEND", b""))


# --------------------------------------------------------------------------- pixel cap


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8001, 8000),  # over our 64 MP cap, under PIL's limit: PIL would decode it silently
        (10000, 10000),  # between PIL's limit and twice it: PIL warns, then decodes
        (20000, 20000),  # over twice PIL's limit: PIL raises DecompressionBombError
    ],
)
def test_huge_image_is_refused_before_decoding(tmp_path, width, height):
    path = tmp_path / "huge.png"
    _png_header(path, width, height)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(DataSourceError) as error:
            decode_image(path, 28, 1, resize=True)
    message = str(error.value)
    assert f"'{path}' is too large: " in message and f"{width * height:,} pixels" in message
    assert "64,000,000" in message and "Downscale it" in message
    assert "decompression bomb" not in message.lower()
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_pixel_cap_applies_to_image_folders(tmp_path, make_params, monkeypatch):
    from ganforge.pipelines.data_processing import image_decoding

    monkeypatch.setattr(image_decoding, "MAX_PIXELS", 100)
    root = write_png_folder(tmp_path / "imgs", 1, size=20)
    with pytest.raises(DataSourceError, match=r"img_000\.png' is too large: 20×20 = 400 pixels.* 100\."):
        _load(make_params(source="image_folder", path=str(root)))


# --------------------------------------------------------------------------- modes


def test_cmyk_jpeg_is_converted_to_rgb(tmp_path, make_params):
    root = tmp_path / "imgs"
    root.mkdir()
    picture = Image.new("CMYK", (28, 28), (0, 255, 255, 0))  # red
    picture.paste((255, 255, 0, 0), (14, 0, 28, 28))  # blue on the right half
    picture.save(root / "print.jpg", quality=95)
    data = _load(make_params(source="image_folder", path=str(root), channels=3))
    pixels = data.images[0].permute(1, 2, 0).numpy().astype(int)
    assert np.abs(pixels[:, 2:12].mean(axis=(0, 1)) - (255, 0, 0)).max() < 20
    assert np.abs(pixels[:, 16:26].mean(axis=(0, 1)) - (0, 0, 255)).max() < 20


SIXTEEN_BIT = np.array([0, 65535, 32768, 257 * 100, 256], dtype=np.uint16)
EIGHT_BIT = np.array([0, 255, 128, 100, 1])


def test_16_bit_png_is_scaled_not_clipped(tmp_path, make_params):
    root = tmp_path / "imgs"
    root.mkdir()
    Image.fromarray(np.tile(SIXTEEN_BIT, (28, 6))[:, :28]).save(root / "deep.png")
    with Image.open(root / "deep.png") as check:
        assert check.mode == "I;16"
    data = _load(make_params(source="image_folder", path=str(root), resize=False))
    row = data.images[0, 0, 0, : len(SIXTEEN_BIT)].numpy().astype(int)
    assert np.abs(row - EIGHT_BIT).max() <= 1


@pytest.mark.parametrize(("dtype", "mode"), [(">u2", "I;16B"), ("<i4", "I")])
def test_other_16_bit_layouts_are_scaled(tmp_path, dtype, mode):
    # PIL picks the decoder by content: TIFF holds these modes, as some PNG tools' output does.
    path = tmp_path / "deep.png"
    Image.fromarray(np.tile(SIXTEEN_BIT.astype(dtype), (4, 1))).save(path, format="TIFF")
    with Image.open(path) as check:
        assert check.mode == mode
    array = decode_image(path, 4, 1, resize=True)
    assert np.abs(array[0, :4, 0].astype(int) - [0, 255, 128, 100]).max() <= 1


def test_32_bit_integers_beyond_16_bits_are_refused(tmp_path):
    path = tmp_path / "wide.png"
    Image.fromarray(np.full((4, 4), 70000, dtype="<i4")).save(path, format="TIFF")
    with pytest.raises(DataSourceError, match=r"wide\.png' holds integer pixels outside 0\.\.65535"):
        decode_image(path, 4, 1, resize=True)


# --------------------------------------------------------------------------- orientation


def test_exif_orientation_is_applied_before_resizing(tmp_path, make_params):
    root = tmp_path / "imgs"
    root.mkdir()
    stored = np.zeros((20, 40), dtype=np.uint8)  # 40 wide, 20 high: white top, black bottom
    stored[:10] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was turned; view rotated 90° clockwise
    Image.fromarray(stored).save(root / "photo.jpg", exif=exif, quality=95)
    data = _load(make_params(source="image_folder", path=str(root), image_size=20))
    upright = data.images[0, 0].numpy().astype(int)
    # Rotated clockwise, the white top becomes the right half of a 20-wide, 40-high picture.
    assert upright[:, :8].mean() < 30 and upright[:, 12:].mean() > 225
