"""Read pickled data files without letting them run code.

A pickle can name any importable callable (``os.system``, ``subprocess.call``) and have the
loader call it, so a plain ``pickle.load`` of a file someone else wrote is arbitrary code
execution. :class:`DataOnlyUnpickler` admits only what data files such as the CIFAR-10 batches
need: the opcodes for dicts, lists, tuples, strings, bytes and numbers, plus the few globals
that rebuild numpy arrays, numpy scalars, sets and (in protocol 0-2 pickles) bytes. Any other
global is refused before it is imported, with a :class:`DataSourceError` naming the file.
"""

from __future__ import annotations

import importlib
import os
import pickle
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from ganforge.errors import DataSourceError


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """Stand-in for ``_codecs.encode``, which protocol 0-2 pickles use to rebuild ``bytes``.

    The real function accepts any codec name; pickle itself only ever writes 'latin1', so
    anything else is not a plain bytes object and is refused.
    """
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with codec {encoding!r} is not plain bytes")
    return text.encode("latin1")


def _numpy_internal(submodule: str, name: str) -> Callable[..., Any]:
    """A private numpy helper; it moved from ``numpy.core`` to ``numpy._core`` in numpy 2."""
    try:
        module = importlib.import_module(f"numpy._core.{submodule}")
    except ImportError:  # numpy 1.x
        module = importlib.import_module(f"numpy.core.{submodule}")
    return getattr(module, name)


@cache
def allowed_globals() -> dict[tuple[str, str], Any]:
    """(module, name) → object for every global a data pickle may reference.

    numpy writes its helpers under whichever module name the writing numpy had (``numpy.core``
    before 2.0, ``numpy._core`` since), so both spellings map to the installed helper. Python 2
    pickles (the official CIFAR-10 batches) say ``__builtin__`` where Python 3 says ``builtins``.
    """
    numpy_helpers = {
        ("multiarray", "_reconstruct"),  # ndarray.__reduce__ up to protocol 4
        ("multiarray", "scalar"),  # numpy scalars such as np.int64(3) inside a label list
        ("numeric", "_frombuffer"),  # contiguous ndarrays at protocol 5
    }
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }
    for submodule, name in numpy_helpers:
        helper = _numpy_internal(submodule, name)
        for package in ("numpy.core", "numpy._core"):
            allowed[(f"{package}.{submodule}", name)] = helper
    for builtin in (set, frozenset, complex, bytearray):
        for module in ("builtins", "__builtin__"):
            allowed[(module, builtin.__name__)] = builtin
    return allowed


class DataOnlyUnpickler(pickle.Unpickler):
    """An unpickler whose ``find_class`` answers only :func:`allowed_globals`."""

    def __init__(self, file: Any, path: str | os.PathLike, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        # Looked up in our own table, never imported: importing the named module is itself
        # enough to run code.
        try:
            return allowed_globals()[(module, name)]
        except KeyError:
            raise DataSourceError(
                f"Refused to load '{self._path}': it references '{module}.{name}', and data "
                "files may hold only containers, numbers, strings, bytes and numpy arrays "
                "(loading it could run code). Replace it with a trusted copy of the data."
            ) from None


def load_data_pickle(path: str | os.PathLike, encoding: str = "ASCII") -> Any:
    """Unpickle ``path`` with :class:`DataOnlyUnpickler`.

    ``encoding='latin1'`` is what Python 2 pickles with numpy arrays need (their byte strings
    are then read back byte for byte). Malformed files raise the usual pickle errors
    (``UnpicklingError``, ``EOFError``, ...) for the caller to word for its data source.
    """
    with open(path, "rb") as file:
        return DataOnlyUnpickler(file, path, encoding=encoding).load()
