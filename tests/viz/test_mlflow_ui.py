"""`kedro mlflow ui` on a project with two real runs, opened in headless Chromium.

Two tiny `dcgan` runs of different lengths give the UI two runs to show side by side. Chromium
reaches the UI through a small proxy that sets the UI's saved preferences (no assistant panel, the
model-training view) before the app starts, as the lineage test does for kedro-viz. Set
GANFORGE_UPDATE_DOCS=1 to refresh docs/images/mlflow_runs.png.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.kedro_project import REPO, kedro, kedro_env, make_project, tiny_params, tracked_runs
from tests.viz.test_lineage_ui import CHROMIUM_FLAGS, _chromium

pytestmark = pytest.mark.e2e

# The MLflow UI keeps these in localStorage as "<key>_v<version>": JSON values.
UI_PREFERENCES = {
    "mlflow.assistant.panelOpen_v1": False,
    "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": True,
    "mlflow.workflowType_v1": "machine_learning",
    "_mlflow_model_registry_promo_modal_dismissed_v1": True,
}
WINDOW_SIZE = "1600,1000"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host",
              "origin", "referer"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("mlflow_ui") / "project")
    for epochs in (2, 4):
        kedro(project, "run", "--pipeline=dcgan", f"--params={tiny_params(('dcgan',), epochs=epochs)}")
    return project


@pytest.fixture(scope="module")
def mlflow_ui(two_runs) -> Iterator[str]:
    """`kedro mlflow ui` on a free port; the whole process group is stopped afterwards."""
    port = _free_port()
    env = kedro_env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # its `mlflow ui`
    server = subprocess.Popen([sys.executable, "-m", "kedro", "mlflow", "ui", "--port", str(port)], cwd=two_runs,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert server.poll() is None and time.monotonic() < deadline, "`kedro mlflow ui` did not start"
                time.sleep(1)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def with_preferences(mlflow_ui) -> Iterator[str]:
    """A proxy to the UI that adds a script saving UI_PREFERENCES to the pages it serves."""
    script = "".join(f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(value))});"
                     for key, value in UI_PREFERENCES.items())
    injected = f"<script>{script}</script>".encode()

    class Proxy(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
            headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_BY_HOP}
            request = urllib.request.Request(mlflow_ui + self.path, data=body, headers=headers, method=self.command)
            try:
                response = urllib.request.urlopen(request, timeout=60)
            except urllib.error.HTTPError as error:
                response = error
            payload = response.read()
            if "text/html" in response.headers.get("Content-Type", ""):
                payload = payload.replace(b"<head>", b"<head>" + injected, 1)
            self.send_response(response.status)
            for key, value in response.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_ui_serves_both_runs(two_runs, mlflow_ui):
    runs = tracked_runs(two_runs)
    assert [run.info.run_name for run in runs] == ["dcgan", "dcgan"]
    request = urllib.request.Request(f"{mlflow_ui}/ajax-api/2.0/mlflow/runs/search", method="POST",
                                     data=json.dumps({"experiment_ids": [runs[0].info.experiment_id]}).encode(),
                                     headers={"Content-Type": "application/json"})
    served = json.load(urllib.request.urlopen(request, timeout=30))["runs"]
    assert sorted(run["info"]["run_id"] for run in served) == sorted(run.info.run_id for run in runs)


def _browse(page: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    binary = _chromium()
    if binary is None:
        pytest.skip("no chromium binary (apt-get install -y chromium)")
    # the charts fetch each run's metric histories: give them a generous virtual-time budget
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=60000",
                           f"--window-size={WINDOW_SIZE}", *args, page], capture_output=True, text=True, timeout=240)


def test_screenshot_of_two_runs_side_by_side(two_runs, with_preferences, tmp_path):
    runs = tracked_runs(two_runs)
    page = f"{with_preferences}/#/experiments/{runs[0].info.experiment_id}/runs?compareRunsMode=CHART"
    dom = _browse(page, tmp_path / "profile", "--dump-dom").stdout
    # the metric charts are drawn (plotly SVGs), each with a legend entry per run
    assert dom.count('class="main-svg"') >= 6 and dom.count("dcgan (dcgan.curve.fid)") == 2, dom[-2000:]
    target = REPO / "docs" / "images" / "mlflow_runs.png" if os.environ.get("GANFORGE_UPDATE_DOCS") == "1" \
        else tmp_path / "mlflow_runs.png"
    _browse(page, tmp_path / "profile", f"--screenshot={target}")
    assert target.exists(), "chromium wrote no screenshot"
    from PIL import Image

    with Image.open(target) as image:
        assert image.size == tuple(int(side) for side in WINDOW_SIZE.split(","))
