"""Atomic file and folder writes (outputs appear complete or not at all), inter-process file locks, result folders."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(tmp_path)`` on a temp file beside ``path``, then rename it over ``path`` (mode 0644)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike):
    """Yield a temp folder beside ``path``; on success it replaces ``path`` (mode 0755), on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if path.exists():
            path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def lock_file(path: str | os.PathLike, block: bool = True):
    """Open lock file ``path`` and take an exclusive ``fcntl.flock`` on it. Returns the open file (closing it, e.g. at
    the end of a ``with`` block, releases the lock), or None when ``block`` is False and another holder has it. Locks
    of two open files conflict even within one process."""
    import fcntl

    fh = open(path, "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        fh.close()
        return None
    return fh


def read_meta(folder: str | os.PathLike) -> dict:
    """The ``meta.json`` of a result folder as a dict, or {} when the folder has none."""
    import json

    path = Path(folder) / "meta.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def read_results_table(folder: str | os.PathLike, what: str):
    """The ``results.csv`` of a result folder as a DataFrame, its ``note`` column (when present) with "" for none.

    Raises: errors.InputFileNotFound (a FileNotFoundError) naming the folder and ``what`` results it lacks.
    """
    import pandas as pd

    from .errors import InputFileNotFound

    path = Path(folder) / "results.csv"
    if not path.is_file():
        raise InputFileNotFound(f"no {what} results in '{folder}' (expected results.csv)")
    table = pd.read_csv(path)
    if "note" in table:
        table["note"] = table["note"].fillna("")
    return table
