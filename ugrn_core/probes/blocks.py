"""Only the probe entries TF→gene pairs read (issue 28): a *block* of a pairwise probe array instead of all of it.

A pair's feature reads ``P[:, tf, gene]`` (forward) and ``P[:, gene, tf]`` (reverse) of a probe array ``P[k, source,
target]`` (``features.DatasetProbes.both_directions``). Candidate pairs are TF × gene, so they read only the TF rows
``P[:, TF, :]`` and the TF columns ``P[:, :, TF]`` of the (K, S, S) array. For GDT (``P[k, s, t] = J_k[t, s]``, UGRN
Eq. 9) these are A Jacobian columns (``ScFM.jacobian_columns``, forward mode) and A Jacobian rows (``ScFM.jacobian``,
reverse mode) per base value: 2·A model passes instead of S (A = number of TFs among the pairs). The entries equal
the full computation's up to float32 round-off.

Feature normalisation (``params.normalise_probe``) is applied to the block as to the whole array: "none" and
"context-size" are entrywise. "context-z" needs each slice's mean and standard deviation over all off-diagonal
entries, which a block does not have: they come from the background's reference statistics in a background context,
else from the Jacobian rows of a fixed random sample of ``SAMPLE_ROWS`` target genes (computed with the block, part of
its cache entry; an unbiased estimate over targets). "context-rank" needs every entry: the whole array is used.

The whole array is used, too, when it is already in memory or in the disk cache (full entries serve any subset; their
keys are unchanged), when the probe has no block computation (VVP: the reverse direction reads every gene as a
source, so a network needs the whole array anyway), or when the block would not be cheaper (on 2 threads: A above
about S/4, as column batches run on one thread; ``plan``).
Blocks are cached under their own keys (the TFs and sample rows enter them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch


#: Target genes whose full Jacobian rows estimate the "context-z" statistics of a GDT block (fixed random sample).
SAMPLE_ROWS = 64
#: Cost of one Jacobian column (forward mode) relative to one Jacobian row (reverse mode), for choosing block or
#: whole array before any calibration (measured on one CPU core with the bundled model, N = 554: 21 columns/s in
#: batches of 16 vs 43 rows/s in batches of 4).
COLUMN_COST = 2.0
MODES = ("auto", "full")


@dataclass
class ProbeBlock:
    """TF rows and TF columns of a probe array ``P`` (K, S, S) over the scored genes, normalised.

    Attributes:
        tfs: int64 (A,) ascending probe indices (``DatasetProbes.probe_index``) of the TFs.
        fwd: float32 (K, A, S) = ``P[:, tfs, :]`` (TF as source).
        rev: float32 (K, S, A) = ``P[:, :, tfs]`` (TF as target).
    """

    tfs: np.ndarray
    fwd: np.ndarray
    rev: np.ndarray

    def features(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Pair features [P[:, i, j] ‖ P[:, j, i]] float32 (P, 2K) for TF indices ``i`` and gene indices ``j``
        (probe indices). Raises KeyError when an ``i`` is not one of the block's TFs."""
        a = np.searchsorted(self.tfs, i)
        if len(i) and (a.max() >= len(self.tfs) or np.any(self.tfs[np.minimum(a, len(self.tfs) - 1)] != i)):
            raise KeyError("a pair's TF is not among the TFs the probe block was computed for")
        return np.concatenate([self.fwd[:, a, j].T, self.rev[:, j, a].T], axis=1).astype(np.float32)


def sample_rows(n: int, size: int | None = None) -> np.ndarray:
    """The fixed random sample of ``min(size, n)`` (default ``SAMPLE_ROWS``) scored-gene indices whose Jacobian rows
    give a block's statistics: int64 ascending, from ``numpy.random.default_rng(0)`` (the same for every context of
    ``n`` scored genes)."""
    size = SAMPLE_ROWS if size is None else size
    return np.sort(np.random.default_rng(0).choice(n, size=min(size, n), replace=False)).astype(np.int64)


def plan(probes, probe: str, tfs: np.ndarray | None = None) -> dict | None:
    """Model work of a block of ``probe`` for TF probe indices ``tfs`` (default: the dataset's TFs in the context),
    or None when the whole array is used instead (see the module doc).

    Returns: dict with ``tfs`` and ``rows`` (int64 ascending probe indices: Jacobian columns for ``tfs``, Jacobian
    rows for ``rows`` = ``tfs`` ∪ the statistics sample), ``backward`` and ``columns`` (model passes in all).
    """
    if not probes.jacobian_block(probe) \
            or getattr(probes, "rows", "auto") == "full" or probes.params.feature_norm == "context-rank":
        return None
    if probe in probes._mem or probes.is_cached(probe):
        return None
    if tfs is None:
        tfs = probes.probe_index([g for g in probes.dataset.tfs if g in set(probes.genes)])
    tfs = np.unique(np.asarray(tfs, dtype=np.int64))
    n, k = len(probes.scored), len(probes.params.base_values)
    stats = probes.params.feature_norm == "context-z" and not _reference(probes, probe)
    rows = np.union1d(tfs, sample_rows(n)) if stats else tfs
    w = torch.get_num_threads() if probes.fm.device.type == "cpu" else 1
    if len(tfs) == 0 or COLUMN_COST * len(tfs) + len(rows) / w >= n / w:
        return None  # not cheaper than the whole Jacobian (columns on one thread, rows on w: estimate_seconds)
    return {"tfs": tfs, "rows": rows, "stats": stats, "backward": k * len(rows), "columns": k * len(tfs)}


def estimate_seconds(probes, plan: dict) -> float:
    """Wall seconds a block of ``plan`` takes: column batches one at a time, then row batches side by side on the
    threads (``scfm.jacobian_block``): columns · c + rows · r, with c and r the calibrated seconds per column and per
    row (``ScFM.seconds_per_row``; r already divided among the threads)."""
    n = len(probes.tokens)
    return float(plan["columns"] * probes.fm.seconds_per_row("columns", n)
                 + plan["backward"] * probes.fm.seconds_per_row("backward", n))


def _reference(probes, probe):
    """The background's "context-z" reference statistics of ``probe`` in a background context, else None."""
    if not probes.restricted or probes.background is None:
        return None
    return dict((r[0], r[1:]) for r in (probes.background.norm_reference or ())).get(probe)


def block(probes, probe: str, pairs: pd.DataFrame, progress=None) -> ProbeBlock | None:
    """The normalised block of ``probe`` that ``pairs`` (columns tf, target) read, computed or read from the disk
    cache, or None when the whole array is to be used (``plan``)."""
    p = plan(probes, probe, probes.probe_index(pairs["tf"]))
    if p is None:
        return None
    tfs, rows = p["tfs"], p["rows"]
    names = [probes.tokens[i] for i in probes.scored]
    key = probes.derived_key(probe, "-block", {"tfs": [names[i] for i in tfs],
                                                "rows": [names[i] for i in rows]})
    if key in probes._mem:  # this object computed or read it before
        return probes._mem[key]
    meta = {"probe": probe, "block": True, "n_tfs": len(tfs), "n_rows": len(rows), "n_genes": len(probes.tokens),
            "dataset": probes.dataset.name, "params": probes.params.to_dict()}
    arr, computed = probes.cache.get_or_compute(probe, key, lambda: _compute_gdt(probes, tfs, rows, progress), meta)
    probes.source[probe] = "computed" if computed else "disk"
    a, n = len(tfs), len(probes.scored)
    cols, jrows = arr[:, :a], arr[:, a:]  # (K, A, S) [tf source, target]; (K, R, S) [target, source]
    fwd, rev = cols, np.ascontiguousarray(jrows[:, np.searchsorted(rows, tfs)].transpose(0, 2, 1))
    probes._mem[key] = ProbeBlock(tfs, *_normalise(probes, probe, fwd, rev, jrows, rows, n))
    return probes._mem[key]


def _compute_gdt(probes, tfs, rows, progress):
    """float32 (K, A + R, S): per base value the A Jacobian columns of the TFs ([source, target]) then the R Jacobian
    rows ([target, source]), over the scored genes."""
    fm, values, pos = probes.fm, probes.params.base_values, probes.scored
    a, r = len(tfs), len(rows)
    out = np.empty((len(values), a + r, len(pos)), dtype=np.float32)

    def step(base, k):
        return lambda d, t, m: progress(base + d, len(values) * (a + r), f"GDT base value {k + 1}/{len(values)}") \
            if progress else None

    from ..scfm.jacobian_block import jacobian_block

    for k, v in enumerate(values):  # column and row batches side by side on the CPU threads
        C, J = jacobian_block(fm, probes.token_ids, v, pos[tfs], pos[rows], step(k * (a + r), k))
        out[k, :a], out[k, a:] = probes.restrict(C, axis=1), probes.restrict(J, axis=1)
    return out


def _normalise(probes, probe, fwd, rev, jrows, rows, n):
    """``fwd``, ``rev`` after ``params.feature_norm`` (module doc); "context-z" statistics from the sample rows."""
    mode = probes.params.feature_norm
    if mode == "none":
        return fwd, rev
    if mode == "context-size":
        return fwd * np.float32(len(probes.tokens)), rev * np.float32(len(probes.tokens))
    ref = _reference(probes, probe)
    if ref is None:
        sample = np.searchsorted(rows, sample_rows(n))
        off = np.ones((len(sample), n), dtype=bool)
        off[np.arange(len(sample)), rows[sample]] = False  # a gene on itself is no pair
        v = jrows[:, sample][:, off].astype(np.float64)  # (K, entries)
        ref = (v.mean(1), v.std(1))
    mu = np.asarray(ref[0], dtype=np.float64)[:, None, None]
    sd = np.asarray(ref[1], dtype=np.float64)
    sd = np.where(sd > 0, sd, 1.0)[:, None, None]
    return ((fwd - mu) / sd).astype(np.float32), ((rev - mu) / sd).astype(np.float32)
