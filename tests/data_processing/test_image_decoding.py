"""Image files: size cap before decoding, CMYK and 16-bit conversion, EXIF orientation,
transparency composited onto data.background."""

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


# --------------------------------------------------------------------------- transparency


def _rgba_file(path, pixels) -> None:
    Image.fromarray(np.asarray(pixels, dtype=np.uint8).reshape(1, -1, 4), mode="RGBA").save(path)


def _composite(colour, alpha, background):
    """Over-compositing by hand: out = colour·α + background·(1 − α), α = alpha/255, rounded."""
    return [round(c * alpha / 255 + b * (1 - alpha / 255)) for c, b in zip(colour, background, strict=True)]


@pytest.mark.parametrize("background", [(255, 255, 255), (0, 0, 0), (30, 144, 255)])
def test_alpha_is_composited_onto_the_background_by_hand(tmp_path, background) -> None:
    pixels = [(200, 100, 0, 0), (200, 100, 0, 255), (200, 100, 0, 128), (10, 240, 90, 64)]
    path = tmp_path / "four.png"
    _rgba_file(path, pixels)
    array = decode_image_row(path, background)
    expected = [_composite(pixel[:3], pixel[3], background) for pixel in pixels]
    assert np.abs(array.astype(int) - np.array(expected)).max() <= 1  # PIL rounds in 8-bit steps
    assert array[0].tolist() == list(background) and array[1].tolist() == [200, 100, 0]


def decode_image_row(path, background):
    """decode_image needs a square; pad the one-row file into a 4×4 canvas of opaque pixels."""
    row = np.asarray(Image.open(path))
    square = np.zeros((4, 4, 4), dtype=np.uint8)
    square[..., 3] = 255
    square[0] = row[0]
    padded = path.with_name("square.png")
    Image.fromarray(square, mode="RGBA").save(padded)
    return decode_image(padded, 4, 3, resize=False, background=background)[0]


def test_a_folder_mixing_alpha_and_no_alpha_comes_out_alike(tmp_path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    red = np.zeros((8, 8, 4), dtype=np.uint8)
    red[..., 0], red[2:6, 2:6, 3] = 255, 255  # an opaque red square on a transparent surround
    Image.fromarray(red, mode="RGBA").save(folder / "a_alpha.png")
    flat = np.full((8, 8, 3), 255, dtype=np.uint8)
    flat[2:6, 2:6] = (255, 0, 0)  # the same picture drawn on white, without alpha
    Image.fromarray(flat, mode="RGB").save(folder / "b_plain.png")
    palette = Image.fromarray(red, mode="RGBA").convert("P")  # palette with a transparent index
    palette.info["transparency"] = palette.getpixel((0, 0))
    palette.save(folder / "c_palette.png", transparency=palette.getpixel((0, 0)))
    data = _load({"source": "image_folder", "path": str(folder), "image_size": 8, "channels": 3,
                  "background": "white"})
    by_id = dict(zip(data.ids, data.images, strict=True))
    assert (by_id["a_alpha.png"] == by_id["b_plain.png"]).all()
    assert (by_id["c_palette.png"] == by_id["b_plain.png"]).all()
    gray = _load({"source": "image_folder", "path": str(folder), "image_size": 8, "channels": 1,
                  "background": [255, 255, 255]})
    assert int(gray.images[0, 0, 0, 0]) == 255  # the surround is white in gray too


def test_image_folders_keep_black_behind_transparency_by_default(tmp_path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    Image.fromarray(np.zeros((4, 4, 4), dtype=np.uint8), mode="RGBA").save(folder / "clear.png")
    data = _load({"source": "image_folder", "path": str(folder), "image_size": 4, "channels": 3})
    assert int(data.images.max()) == 0
