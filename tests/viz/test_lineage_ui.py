"""The lineage view: `kedro viz build` of a throw-away project copy, opened in headless Chromium.

The build is kedro-viz's static site (index.html + JSON under api/), so what Chromium renders
here is what `kedro viz run` shows. It is served over HTTP because the app fetches its JSON.
Set GANFORGE_UPDATE_DOCS=1 to refresh docs/images/lineage_wgan.png from the screenshot.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
from kedro.io.core import Version

from ganforge.datasets import TorchDataset
from tests.kedro_project import REPO, kedro, make_project

LAYERS = ["raw", "intermediate", "model_input", "feature", "models", "model_output", "reporting"]
# The page the tests open: the wgan pipeline, namespaces expanded so its nodes are drawn.
WGAN_QUERY = "?pid=wgan&expandAllPipelines=true"
# Saved UI preferences (kedro-viz keeps them in localStorage["KedroViz"]): no feature-hint popup
# over the graph, no minimap, no sidebar, light theme, so the screenshot is the graph itself.
UI_PREFERENCES = {
    "theme": "light",
    "showFeatureHints": False,
    "visible": {"miniMap": False, "sidebar": False},
}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
# Tall enough that the whole wgan pipeline (seven layer bands) renders with legible labels.
WINDOW_SIZE = "1400,2200"


def _chromium() -> str | None:
    candidates = [
        os.environ.get("GANFORGE_CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ]
    return next((path for name in candidates if name and (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def viz_build(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("viz") / "project")
    result = kedro(project, "viz", "build", timeout=400)
    build = project / "build"
    # `kedro viz build` exits 0 even when the build fails, so check what it wrote.
    assert (build / "index.html").exists() and (build / "api" / "main").exists(), (
        result.stdout[-3000:] + result.stderr[-3000:]
    )
    index = build / "index.html"
    saved = json.dumps(json.dumps(UI_PREFERENCES))  # a JS string literal holding the JSON
    preferences = f"<script>localStorage.setItem('KedroViz', {saved});</script>"
    index.write_text(index.read_text().replace("<script", preferences + "\n<script", 1))
    return build


@pytest.fixture(scope="module")
def served(viz_build) -> Iterator[str]:
    """The build over HTTP on 127.0.0.1; port 0 lets the OS pick a free one."""

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep pytest output clean
            pass

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=viz_build)
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _browse(
    url: str, profile: Path, *args: str, budget_ms: int = 15000
) -> subprocess.CompletedProcess:
    binary = _chromium()
    if binary is None:
        pytest.skip("no chromium binary (apt-get install -y chromium)")
    command = [
        binary,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
        f"--window-size={WINDOW_SIZE}",
        *args,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def _assert_layer_order(layers: list[str]) -> None:
    """All seven layers, in an order the graph forces. kedro-viz sorts layers by dependencies only
    and breaks ties arbitrarily; `feature` is not upstream of `models` or `model_output`, so its
    place among those two may vary from build to build."""
    assert sorted(layers) == sorted(LAYERS), layers
    position = {layer: index for index, layer in enumerate(layers)}
    for before, after in [
        ("raw", "intermediate"),
        ("intermediate", "model_input"),
        ("model_input", "feature"),
        ("model_input", "models"),
        ("models", "model_output"),
        ("model_output", "reporting"),
        ("feature", "reporting"),
    ]:
        assert position[before] < position[after], layers


def _rendered_labels(dom: str) -> list[str]:
    """Texts drawn on the flowchart (SVG node labels), not the sidebar list."""
    return [
        html.unescape(text)
        for text in re.findall(r'class="pipeline-node__text"[^>]*>([^<]*)<', dom)
    ]


def _wgan_task_names() -> set[str]:
    from ganforge.pipeline_registry import register_pipelines

    names = set()
    for node in register_pipelines()["wgan"].nodes:
        names.add(node.name.removeprefix(f"{node.namespace}.") if node.namespace else node.name)
    return names


@pytest.mark.e2e
def test_every_pipeline_is_built(viz_build):
    from ganforge.pipeline_registry import register_pipelines

    main = json.loads((viz_build / "api" / "main").read_text())
    assert {pipeline["id"] for pipeline in main["pipelines"]} == set(register_pipelines())
    for name in register_pipelines():
        assert (viz_build / "api" / "pipelines" / name).exists(), name


@pytest.mark.e2e
def test_datasets_are_grouped_by_layer(viz_build):
    # kedro-viz drops *all* layer bands of a pipeline when layers are ordered cyclically
    wgan = json.loads((viz_build / "api" / "pipelines" / "wgan").read_text())
    _assert_layer_order(wgan["layers"])
    # every dataset with a catalog entry (anything but an implicit MemoryDataset) has a layer
    unlayered = [
        node["name"]
        for node in wgan["nodes"]
        if node["type"] == "data"
        and not node["layer"]
        and node["dataset_type"] != "io.memory_dataset.MemoryDataset"
    ]
    assert not unlayered


@pytest.mark.e2e
def test_no_pipeline_has_cyclic_layers(viz_build):
    main = json.loads((viz_build / "api" / "main").read_text())
    layered = {node["layer"] for node in main["nodes"] if node.get("layer")}
    broken = []
    for pipeline in main["pipelines"]:
        data = json.loads((viz_build / "api" / "pipelines" / pipeline["id"]).read_text())
        if any(node.get("layer") for node in data["nodes"]) and not data["layers"]:
            broken.append(pipeline["id"])
    assert layered
    assert not broken, f"layer bands disabled (cyclic layer order) in: {broken}"


@pytest.mark.e2e
def test_wgan_pipeline_renders_in_chromium(served, tmp_path):
    expected = _wgan_task_names()
    assert {"train", "configure_experiment", "sample", "evaluate"} <= expected
    result = _browse(served + WGAN_QUERY, tmp_path / "profile", "--dump-dom")
    labels = _rendered_labels(result.stdout)
    if not expected <= set(labels):  # a loaded CI machine may need more virtual time, once
        result = _browse(served + WGAN_QUERY, tmp_path / "profile2", "--dump-dom", budget_ms=40000)
        labels = _rendered_labels(result.stdout)
    assert expected <= set(labels), f"missing {expected - set(labels)}; rendered {labels}"
    # the wgan pipeline is the one selected and drawn: no other variant's datasets on the chart
    assert re.search(r'class="dropdown__label"><span>wgan</span>', result.stdout)
    assert "wgan.checkpoint" in labels
    assert not [label for label in labels if re.match(r"(gan|dcgan|wgan_gp|cgan)\.", label)]
    layer_names = re.findall(r'class="pipeline-layer-name"[^>]*>([^<]*)<', result.stdout)
    _assert_layer_order(layer_names)


@pytest.mark.e2e
def test_screenshot_of_the_wgan_lineage(served, tmp_path):
    if os.environ.get("GANFORGE_UPDATE_DOCS") == "1":
        target = REPO / "docs" / "images" / "lineage_wgan.png"
        target.parent.mkdir(parents=True, exist_ok=True)
    else:
        target = tmp_path / "lineage_wgan.png"
    target.unlink(missing_ok=True)
    _browse(served + WGAN_QUERY, tmp_path / "profile", f"--screenshot={target}")
    assert target.exists(), "chromium wrote no screenshot"
    from PIL import Image

    with Image.open(target) as image:
        assert image.size == tuple(int(side) for side in WINDOW_SIZE.split(","))
        # not a blank page: a rendered graph has many distinct colours
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 50
    assert target.stat().st_size < 500_000


def test_torch_dataset_preview_follows_the_kedro_viz_contract(tmp_path):
    """kedro-viz calls preview(**preview_args) and names the widget after the return annotation."""
    from kedro_viz.models.flowchart.node_metadata import DataNodeMetadata
    from kedro_viz.models.flowchart.nodes import GraphNode

    metadata = {"kedro-viz": {"layer": "models", "preview_args": {"max_items": 4}}}
    TorchDataset(filepath=str(tmp_path / "ckpt.pt"), version=Version(None, None)).save(
        {
            "epoch": 2,
            "loss": torch.tensor(0.25),
            "images": torch.zeros(4, 1, 8, 8, dtype=torch.uint8),
            "generator": {f"layer{i}.weight": torch.ones(2, 2) for i in range(6)},
        }
    )
    dataset = TorchDataset(
        filepath=str(tmp_path / "ckpt.pt"), version=Version(None, None), metadata=metadata
    )
    node = GraphNode.create_data_node(
        dataset_id="ckpt",
        dataset_name="wgan.checkpoint",
        layer="models",
        tags=set(),
        dataset=dataset,
        modular_pipelines=None,
    )
    node_metadata = DataNodeMetadata(data_node=node)
    assert node_metadata.preview_type == "JSONPreview"
    preview = json.loads(node_metadata.preview)
    assert preview["epoch"] == 2
    assert preview["loss"] == {"shape": [], "dtype": "float32", "value": 0.25}
    assert preview["images"] == {"shape": [4, 1, 8, 8], "dtype": "uint8"}
    # containers are cut at max_items (from preview_args), so a preview stays small
    assert len(preview["generator"]) == 5 and preview["generator"]["…"] == "2 more keys"
    assert preview["generator"]["layer0.weight"] == {"shape": [2, 2], "dtype": "float32"}
