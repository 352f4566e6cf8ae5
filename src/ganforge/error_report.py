"""One line for every error a user can cause, whichever layer raises it.

GAN Forge's own errors (ganforge.errors) say what is wrong and how to fix it. Errors that Kedro,
the catalog or the operating system raise for a user's mistake (an unknown pipeline, a load
version or file that is not there, a full disk) are recognized here and given one line too.
Anything else is a bug and keeps its traceback. ``GANFORGE_TRACEBACK=1`` shows the traceback of
every error, after the line.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from difflib import get_close_matches

from ganforge.errors import GanForgeError

TRACEBACK_VARIABLE = "GANFORGE_TRACEBACK"
HINT = f"(Set {TRACEBACK_VARIABLE}=1 to see the traceback.)"


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """``error`` and what caused it, outermost first (a cycle ends the walk)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _sentence(text: str) -> str:
    line = _one_line(text)
    return line if line.endswith((".", "?", "!")) else f"{line}."


def _disk_full(error: BaseException) -> str | None:
    if not (isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)):
        return None
    where = f" writing {error.filename}" if error.filename else ""
    return f"No space left on the disk{where}. Free space on it (old versions under data/ can go) and run again."


def _unknown_pipeline(error: BaseException) -> str | None:
    # Kedro's own wording (kedro.framework.session.session.KedroSession.run), checked by
    # tests/e2e/test_bad_inputs.py so that a Kedro that words it differently is noticed
    if not (isinstance(error, ValueError) and str(error).startswith("Failed to find the pipeline named")):
        return None
    from kedro.framework.project import pipelines

    name = str(error.__cause__.args[0]) if isinstance(error.__cause__, KeyError) else str(error).split("'")[1]
    close = get_close_matches(name, list(pipelines.keys()), n=3)
    suggestion = f" Did you mean {', '.join(close)}?" if close else ""
    return f"There is no pipeline '{name}'.{suggestion} `kedro registry list` lists the pipelines."


def _catalog_error(error: BaseException) -> str | None:
    """A dataset that cannot be loaded or saved: a file that is missing, truncated or unreadable.
    Kedro prefixes the dataset's name; the innermost DatasetError says why."""
    from kedro.io import DatasetError

    if not isinstance(error, DatasetError):
        return None
    innermost = [cause for cause in _chain(error) if isinstance(cause, DatasetError)][-1]
    first, *rest = str(innermost).splitlines() or [""]
    if " from dataset " in first:  # Kedro's wording: "Failed while loading data from dataset <repr>."
        first = first.split(" from dataset ")[0] + ":"
    named = re.match(r"([\w.\-]+): ", str(error))
    prefix = f"{named.group(1)}: " if named and innermost is not error else ""
    return f"{prefix}{_sentence(' '.join([first, *rest]))} Check --load-versions and the files under data/."


def _missing_config(error: BaseException) -> str | None:
    from kedro.config import MissingConfigException

    return _sentence(str(error)) if isinstance(error, MissingConfigException) else None


#: how each error that is not GAN Forge's own but the user's to fix is recognized and worded
RECOGNIZERS: tuple[Callable[[BaseException], str | None], ...] = (
    _disk_full, _unknown_pipeline, _catalog_error, _missing_config)


def user_error_line(error: BaseException) -> str | None:
    """The one line that reports ``error`` if a user can fix it (``Error (<kind>): <message>``),
    else ``None``: the error is a bug and its traceback is what to report."""
    for cause in _chain(error):
        if isinstance(cause, GanForgeError):
            return f"Error ({type(cause).__name__}): {_one_line(cause)}"
    for recognize in RECOGNIZERS:  # in their order: a full disk behind a failed save is the full disk
        for cause in _chain(error):
            message = recognize(cause)
            if message is not None:
                return f"Error ({type(cause).__name__}): {message}"
    return None


class UserErrorsOnce(logging.Filter):
    """Drops Kedro's "Node ... failed with error" record when the error is one the user can fix:
    the excepthook below prints it once, as one line, at the end of the run."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = sys.exc_info()[1]  # Kedro logs from inside its except block
        return error is None or user_error_line(error) is None


def install_short_error_hook() -> None:
    """Errors the user can fix end in one line, not a page of framework traceback; bugs keep
    their traceback. Safe to call more than once: the hook is installed once."""
    node_logger = logging.getLogger("kedro.pipeline.node")
    if not any(isinstance(existing, UserErrorsOnce) for existing in node_logger.filters):
        node_logger.addFilter(UserErrorsOnce())
    previous = sys.excepthook
    if getattr(previous, "_ganforge", False):
        return

    def excepthook(kind, error, traceback) -> None:  # noqa: ANN001
        line = user_error_line(error)
        if line is None or os.environ.get(TRACEBACK_VARIABLE):
            previous(kind, error, traceback)
        if line is not None:
            print(f"\n{line}" if os.environ.get(TRACEBACK_VARIABLE) else f"\n{line}\n{HINT}", file=sys.stderr)

    excepthook._ganforge = True  # type: ignore[attr-defined]
    sys.excepthook = excepthook
