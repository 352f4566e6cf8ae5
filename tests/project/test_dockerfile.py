"""The image runs as an unprivileged user (no Docker daemon here: the Dockerfile is read as text)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1]) for line in lines]


def test_the_container_runs_as_an_unprivileged_user_that_the_image_creates():
    steps = instructions()
    users = [index for index, (keyword, _) in enumerate(steps) if keyword == "USER"]
    assert users, "the Dockerfile sets no USER: the container would run as root"
    user = steps[users[-1]][1].split(":")[0]
    assert user not in ("root", "0")
    created = " ".join(arguments for keyword, arguments in steps[:users[-1]] if keyword == "RUN")
    assert re.search(rf"useradd .*--uid {user}\b", created)
    assert steps[-1][0] == "CMD"


def test_the_user_owns_what_a_run_writes_and_not_the_code():
    steps = instructions()
    owned = " ".join(arguments for keyword, arguments in steps if keyword == "RUN" and "chown" in arguments)
    assert {"data", "conf/local", "/app"} <= set(owned.split())
    assert not any(keyword == "COPY" and "--chown" in arguments for keyword, arguments in steps)


def test_the_kubernetes_pods_run_as_the_images_user():
    user = next(arguments for keyword, arguments in instructions() if keyword == "USER").split(":")[0]
    template = (REPO / "conf/airflow/k8s_dag_template.j2").read_text()
    assert f"run_as_user={user}" in template and f"fs_group={user}" in template
    assert "security_context=pod_security" in template
