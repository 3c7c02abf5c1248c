"""Atomic file and folder writes (outputs appear complete or not at all), a check that an output path can be
written (run before any work), inter-process file locks, result folders."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def _writable_folder(folder: Path) -> bool:
    """True when files can be created in the existing directory ``folder``. ``os.access`` asks the kernel, so a
    read-only file system says no even to root (plain permission bits do not stop root)."""
    return os.access(folder, os.W_OK | os.X_OK)


def check_writable_output(path: str | os.PathLike, kind: str = "file", what: str = "output") -> Path:
    """Check, before any work and without creating anything, that output ``path`` can be written.

    Args:
        path: the file or folder the command will write (relative paths are relative to the working directory).
        kind: "file": a file written as a temp file beside it, then renamed over it (:func:`atomic_write`);
            "folder": a folder written whole beside it, then renamed over it (:func:`atomic_folder`);
            "into": a folder that files are written into, created when missing (the probe cache, a preset's
            results folder).
        what: how the message names the path, e.g. "--out" or "translator folder".
    Returns: ``path`` as a Path.
    Raises:
        errors.ParameterError (a ValueError) naming the path and what was expected, when: ``path`` is an existing
        folder and a file is wanted, or an existing file and a folder is wanted; an existing "into" folder is not
        writable; the folder it goes into (for "into": the nearest existing folder above a missing one) is a file or
        is not writable, so neither it nor the missing folders between can be created.
    """
    from .errors import ParameterError

    if kind not in ("file", "folder", "into"):
        raise ValueError(f"check_writable_output: kind {kind!r}; expected 'file', 'folder' or 'into'")
    path = Path(path)
    shown = f"{what} '{path}'"
    if kind == "file" and path.is_dir():
        raise ParameterError(f"{shown} is an existing folder; expected a file name")
    if kind != "file" and path.exists() and not path.is_dir():
        raise ParameterError(f"{shown} is an existing file; expected a folder"
                             + (" (it would be replaced)" if kind == "folder" else ""))
    if kind == "into" and path.is_dir():
        if not _writable_folder(path):
            raise ParameterError(f"{shown} is a folder you cannot write to (read-only or no permission); expected a "
                                 "writable folder")
        return path
    parent = Path(os.path.abspath(path)).parent
    missing = []
    while not parent.exists() and parent != parent.parent:  # the nearest existing folder above: the one to create in
        missing.append(parent)
        parent = parent.parent
    create = f"cannot create folder '{missing[-1]}': " if missing else ""
    if not parent.is_dir():
        raise ParameterError(f"{shown}: {create}'{parent}' is a file, not a folder; expected a folder to write into")
    if not _writable_folder(parent):
        raise ParameterError(f"{shown}: {create}folder '{parent}' is not writable (read-only file system or no "
                             "permission); expected a folder you can write to")
    return path


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(tmp_path)`` on a temp file beside ``path``, then rename it over ``path`` (mode 0644).

    Raises: errors.ParameterError from :func:`check_writable_output` before ``write`` runs when ``path`` cannot be
    written (a folder, a parent that is a file, a read-only folder)."""
    path = check_writable_output(path, "file")
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
    """Yield a temp folder beside ``path``; on success it replaces ``path`` (mode 0755), on error it is removed.

    Raises: errors.ParameterError from :func:`check_writable_output` before anything is written when ``path``
    cannot be written (an existing file, which would be replaced, a parent that is a file, a read-only folder)."""
    path = check_writable_output(path, "folder")
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
