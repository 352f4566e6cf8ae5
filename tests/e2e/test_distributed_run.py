"""Data-parallel training through a real `kedro run`: the train node launches two gloo worker
processes, the run records them, and a run killed mid-training leaves no workers behind and
resumes where it stopped."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from tests.kedro_project import kedro, kedro_env, latest, make_project, tiny_params

TWO_PROCESSES = {"wgan_gp.variant.training.distributed.enabled": "true",
                 "wgan_gp.variant.training.distributed.nproc_per_node": 2}


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for_epoch(process: subprocess.Popen, resume_dir: Path, epoch: int, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for path in resume_dir.glob("wgan_gp-*.pt") if resume_dir.exists() else []:
            try:
                if torch.load(path, weights_only=True)["epoch"] >= epoch:
                    return
            except Exception:  # caught mid-replace
                pass
        time.sleep(0.2)
    pytest.fail(f"training never reached epoch {epoch} (exit code {process.poll()})")


def test_a_two_process_run_killed_mid_training_resumes(tmp_path):
    project = make_project(tmp_path / "project")
    params = tiny_params(("wgan_gp",), epochs=300, limit=512, **TWO_PROCESSES)
    process = subprocess.Popen([sys.executable, "-m", "kedro", "run", "--pipeline=wgan_gp", f"--params={params}"],
                               cwd=project, env=kedro_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    resume_dir = project / "data/06_models/resume"
    try:
        wait_for_epoch(process, resume_dir, 2)
        workers = children(process.pid)
        assert len(workers) >= 2  # the two training workers (and the launcher's helpers)
    finally:
        process.send_signal(signal.SIGKILL)  # the launching process only, as an evicted pod's main process
        process.wait()
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in workers), "workers outlived the killed run"
    killed_at = torch.load(next(resume_dir.glob("wgan_gp-*.pt")), weights_only=True)["epoch"]
    assert killed_at < 300

    params = tiny_params(("wgan_gp",), epochs=killed_at + 2, limit=512, **TWO_PROCESSES)
    result = kedro(project, "run", "--pipeline=wgan_gp", f"--params={params}")
    assert f"Resuming 'wgan_gp' after epoch {killed_at}" in result.stdout + result.stderr
    history = pd.read_csv(latest(project / "data/08_reporting/wgan_gp/training_history.csv"))
    assert list(history["epoch"]) == list(range(1, killed_at + 3))
    manifest = json.loads(latest(project / "data/08_reporting/wgan_gp/run_manifest.json").read_text())
    assert manifest["training"]["world_size"] == 2
    assert manifest["training"]["backend"] == "gloo"
    assert manifest["training"]["resumed_from_epoch"] == killed_at
    assert latest(project / "data/06_models/wgan_gp/checkpoint.pt").exists()
    metrics = json.loads(latest(project / "data/08_reporting/wgan_gp/metrics.json").read_text())
    assert metrics["fid"] > 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_nodes_train_as_one_group(tmp_path):
    """Two "nodes" on this machine, one process each: `kedro run` on the first, `kedro
    join-training` on the second, meeting at a fixed rendezvous endpoint."""
    project = make_project(tmp_path / "project")
    two_nodes = {"wgan_gp.variant.training.distributed.enabled": "true",
                 "wgan_gp.variant.training.distributed.nproc_per_node": 1,
                 "wgan_gp.variant.training.distributed.nnodes": 2,
                 "wgan_gp.variant.training.distributed.rdzv_endpoint": f"127.0.0.1:{free_port()}"}
    second_node = subprocess.Popen([sys.executable, "-m", "kedro", "join-training", "wgan_gp", "--timeout", "300"],
                                   cwd=project, env=kedro_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
    try:
        kedro(project, "run", "--pipeline=wgan_gp", f"--params={tiny_params(('wgan_gp',), **two_nodes)}")
        output, _ = second_node.communicate(timeout=120)
    finally:
        second_node.kill()
    assert second_node.returncode == 0, output
    assert "Joining the training of 'wgan_gp'" in output
    manifest = json.loads(latest(project / "data/08_reporting/wgan_gp/run_manifest.json").read_text())
    assert manifest["training"]["world_size"] == 2
    assert not (project / "data/06_models/resume/distributed/wgan_gp").exists()  # the exchange is cleaned up
