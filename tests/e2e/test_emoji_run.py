"""`kedro run --env=emoji`: every single-domain family, in miniature, on a fake emoji package
put where a user would put a hand-fetched tarball (no npm, no network)."""

from __future__ import annotations

import json

import pytest

from tests.emoji_fixture import write_fake_package
from tests.kedro_project import ONE_DOMAIN_VARIANTS, kedro, latest, make_project, tiny_params

pytestmark = pytest.mark.e2e

EMOJI_COUNT = 6 + 42  # the fixture's six plus 42 more


@pytest.fixture(scope="module")
def emoji_run(tmp_path_factory):
    from ganforge.pipelines.data_processing.sources import emoji

    root = tmp_path_factory.mktemp("emoji")
    project = make_project(root / "project")
    # an extracted package folder is read as it is, offline (a real fetch checks the pinned sha512)
    write_fake_package(root / "package.tgz", "google", more=42)
    folder = project / "data/01_raw/emoji" / f"emoji-datasource-google-{emoji.EMOJI_VERSION}"
    folder.parent.mkdir(parents=True)
    emoji._extract(root / "package.tgz", folder, "google")
    # progan grows 4 → 64 through 8 phases: 8-image phases at batch 8 reach 64×64 within two epochs
    growth = {"progan.variant.training.batch_size": 8, "progan.variant.training.epochs": 2,
              "progan.variant.recipe.stable_images": 8, "progan.variant.recipe.fade_images": 8}
    params = tiny_params(ONE_DOMAIN_VARIANTS, epochs=1, limit=EMOJI_COUNT, **growth)
    result = kedro(project, "run", "--env=emoji", f"--pipelines={','.join(ONE_DOMAIN_VARIANTS)}",
                   f"--params={params}", check=False)
    return project, result


def test_every_family_trains_and_scores_color_emoji(emoji_run):
    project, result = emoji_run
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    model_input = project / "data/05_model_input"
    assert any(model_input.rglob("model_input.pt"))
    for variant in ONE_DOMAIN_VARIANTS:
        metrics = json.loads(latest(project / f"data/08_reporting/{variant}/metrics.json").read_text())
        assert metrics["fid"] > 0, variant
        manifest = json.loads(latest(project / f"data/08_reporting/{variant}/run_manifest.json").read_text())
        assert manifest["data_parameters"]["source"] == "emoji"
        assert set(manifest["pipeline"].split(",")) == set(ONE_DOMAIN_VARIANTS)
