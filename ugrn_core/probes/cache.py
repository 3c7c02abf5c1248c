"""On-disk cache for probe arrays, keyed by checkpoint, context gene set, method and its parameters.

Layout: ``<cache dir>/<checkpoint_id>/<method>-<key>.npy`` with a ``.json`` sidecar recording what made it
(method, parameters, number of context genes, checkpoint path) and the array file's ``size`` (bytes) and
``sha256``. Guarantees:

- Writes are atomic (temp file in the same folder, then ``os.replace``), so an interrupted run never leaves a
  half-written array behind.
- Every load checks the array file against its sidecar (size, then sha256). A truncated or corrupt entry is
  reported with a ``CacheWarning`` and treated as absent, so it is recomputed and overwritten. Entries written
  before the checksum was recorded are accepted when the array reads back completely.
- :meth:`ProbeCache.get_or_compute` holds an exclusive ``fcntl.flock`` on ``.<method>-<key>.lock`` while it
  loads, computes and saves one key, so two processes (two app sessions, the CLI and the app) asking for the same
  probe compute it once: the second waits and then reads the first one's result.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from .._io import atomic_write, lock_file
from ..config import cache_dir


class CacheWarning(UserWarning):
    """A cache entry was unreadable or did not match its sidecar; it is recomputed."""


def cache_key(*parts) -> str:
    """Stable 16-hex-digit key of JSON-serialisable ``parts`` (lists of tokens, parameter dicts, floats)."""
    blob = json.dumps(parts, sort_keys=True, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


class ProbeCache:
    """Cache of float32 probe arrays under ``root/<checkpoint_id>/`` (``root`` default: ``config.cache_dir()``)."""

    def __init__(self, checkpoint_id: str, root: str | os.PathLike | None = None):
        self.dir = cache_dir(root) / checkpoint_id
        self.dir.mkdir(parents=True, exist_ok=True)

    def path(self, method: str, key: str) -> Path:
        return self.dir / f"{method}-{key}.npy"

    def has(self, method: str, key: str) -> bool:
        """True when an array file exists for the key (not verified; :meth:`load` verifies)."""
        return self.path(method, key).is_file()

    def usable(self, method: str, key: str) -> bool:
        """True when the entry exists and passes :meth:`load`'s integrity check (size and sha256 against its sidecar,
        a readable ``.npy`` header), without loading the array: a truncated, corrupt or unreadable entry counts as
        missing, as :meth:`load` will treat it (cost estimates, "(cached)" labels)."""
        p = self.path(method, key)
        if not p.is_file() or self._problem(p) is not None:
            return False
        try:
            np.load(p, mmap_mode="r", allow_pickle=False)  # parses the header only
        except (OSError, ValueError, EOFError):
            return False
        return True

    @contextlib.contextmanager
    def lock(self, method: str, key: str):
        """Exclusive inter-process lock of one key (``fcntl.flock`` on a lock file beside the entry)."""
        with lock_file(self.dir / f".{method}-{key}.lock"):
            yield

    def _problem(self, p: Path) -> str | None:
        """Why the entry at ``p`` cannot be trusted, or None when it matches its sidecar."""
        side = p.with_suffix(".json")
        try:
            meta = json.loads(side.read_text())
        except (OSError, ValueError):
            return f"its sidecar '{side.name}' is missing or unreadable"
        size = p.stat().st_size
        if "size" in meta and size != meta["size"]:
            return f"it has {size} bytes, its sidecar records {meta['size']} (truncated or overwritten)"
        if "sha256" in meta and _sha256(p) != meta["sha256"]:
            return "its sha256 differs from the one in its sidecar (corrupt)"
        return None

    def load(self, method: str, key: str) -> np.ndarray | None:
        """The cached array (float32), or None when absent or when it fails the integrity check.

        Warns (``CacheWarning``) naming the file and the problem when an entry exists but is truncated, corrupt or
        unreadable; the caller then recomputes it and :meth:`save` overwrites it.
        """
        p = self.path(method, key)
        if not p.is_file():
            return None
        problem = self._problem(p)
        if problem is None:
            try:
                return np.load(p, allow_pickle=False)
            except (OSError, ValueError, EOFError) as e:
                problem = f"it cannot be read ({type(e).__name__}: {e})"
        warnings.warn(f"probe cache entry '{p}' is unusable: {problem}; recomputing it", CacheWarning, stacklevel=2)
        return None

    def save(self, method: str, key: str, array: np.ndarray, meta: dict | None = None) -> Path:
        """Store ``array`` atomically as float32, with ``meta`` plus the file's size and sha256 in a JSON sidecar."""
        p = self.path(method, key)
        record: dict = {}

        def write_npy(tmp):
            with open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(array, dtype=np.float32))
            record.update(size=os.path.getsize(tmp), sha256=_sha256(Path(tmp)))

        # sidecar after the array: a reader holding the lock never sees a half-updated pair; an unlocked reader
        # that does is told by the check and recomputes
        atomic_write(p, write_npy)
        atomic_write(p.with_suffix(".json"),
                     lambda tmp: Path(tmp).write_text(json.dumps({**(meta or {}), **record}, indent=1, default=str)))
        return p

    def get_or_compute(self, method: str, key: str, compute: Callable[[], np.ndarray],
                       meta: dict | None = None) -> tuple[np.ndarray, bool]:
        """The cached array of ``key``, computing and saving it under the key's lock when absent or unusable.

        Returns: (array float32, computed) — ``computed`` is False when the array came from disk.
        """
        with self.lock(method, key):
            arr = self.load(method, key)
            if arr is not None:
                return arr, False
            arr = np.ascontiguousarray(compute(), dtype=np.float32)
            self.save(method, key, arr, meta)
            return arr, True
