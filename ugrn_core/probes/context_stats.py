"""Exact "context-z" statistics shipped with a checkpoint for the gene sets it is bundled with (issue 28).

A translator feature is standardised against the whole gene set ("context-z", ``params.normalise_probe``: each
slice k of a probe array ``P[k, source, target]`` over its N(N−1) off-diagonal entries). Scoring one pair on a cold
cache therefore needs either the whole probe (minutes on 2 cores) or an estimate from sampled lines
(``probes.pairs``: seconds, but a probability can move by a few hundredths). For the gene sets a checkpoint is
shipped with (the bundled model × the BEELINE TFs+500 sets) the exact statistics are a few hundred numbers, so the
checkpoint folder carries them in ``context_statistics.json``: the fast pair path then scores a bundled gene set's
first pair exactly, from the pair's own lines.

Entries are keyed by the probe's cache key (``DatasetProbes.derived_key``: probe, the context's vocabulary tokens,
``PROBE_VERSION``, the probe's parameters, the mean cell where the probe reads expression, the precision), and the
file names the checkpoint it was computed with (``ScFM.checkpoint_id``): another gene set, other virtual values,
another probe version or another checkpoint simply finds no entry and falls back to sampled statistics. The file is
regenerated, from the full probes (cached, else computed), by

    python scripts/context_stats.py            # bundled checkpoint and translator, every TFs+500 set
    python scripts/context_stats.py --check    # recompute and compare, write nothing

and ``tests/test_context_stats.py`` recomputes a sample of it (STRING/mHSC-L/500, VVP and GDT) and compares.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._io import atomic_write
from .features import DatasetProbes

#: File name inside the checkpoint folder and the format version of its content.
FILENAME = "context_statistics.json"
FORMAT = 1
#: Relative tolerance of ``--check`` and of the test: float32 probe arrays summed in float64, recomputed with
#: another batching or thread count (round-off of a few ulps of the largest operand, ``tests/conftest.py``).
RTOL = 1e-4

_LOADED: dict[tuple, dict] = {}


def entry_key(probes: DatasetProbes, probe: str) -> str:
    """The key of ``probe``'s statistics in ``probes``' context: ``"<probe>-<hash>"`` (hash of the probe's cache
    key, ``DatasetProbes.derived_key``)."""
    return f"{probe}-{probes.derived_key(probe, '-context-z', {'format': FORMAT})}"


def path_of(fm) -> Path | None:
    """``<checkpoint folder>/context_statistics.json`` of model ``fm`` (``ScFM``), or None for a model without a
    folder."""
    return Path(fm.path) / FILENAME if getattr(fm, "path", None) else None


def load(fm) -> dict[str, dict]:
    """The shipped entries of ``fm``'s checkpoint: entry key → {"probe", "dataset", "mean" (K floats), "std"
    (K floats)}; {} when the file is absent, unreadable, of another format, or computed with another checkpoint
    (``checkpoint_id`` differs). Read once per file version (path, size, mtime)."""
    path = path_of(fm)
    if path is None or not path.is_file():
        return {}
    st = path.stat()
    memo = (str(path), st.st_size, st.st_mtime_ns, fm.checkpoint_id)
    if memo not in _LOADED:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            doc = {}
        ok = doc.get("format") == FORMAT and doc.get("checkpoint_id") == fm.checkpoint_id
        _LOADED[memo] = doc.get("entries", {}) if ok else {}
    return _LOADED[memo]


def lookup(probes: DatasetProbes, probe: str):
    """Shipped exact statistics (means (K,), stds (K,) as float tuples) of ``probe`` in ``probes``' context, or None
    when the checkpoint ships none for it (see the module docstring for what must match)."""
    entry = load(probes.fm).get(entry_key(probes, probe))
    if entry is None:
        return None
    return tuple(float(x) for x in entry["mean"]), tuple(float(x) for x in entry["std"])


def compute(fm, datasets, probe_names, params=None, progress=None) -> dict[str, dict]:
    """Exact statistics of each probe in ``probe_names`` on each ``GRNDataset`` of ``datasets`` (full context),
    from the full probe arrays (``DatasetProbes.norm_statistics``: read from the probe cache, else computed, which
    takes minutes per gene set on 2 cores). Gene sets shared by several datasets are probed once. Returns entry
    key → entry (``load``'s format)."""
    entries: dict[str, dict] = {}
    for ds in datasets:
        dp = DatasetProbes(fm, ds, params)
        for probe in probe_names:
            key = entry_key(dp, probe)
            if key in entries:
                entries[key]["datasets"].append(ds.name)
                continue
            mean, std = dp.norm_statistics(probe)
            entries[key] = {"probe": probe, "datasets": [ds.name], "n_genes": len(dp.tokens),
                            "mean": [float(x) for x in mean], "std": [float(x) for x in std]}
            if progress is not None:
                progress(f"{ds.name} {probe}")
    return entries


def write(fm, entries: dict[str, dict], path=None) -> Path:
    """Write ``entries`` for ``fm``'s checkpoint (atomically) to ``path`` (default ``path_of(fm)``)."""
    doc = {"format": FORMAT, "checkpoint_id": fm.checkpoint_id,
           "about": "exact context-z statistics (mean, std per probe slice over off-diagonal entries) of the full "
                    "probes; written by python scripts/context_stats.py",
           "entries": dict(sorted(entries.items()))}
    target = Path(path) if path is not None else path_of(fm)
    return atomic_write(target, lambda tmp: Path(tmp).write_text(json.dumps(doc, indent=1) + "\n"))


def differences(shipped: dict[str, dict], fresh: dict[str, dict]) -> list[str]:
    """Entries of ``fresh`` that ``shipped`` lacks or whose mean/std differ by more than ``RTOL`` (relative to the
    slice's std), as readable lines; [] when every fresh entry is shipped and equal."""
    bad = []
    for key, e in fresh.items():
        s = shipped.get(key)
        if s is None:
            bad.append(f"{key} ({', '.join(e['datasets'])}): not shipped")
            continue
        sd = np.maximum(np.abs(np.asarray(e["std"])), 1e-30)
        dm = np.abs(np.asarray(s["mean"]) - np.asarray(e["mean"])) / sd
        ds = np.abs(np.asarray(s["std"]) - np.asarray(e["std"])) / sd
        if dm.max() > RTOL or ds.max() > RTOL:
            bad.append(f"{key} ({', '.join(e['datasets'])}): mean off by {dm.max():.2e} std, std by {ds.max():.2e}")
    return bad
