"""On-disk cache for probe arrays, keyed by checkpoint, context gene set, method and its parameters.

Layout: ``<cache dir>/<checkpoint_id>/<method>-<key>.npy`` with a ``.json`` sidecar recording what made it
(method, parameters, number of context genes, checkpoint path). Writes are atomic (temp file in the same folder,
then ``os.replace``), so an interrupted run never leaves a half-written array behind.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ._io import atomic_write
from .config import cache_dir


def cache_key(*parts) -> str:
    """Stable 16-hex-digit key of JSON-serialisable ``parts`` (lists of tokens, parameter dicts, floats)."""
    blob = json.dumps(parts, sort_keys=True, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class ProbeCache:
    """Cache of float32 probe arrays under ``root/<checkpoint_id>/`` (``root`` default: ``config.cache_dir()``)."""

    def __init__(self, checkpoint_id: str, root: str | os.PathLike | None = None):
        self.dir = cache_dir(root) / checkpoint_id
        self.dir.mkdir(parents=True, exist_ok=True)

    def path(self, method: str, key: str) -> Path:
        return self.dir / f"{method}-{key}.npy"

    def has(self, method: str, key: str) -> bool:
        return self.path(method, key).is_file()

    def load(self, method: str, key: str) -> np.ndarray | None:
        """The cached array, or None when absent."""
        p = self.path(method, key)
        return np.load(p) if p.is_file() else None

    def save(self, method: str, key: str, array: np.ndarray, meta: dict | None = None) -> Path:
        """Store ``array`` atomically, with ``meta`` in a JSON sidecar."""
        p = self.path(method, key)

        def write_npy(tmp):
            with open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(array, dtype=np.float32))

        atomic_write(p, write_npy)
        atomic_write(p.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(meta or {}, indent=1, default=str)))
        return p
