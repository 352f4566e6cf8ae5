"""Reading data never runs code, never leaves data.path, and does not import torchvision early."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from dp_helpers import PROJECT, digits, write_cifar, write_png_folder

from ganforge.errors import DataSourceError
from ganforge.pipelines.data_processing.params import parse_data_params
from ganforge.pipelines.data_processing.sources import load_source


def _load(params):
    return load_source(parse_data_params(params))


# --------------------------------------------------------------------------- CIFAR pickles


class _RunsCode:
    """Unpickling this calls ``function(*args)``: what a crafted data file would do."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def _payloads(marker):
    writes_marker = f"open({str(marker)!r}, 'w').write('pwned')"
    return {
        "exec": (_RunsCode(exec, writes_marker), "builtins.exec"),
        "os.system": (_RunsCode(os.system, f"touch '{marker}'"), f"{os.system.__module__}.system"),
    }


@pytest.mark.parametrize("payload", ["exec", "os.system"])
@pytest.mark.parametrize("name", ["data_batch_1", "batches.meta"])
def test_cifar_pickle_that_runs_code_is_refused(tmp_path, make_params, payload, name):
    folder = write_cifar(tmp_path / "data")
    marker = tmp_path / "pwned_marker"
    crafted, forbidden = _payloads(marker)[payload]
    with open(folder / name, "wb") as file:
        pickle.dump({"data": crafted, "labels": [], "label_names": crafted}, file)
    params = make_params(source="cifar10", path=str(tmp_path / "data"), image_size=32, channels=3)
    with pytest.raises(DataSourceError) as error:
        _load(params)
    message = str(error.value)
    assert f"Refused to load '{folder / name}'" in message and f"'{forbidden}'" in message
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_cifar_batches_of_every_pickle_protocol_load_pixel_exact(tmp_path, make_params, protocol):
    folder = write_cifar(tmp_path, per_batch=3)
    rows = digits(3, 32, 3, seed=42).reshape(3, -1)  # CIFAR rows: R plane, G plane, B plane
    labels = [np.int64(7), 8, 9]  # numpy scalars pickle through numpy's `scalar` helper
    with open(folder / "data_batch_1", "wb") as file:
        pickle.dump({"data": rows, "labels": labels, "batch_label": "x"}, file, protocol=protocol)
    params = make_params(source="cifar10", path=str(tmp_path), image_size=32, channels=3)
    data = _load(params)
    assert data.images.shape == (15, 3, 32, 32) and data.images.dtype == torch.uint8
    first_batch = [i for i, image_id in enumerate(data.ids) if int(image_id.rsplit("/")[1]) < 3]
    for i in first_batch:
        original = int(data.ids[i].rsplit("/")[1])
        assert torch.equal(data.images[i], torch.from_numpy(rows[original].reshape(3, 32, 32)))
        assert int(data.labels[i]) == int(labels[original])
    assert data.class_names[-1] == "truck"


def test_cifar_batch_with_wrong_layout(tmp_path, make_params):
    folder = write_cifar(tmp_path)
    with open(folder / "data_batch_2", "wb") as file:
        pickle.dump({"data": np.zeros((4, 10), dtype=np.uint8), "labels": [0] * 4}, file)
    params = make_params(source="cifar10", path=str(tmp_path), image_size=32, channels=3)
    with pytest.raises(DataSourceError, match=r"N×3072 uint8.*not a CIFAR-10 pickle"):
        _load(params)


def test_cifar_download_is_md5_checked_then_read_safely(tmp_path, make_params, monkeypatch):
    import torchvision.datasets.utils as tv_utils

    def fake_download(url, root, filename, md5):  # stands in for the 170 MB archive
        write_cifar(tmp_path / "data")

    monkeypatch.setattr(tv_utils, "download_and_extract_archive", fake_download)
    params = make_params(
        source="cifar10", path=str(tmp_path / "data"), download=True, image_size=32, channels=3
    )
    with pytest.raises(DataSourceError, match="do not match their md5 checksums"):
        _load(params)  # the fixture is not the official data set

    monkeypatch.setattr(tv_utils, "check_integrity", lambda path, md5: True)
    with open(tmp_path / "data/cifar-10-batches-py/data_batch_3", "wb") as file:
        pickle.dump(_RunsCode(exec, "raise SystemExit"), file)
    with pytest.raises(DataSourceError, match="Refused to load"):
        _load(params)  # even a file that passed the md5 check goes through the safe loader


# --------------------------------------------------------------------------- symbolic links


def _folder_params(make_params, root):
    return make_params(source="image_folder", path=str(root), num_workers=1)


def test_file_link_outside_root_is_refused(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", 2)
    outside = write_png_folder(tmp_path / "elsewhere", 1)
    (root / "linked.png").symlink_to(outside / "img_000.png")
    with pytest.raises(DataSourceError) as error:
        _load(_folder_params(make_params, root))
    message = str(error.value)
    assert f"Symbolic link '{root / 'linked.png'}'" in message and "outside data.path" in message
    assert "fingerprint" in message and "Copy the files into data.path" in message


def test_file_link_inside_root_is_read(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", 2)
    (root / "linked.png").symlink_to(root / "img_001.png")
    data = _load(_folder_params(make_params, root))
    assert sorted(data.ids) == ["img_000.png", "img_001.png", "linked.png"]
    linked, original = data.ids.index("linked.png"), data.ids.index("img_001.png")
    assert torch.equal(data.images[linked], data.images[original])


def test_folder_link_inside_root_is_a_class(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", {"cats": 2, "dogs": 1})
    (root / "kittens").symlink_to(root / "cats", target_is_directory=True)
    data = _load(_folder_params(make_params, root))
    assert data.class_names == ["cats", "dogs", "kittens"]
    kittens = [i for i, image_id in enumerate(data.ids) if image_id.startswith("kittens/")]
    assert sorted(data.ids[i] for i in kittens) == ["kittens/img_000.png", "kittens/img_001.png"]
    assert {int(data.labels[i]) for i in kittens} == {2}  # labelled with the link's name


def test_folder_link_to_a_folder_inside_root_via_a_relative_path(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", {"cats": 1, "dogs": 1})
    (root / "dogs" / "more").symlink_to("../cats", target_is_directory=True)
    data = _load(_folder_params(make_params, root))
    assert "dogs/more/img_000.png" in data.ids
    assert data.class_names == ["cats", "dogs"]


def test_folder_link_outside_root_is_refused(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", {"cats": 2})
    outside = write_png_folder(tmp_path / "elsewhere", 1)
    (root / "dogs").symlink_to(outside, target_is_directory=True)
    with pytest.raises(DataSourceError, match=rf"Symbolic link '{root / 'dogs'}'.*outside data\.path"):
        _load(_folder_params(make_params, root))


def test_chain_of_links_leaving_root_is_refused(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", 1)
    outside = write_png_folder(tmp_path / "elsewhere", 1)
    (root / "hop.png").symlink_to(outside / "img_000.png")
    (root / "start.png").symlink_to(root / "hop.png")
    with pytest.raises(DataSourceError, match="outside data.path"):
        _load(_folder_params(make_params, root))


@pytest.mark.parametrize("target", [".", ".."])
def test_link_loop_is_refused(tmp_path, make_params, target):
    root = write_png_folder(tmp_path / "imgs", {"cats": 1})
    (root / "cats" / "loop").symlink_to(target, target_is_directory=True)
    with pytest.raises(DataSourceError, match=r"'.*cats/loop'.*folder that contains the link"):
        _load(_folder_params(make_params, root))


def test_link_to_itself_is_refused(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", 1)
    (root / "a.png").symlink_to(root / "b.png")
    (root / "b.png").symlink_to(root / "a.png")
    with pytest.raises(DataSourceError, match="loop of links"):
        _load(_folder_params(make_params, root))


def test_dangling_link_is_refused(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", 1)
    (root / "gone.png").symlink_to(root / "deleted.png")
    with pytest.raises(DataSourceError, match=r"gone\.png'.*does not exist"):
        _load(_folder_params(make_params, root))


def test_hidden_links_are_ignored_like_other_hidden_files(tmp_path, make_params):
    root = write_png_folder(tmp_path / "imgs", 1)
    (root / ".cache").symlink_to(tmp_path, target_is_directory=True)
    assert _load(_folder_params(make_params, root)).ids == ["img_000.png"]


# --------------------------------------------------------------------------- start-up cost


def _imports_torchvision(code: str) -> bool:
    script = textwrap.dedent(code) + "\nimport sys\nprint('torchvision' in sys.modules)\n"
    env = {**os.environ, "PYTHONPATH": str(PROJECT / "src"), "KEDRO_DISABLE_TELEMETRY": "true"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return result.stdout.strip().splitlines()[-1] == "True"


def test_sources_module_does_not_import_torchvision():
    # The package's __init__ builds the pipeline, whose other modules have imports of their
    # own; a bare package object lets this test see what sources.py alone imports.
    assert not _imports_torchvision(
        f"""
        import sys, types
        package = types.ModuleType("ganforge.pipelines.data_processing")
        package.__path__ = [{str(PROJECT / "src/ganforge/pipelines/data_processing")!r}]
        sys.modules[package.__name__] = package
        import ganforge.pipelines.data_processing.sources
        """
    )


def test_importing_the_data_pipeline_does_not_import_torchvision():
    assert not _imports_torchvision("import ganforge.pipelines.data_processing.sources")


def test_registering_every_pipeline_imports_no_torchvision_pytorch_fid_or_gx():
    """`kedro run --pipeline=data_processing` builds every pipeline; none may import these slow
    packages before a node needs them."""
    code = ("import sys; from ganforge.pipeline_registry import register_pipelines; register_pipelines(); "
            "print(sorted(m for m in ('torchvision', 'pytorch_fid', 'great_expectations') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
