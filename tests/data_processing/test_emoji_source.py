"""data.source: emoji on a fake package made here (no network): fetch once, atomically, then
offline; labels, skin tones, compositing onto white; every bad setting in one line."""

from __future__ import annotations

import os
import stat
import sys

import numpy as np
import pytest
import torch

from ganforge.errors import ConfigError, DataSourceError
from ganforge.pipelines.data_processing.params import parse_data_params
from ganforge.pipelines.data_processing.sources import emoji, load_source
from tests.emoji_fixture import BASE_COUNT, FAKE_EMOJI, SKIN_COUNT, write_fake_package

VERSION = emoji.EMOJI_VERSION


@pytest.fixture
def fake_styles(tmp_path, monkeypatch):
    """Both styles pinned to fake tarballs (kept in ``tmp_path/registry`` as a fake npm serves them)."""
    registry = tmp_path / "registry"
    styles = {}
    for style, package in emoji.STYLES.items():
        tarball = registry / f"{package.folder_name}.tgz"
        styles[style] = emoji.EmojiPackage(package.name, write_fake_package(tarball, style))
    monkeypatch.setattr(emoji, "STYLES", styles)
    return registry


@pytest.fixture
def fake_npm(tmp_path, fake_styles, monkeypatch):
    """An ``npm`` on the PATH that "packs" from the fake registry and counts its calls."""
    bin_folder, calls = tmp_path / "bin", tmp_path / "npm_calls"
    bin_folder.mkdir()
    script = bin_folder / "npm"
    script.write_text(f"""#!{sys.executable}
import shutil, sys
args = sys.argv[1:]
open({str(calls)!r}, "a").write(" ".join(args) + "\\n")
name, version = args[1].rsplit("@", 1)
shutil.copy({str(fake_styles)!r} + f"/{{name}}-{{version}}.tgz", args[args.index("--pack-destination") + 1])
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    return calls


def emoji_params(root, **overrides):
    return parse_data_params({"source": "emoji", "path": str(root), "image_size": 64, "channels": 3, **overrides})


def test_fetched_once_with_npm_then_read_offline(tmp_path, fake_npm):
    root = tmp_path / "raw"
    data = load_source(emoji_params(root))
    assert data.images.shape == (BASE_COUNT, 3, 64, 64) and data.images.dtype == torch.uint8
    assert len(fake_npm.read_text().splitlines()) == 1
    assert "--ignore-scripts" in fake_npm.read_text() and f"@{VERSION}" in fake_npm.read_text()
    folder = root / "emoji" / f"emoji-datasource-google-{VERSION}"
    assert (folder / "LICENSE").is_file() and not (folder / "img/google/sheets").exists()
    assert not list((root / "emoji").glob("*.tgz"))  # the fetched tarball is not kept
    again = load_source(emoji_params(root))  # offline: npm is not asked again
    assert len(fake_npm.read_text().splitlines()) == 1
    assert torch.equal(again.images, data.images)


def test_labels_skin_tones_and_left_out_components(tmp_path, fake_npm):
    root = tmp_path / "raw"
    by_category = load_source(emoji_params(root))
    assert by_category.class_names == ["Animals & Nature", "People & Body", "Smileys & Emotion"]
    names = {entry[0]: entry[1] for entry in FAKE_EMOJI}
    for label, image_id in zip(by_category.labels.tolist(), by_category.ids, strict=True):
        assert by_category.class_names[label] == names[image_id.split("/")[1]]
    assert not any("1f3fb" in image_id for image_id in by_category.ids)  # the Component swatch
    by_subcategory = load_source(emoji_params(root, label_field="subcategory"))
    assert len(by_subcategory.class_names) == 4
    unlabeled = load_source(emoji_params(root, label_field="none"))
    assert unlabeled.labels is None and unlabeled.class_names == []
    with_skins = load_source(emoji_params(root, skin_tones=True, label_field="none"))
    assert len(with_skins.images) == BASE_COUNT + SKIN_COUNT


def test_transparency_is_composited_onto_white_by_default(tmp_path, fake_npm):
    data = load_source(emoji_params(tmp_path / "raw", limit=1))
    corner, centre = data.images[0, :, 0, 0], data.images[0, :, 32, 32]
    assert corner.tolist() == [255, 255, 255]  # fully transparent surround → the background
    assert centre.tolist() != [255, 255, 255]
    black = load_source(emoji_params(tmp_path / "raw", limit=1, background="black"))
    assert black.images[0, :, 0, 0].tolist() == [0, 0, 0]
    assert torch.equal(black.images[0, :, 32, 32], centre)


def test_a_tarball_put_there_by_hand_needs_no_npm(tmp_path, fake_styles, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    folder = tmp_path / "raw" / "emoji"
    folder.mkdir(parents=True)
    tarball = folder / f"emoji-datasource-twitter-{VERSION}.tgz"
    tarball.write_bytes((fake_styles / tarball.name).read_bytes())
    data = load_source(emoji_params(tmp_path / "raw", style="twitter"))
    assert len(data.images) == BASE_COUNT and data.ids[0].startswith("emoji-twitter/")
    assert tarball.is_file()  # the user's file is left where it was


def test_without_npm_one_line_says_how_to_get_the_files(tmp_path, fake_styles, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(DataSourceError) as caught:
        load_source(emoji_params(tmp_path / "raw"))
    message = str(caught.value)
    assert "npm is not on the PATH" in message and f"npm pack emoji-datasource-google@{VERSION}" in message
    assert "\n" not in message
    assert not (tmp_path / "raw" / "emoji" / f"emoji-datasource-google-{VERSION}").exists()


def test_download_false_refuses_to_fetch(tmp_path, fake_npm):
    with pytest.raises(DataSourceError, match="data.download is false"):
        load_source(emoji_params(tmp_path / "raw", download=False))
    assert not fake_npm.exists()


def test_an_interrupted_extraction_leaves_nothing_a_later_run_reads(tmp_path, fake_npm, monkeypatch):
    root = tmp_path / "raw"
    copied = [0]
    real_copy = emoji.shutil.copyfileobj

    def copy_then_die(source, sink):
        copied[0] += 1
        if copied[0] == 4:
            raise KeyboardInterrupt  # killed halfway through the images
        real_copy(source, sink)

    monkeypatch.setattr(emoji.shutil, "copyfileobj", copy_then_die)
    with pytest.raises(KeyboardInterrupt):
        load_source(emoji_params(root))
    assert not (root / "emoji" / f"emoji-datasource-google-{VERSION}").exists()
    monkeypatch.setattr(emoji.shutil, "copyfileobj", real_copy)
    # a partial folder left by a harder kill (no cleanup ran) is removed by the next run
    stale = root / "emoji" / f".emoji-datasource-google-{VERSION}.partial-killed"
    (stale / "img").mkdir(parents=True)
    data = load_source(emoji_params(root))
    assert len(data.images) == BASE_COUNT and not stale.exists()


def test_a_tarball_of_another_content_is_refused(tmp_path, fake_styles, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    folder = tmp_path / "raw" / "emoji"
    folder.mkdir(parents=True)
    (folder / f"emoji-datasource-google-{VERSION}.tgz").write_bytes(b"truncated")
    with pytest.raises(DataSourceError, match="differs from the pinned one"):
        load_source(emoji_params(tmp_path / "raw"))


def test_members_outside_the_package_are_never_extracted(tmp_path, monkeypatch):
    tarball = tmp_path / "registry" / "evil.tgz"
    integrity = write_fake_package(tarball, "google", extra_members={
        "package/../../escaped.txt": b"x", "/tmp/absolute.txt": b"x", "package/img/google/64/../../../up.png": b"x"})
    monkeypatch.setattr(emoji, "STYLES", {"google": emoji.EmojiPackage("emoji-datasource-google", integrity)})
    folder = tmp_path / "raw" / "emoji"
    folder.mkdir(parents=True)
    (folder / f"emoji-datasource-google-{VERSION}.tgz").write_bytes(tarball.read_bytes())
    load_source(emoji_params(tmp_path / "raw"))
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "raw" / "escaped.txt").exists()
    extracted = {path.name for path in (folder / f"emoji-datasource-google-{VERSION}").rglob("*") if path.is_file()}
    assert "up.png" not in extracted and "escaped.txt" not in extracted


@pytest.mark.parametrize("overrides, error, words", [
    ({"style": "apple"}, ConfigError, "data.style is 'apple'"),
    ({"label_field": "colour"}, ConfigError, "data.label_field is 'colour'"),
    ({"background": "not-a-colour"}, ConfigError, "not a colour"),
    ({"background": [300, 0, 0]}, ConfigError, "not a colour"),
])
def test_bad_emoji_settings_are_one_line(tmp_path, fake_npm, overrides, error, words):
    with pytest.raises(error) as caught:
        load_source(emoji_params(tmp_path / "raw", **overrides))
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert not fake_npm.exists()  # refused before anything was fetched


def test_an_emoji_option_on_another_source_is_refused():
    with pytest.raises(ConfigError, match="does not read data.style; emoji reads them"):
        load_source(parse_data_params({"source": "mnist_builtin", "style": "google"}))


def test_resized_to_other_sizes(tmp_path, fake_npm):
    data = load_source(emoji_params(tmp_path / "raw", image_size=32))
    assert data.images.shape[-2:] == (32, 32)
    assert np.isclose(float(data.images[:, :, 0, 0].float().mean()), 255)
