"""`kedro run --pipeline=generate_<variant>`: seeded PNG files, a grid and a latent walk from the
latest checkpoint, a named version or the champion."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from tests.kedro_project import kedro, latest, make_project, tiny_params, versions

pytestmark = pytest.mark.e2e


def test_generate_writes_the_same_images_for_the_same_seed_from_latest_or_a_named_version(tmp_path):
    project = make_project(tmp_path / "project")
    params = tiny_params(("dcgan",), epochs=1)
    kedro(project, "run", "--pipeline=dcgan", f"--params={params}")
    version = versions(project / "data/06_models/dcgan/checkpoint.pt")[0].name
    generate = "generate.count=10,generate.interpolation.steps=3"
    for chosen in ("latest", version):
        kedro(project, "run", "--pipeline=generate_dcgan", f"--params={generate},generate.checkpoint={chosen}")
    runs = sorted(path for path in (project / "data/07_model_output/dcgan/generated").iterdir() if path.is_dir())
    assert len(runs) == 2
    files = [sorted(run.glob("*.png")) for run in runs]
    assert [path.name for path in files[0]] == [f"{index:05d}.png" for index in range(10)]
    assert [path.read_bytes() for path in files[0]] == [path.read_bytes() for path in files[1]]
    assert Image.open(files[0][0]).size == (28, 28)
    record = json.loads(latest(project / "data/08_reporting/dcgan/generation_record.json").read_text())
    assert record["checkpoint_version"] == version and record["count"] == 10 and record["seed"] == 0
    walk = Image.open(latest(project / "data/07_model_output/dcgan/latent_interpolation.gif"))
    assert walk.n_frames == 4 * 3 and walk.size == (4 * 28, 4 * 28)  # four seeds, three frames from each
    Image.open(latest(project / "data/07_model_output/dcgan/generated_grid.png")).verify()

    result = kedro(project, "run", "--pipeline=generate_dcgan", check=False)  # the default: the champion
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error (")]
    assert len(errors) == 1 and "has no champion yet" in errors[0] and "generate.checkpoint=latest" in errors[0]
