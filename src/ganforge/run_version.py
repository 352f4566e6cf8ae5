"""One save version for a run made of several Kedro sessions.

Kedro versions every dataset a session saves with the session id, so the sessions of one logical
run (the tasks of an Airflow DAG run, each a session running one node) would each save under a
version of their own, and each would load the newest version of its inputs: another DAG run's,
if two overlap. With ``GANFORGE_RUN_VERSION`` set (the DAG template sets it from the DAG run),
every session of the run saves under that one version, and the project hook pins every input
that has a version by that name to it, so a task reads what the earlier tasks of its own run
saved. A retried task first clears what its failed attempt left under the version.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from typing import Any

from kedro.framework.session.store import BaseSessionStore

from ganforge.errors import ConfigError

RUN_VERSION_VARIABLE = "GANFORGE_RUN_VERSION"
#: Kedro's version format (kedro.io.core.generate_timestamp): sortable, so "latest" still works
_VERSION_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z")


def run_version_from_environment() -> str | None:
    version = os.environ.get(RUN_VERSION_VARIABLE) or None
    if version is not None and not _VERSION_FORMAT.fullmatch(version):
        raise ConfigError(f"{RUN_VERSION_VARIABLE} is '{version}', not a Kedro version such as "
                          "2026-11-24T03.00.00.000Z. Set it with ganforge.run_version.version_of(<datetime>).")
    return version


def version_of(moment: datetime) -> str:
    """``moment`` (a DAG run's start) in Kedro's version format."""
    return moment.strftime("%Y-%m-%dT%H.%M.%S.") + f"{moment.microsecond // 1000:03d}Z"


class RunVersionStore(BaseSessionStore):
    """Kedro's in-memory session store, except that the session id (the save version of the
    session's datasets) is ``GANFORGE_RUN_VERSION`` when that is set."""

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "session_id":
            value = run_version_from_environment() or value
        super().__setitem__(key, value)
