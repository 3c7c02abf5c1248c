"""A few gene pairs in seconds: pair features from only the model rows those pairs need (issue 28).

The full path (``features.DatasetProbes``) computes a probe array ``P[k, source, target]`` over every pair of the
context and standardises each slice k over its N(N−1) off-diagonal entries ("context-z", ``params.normalise_probe``),
so scoring one pair on a cold cache first probes the whole gene set (minutes on 2 cores). Here a pair's features are
read from *lines* of P instead, and the statistics from a fixed random sample of lines:

- a **line** of a probe is what one group of model rows gives (the owning method's ``probe_lines``): VVP runs each
  source gene at every target value and reads every target, so its lines are *source lines* ``P[:, i, :]``
  (T forward rows each, Eq. 8); GDT back-propagates each target gene's output at every base value, so its lines are
  *target lines* ``P[:, :, j]`` (V Jacobian rows each, Eq. 9). Lines at genes {i, j} hold both directions of the
  pair: ``P[:, i, j]`` and ``P[:, j, i]``.
- the **statistics** of "context-z" (mean and std of each slice over its off-diagonal entries) are estimated from the
  lines of ``NORM_SAMPLE_LINES`` scored genes drawn with ``NORM_SAMPLE_SEED`` (``sample_positions``), their own
  (diagonal) entry left out: an unbiased estimate of the mean, a consistent one of the std. They are computed once per
  context, probe and parameters and cached on disk beside the probes (``ProbeCache``, probe name "<probe>-norm").
  When the full probe is cached the exact statistics and the full array are used instead, so results then equal the
  full path's; when the checkpoint ships the exact statistics of this context (``context_stats``: the bundled model
  × the BEELINE TFs+500 sets) those are used, so a bundled gene set's pairs equal the full path's from the first.

Why sampled statistics per context and not the translator's stored ones: the statistics move with the context
(they scale about as 1/N, but N·std still differs by up to ±30 % between the TFs+500 sets at equal N-scaling), so the
training context's statistics are not those of another gene set; a sample of the context's own lines estimates them
without bias. ``benchmarks/pair_norm_stats.py`` measures the effect of both choices on Table 1's Ens AUPRC.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import methods
from ..errors import DataError
from . import context_stats
from .cache import cache_key
from .features import DatasetProbes, ProgressFn, memo_probes
from .params import ProbeParams

#: Lines (scored genes) sampled for the "context-z" statistics of a context without its full probe cached, and the
#: seed of the draw (fixed: one context always gets the same sample, so its pair scores are reproducible).
NORM_SAMPLE_LINES = 16
NORM_SAMPLE_SEED = 0
#: Part of the cache key of sampled statistics (bump when their definition changes).
NORM_SAMPLE_VERSION = 1


def sample_positions(n: int, m: int = NORM_SAMPLE_LINES, seed: int = NORM_SAMPLE_SEED) -> np.ndarray:
    """``min(m, n)`` distinct indices in 0..n−1 drawn with ``numpy.random.default_rng(seed)``, ascending, int64.

    Raises: ValueError when ``n`` < 2 or ``m`` < 1."""
    if n < 2 or m < 1:
        raise ValueError(f"sample_positions: need n ≥ 2 genes and m ≥ 1 lines, got n={n}, m={m}")
    return np.sort(np.random.default_rng(seed).choice(n, size=min(m, n), replace=False)).astype(np.int64)


def lines_from_probe(P: np.ndarray, idx: np.ndarray, axis: str) -> np.ndarray:
    """Lines of a full probe array ``P`` (K, S, S) at genes ``idx`` (m,): float32 (K, m, S), ``P[:, idx, :]`` for
    ``axis`` "source" or ``P[:, :, idx]`` (transposed to (K, m, S)) for "target". What ``probe_lines`` computes from
    the model, read from a cached array instead (benchmarks, tests)."""
    idx = np.asarray(idx, dtype=np.int64)
    if axis == "source":
        return np.asarray(P[:, idx, :], dtype=np.float32)
    if axis == "target":
        return np.ascontiguousarray(np.asarray(P[:, :, idx], dtype=np.float32).transpose(0, 2, 1))
    raise ValueError(f"line axis {axis!r}: expected 'source' or 'target'")


def line_statistics(lines: np.ndarray, idx: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and standard deviation (K floats each, float64 arithmetic) of each slice over the entries of ``lines``
    (float (K, m, S): line r at gene ``idx[r]``) with each line's own gene (the diagonal of P) left out: the
    "context-z" statistics (``params.normalise_probe``) estimated from m lines. With m = S (every line) they equal
    the exact statistics of the full array. Raises ValueError for mismatched shapes."""
    lines = np.asarray(lines)
    idx = np.asarray(idx, dtype=np.int64)
    if lines.ndim != 3 or lines.shape[1] != len(idx):
        raise ValueError(f"lines have shape {lines.shape}; expected (K, {len(idx)}, S)")
    keep = np.ones(lines.shape[1:], dtype=bool)
    keep[np.arange(len(idx)), idx] = False
    v = lines[:, keep].astype(np.float64)
    return tuple(float(x) for x in v.mean(1)), tuple(float(x) for x in v.std(1))


def zscore(values: np.ndarray, stats) -> np.ndarray:
    """``(values[k] − mean_k) / std_k`` (std 0 → 1) for float (K, ...) ``values`` and ``stats`` = (means, stds):
    float32, the transform ``normalise_probe`` applies with ``reference=stats``."""
    mu = np.asarray(stats[0], dtype=np.float64)
    sd = np.asarray(stats[1], dtype=np.float64)
    sd = np.where(sd > 0, sd, 1.0)
    shape = (-1,) + (1,) * (np.ndim(values) - 1)
    return ((np.asarray(values, dtype=np.float64) - mu.reshape(shape)) / sd.reshape(shape)).astype(np.float32)


@dataclass
class PairProbes(DatasetProbes):
    """``DatasetProbes`` that score a few pairs from the model rows they need (see the module docstring).

    Pair features (``both_directions``) and raw pair values (``pair_values``, the zero-shot methods) of a probe whose
    owner declares ``probe_lines`` come from that probe's lines at the pairs' genes (kept in memory per gene); with
    ``feature_norm`` "context-z" the statistics are the exact ones when the full probe is cached, else the training
    context's reference in a background context (as the full path does), else the exact ones the checkpoint ships
    for this context (``shipped_statistics``), else ``sampled_statistics``. Everything
    else (a probe without lines, "context-rank") falls back to the full path. Scores equal the full path's up to the
    sampling of the statistics (``benchmarks/pair_norm_stats.py``).

    Attributes (besides ``DatasetProbes``'):
        sample_lines: lines drawn for the statistics (``NORM_SAMPLE_LINES``); sample_seed: their seed.
    """

    sample_lines: int = NORM_SAMPLE_LINES
    sample_seed: int = NORM_SAMPLE_SEED
    _lines: dict = field(default_factory=dict, init=False, repr=False)

    # ------------------------------------------------------------------ lines
    def _fast(self, probe: str) -> bool:
        """True when ``probe`` is read from lines here (owner has ``probe_lines``, full array not cached)."""
        if probe not in methods.probe_names():
            return False
        spec = methods.probe_owner(probe)
        return spec.probe_lines is not None and self.params.feature_norm != "context-rank" and not self.is_cached(probe)

    def lines(self, probe: str, idx, progress: ProgressFn | None = None) -> np.ndarray:
        """Lines of probe ``probe`` at scored-gene indices ``idx`` (``probe_index``): float32 (K, m, S), computed
        with the owner's ``probe_lines`` for the genes not yet in memory (K·(new genes) model rows)."""
        idx = np.asarray(idx, dtype=np.int64)
        have = self._lines.setdefault(probe, {})
        new = np.asarray(sorted({int(i) for i in idx} - set(have)), dtype=np.int64)
        if len(new):
            L = methods.probe_owner(probe).probe_lines(self, new, progress)
            for r, i in enumerate(new):
                have[int(i)] = L[:, r]
        return np.stack([have[int(i)] for i in idx], axis=1)

    def line_rows(self, probe: str, n_lines: int) -> tuple[int, int]:
        """Model rows (forward, Jacobian) of ``n_lines`` lines of ``probe``: its owner's ``probe_rows`` for that
        many scored genes."""
        spec = methods.probe_owner(probe)
        return spec.probe_rows(n_lines, self.params) if spec.probe_rows is not None and n_lines else (0, 0)

    def _stats_key(self) -> dict:
        return {"norm_sample": NORM_SAMPLE_VERSION, "lines": self.sample_lines, "seed": self.sample_seed}

    def sampled_statistics(self, probe: str, progress: ProgressFn | None = None):
        """"context-z" statistics (means (K,), stds (K,)) of probe ``probe`` in this context, estimated from the
        lines of ``sample_positions(S, sample_lines, sample_seed)`` (``line_statistics``); cached on disk as
        "<probe>-norm" (float32 (2, K)) under a key of the probe's own key and the sample."""
        name = f"{probe}-norm"
        key = cache_key(self._key(probe), self._stats_key())
        if name not in self._mem:
            idx = sample_positions(len(self.scored), self.sample_lines, self.sample_seed)
            meta = {"probe": name, "dataset": self.dataset.name, "n_genes": len(self.tokens), **self._stats_key(),
                    "params": self.params.to_dict(), "checkpoint": str(self.fm.path)}
            arr, computed = self.cache.get_or_compute(
                name, key, lambda: np.asarray(line_statistics(self.lines(probe, idx, progress), idx)), meta)
            self.source[name] = "computed" if computed else "disk"
            self._mem[name] = arr
        arr = self._mem[name]
        return tuple(float(x) for x in arr[0]), tuple(float(x) for x in arr[1])

    def statistics_cached(self, probe: str) -> bool:
        """True when the sampled statistics of ``probe`` are in memory or on disk."""
        return f"{probe}-norm" in self._mem or self.cache.usable(
            f"{probe}-norm", cache_key(self._key(probe), self._stats_key()))

    def shipped_statistics(self, probe: str):
        """The exact statistics of ``probe`` in this (full) context that the checkpoint ships
        (``context_stats.lookup``: the bundled model × the BEELINE TFs+500 sets), or None."""
        return None if self.restricted else context_stats.lookup(self, probe)

    def _known_statistics(self, probe: str):
        """Statistics of ``probe`` that need no computation here, in the order they are used: a background's stored
        reference (``_reference``), else the checkpoint's shipped exact ones (``shipped_statistics``), else None."""
        ref = self._reference(probe)
        return ref if ref is not None else self.shipped_statistics(probe)

    def statistics_kind(self, probe: str) -> str:
        """Where ``probe``'s "context-z" statistics come from here: "full probe" (cached, exact), "reference" (a
        background's stored ones), "shipped" (exact, ``shipped_statistics``) or "sampled" (``sampled_statistics``)."""
        if not self._fast(probe):
            return "full probe"
        if self._reference(probe) is not None:
            return "reference"
        return "shipped" if self.shipped_statistics(probe) is not None else "sampled"

    def _reference(self, probe: str):
        """The background's stored statistics of ``probe`` (a background context), else None."""
        if not self.restricted or not self.background.norm_reference:
            return None
        return dict((r[0], r[1:]) for r in self.background.norm_reference).get(probe)

    # ----------------------------------------------------------- pair values
    def _raw_pairs(self, probe: str, sources, targets, progress: ProgressFn | None = None):
        i, j = self.probe_index(sources), self.probe_index(targets)
        genes = np.unique(np.concatenate([i, j]))
        L = self.lines(probe, genes, progress)  # (K, m, S)
        r = {int(g): k for k, g in enumerate(genes)}
        ri, rj = np.fromiter((r[int(g)] for g in i), np.int64, len(i)), np.fromiter((r[int(g)] for g in j), np.int64, len(j))
        if methods.probe_owner(probe).line_axis == "source":
            return L[:, ri, j], L[:, rj, i]  # P[:, i, j], P[:, j, i]
        return L[:, rj, i], L[:, ri, j]  # target lines: P[:, i, j] = line of j at i

    def pair_values(self, probe: str, sources, targets, progress: ProgressFn | None = None) -> np.ndarray:
        """Raw probe values ``P[:, i, j]`` float32 (K, P) for gene lists ``sources`` → ``targets`` (the zero-shot
        methods' reading), from lines when the full array is not cached."""
        if not self._fast(probe):
            return super().pair_values(probe, sources, targets, progress)
        return self._raw_pairs(probe, sources, targets, progress)[0].astype(np.float32)

    def both_directions(self, probe: str, pairs: pd.DataFrame, progress: ProgressFn | None = None) -> np.ndarray:
        """Pair features [P[:, i, j] ‖ P[:, j, i]] float32 (P, 2K), normalised as ``params.feature_norm`` says, from
        the pairs' lines (see the class docstring); the full path's when the full probe is cached.
        Raises: KeyError for genes outside the context."""
        if not self._fast(probe):
            return super().both_directions(probe, pairs, progress)
        fwd, rev = self._raw_pairs(probe, pairs["tf"], pairs["target"], progress)
        mode = self.params.feature_norm
        if mode == "context-size":
            fwd, rev = fwd * np.float32(len(self.tokens)), rev * np.float32(len(self.tokens))
        elif mode == "context-z":
            stats = self._known_statistics(probe)
            if stats is None:
                if self.restricted:
                    warnings.warn(f"{self.dataset.name}: context-z features of {probe} in a background context "
                                  "without reference statistics are normalised with statistics sampled over the "
                                  "scored genes only", UserWarning, stacklevel=2)
                stats = self.sampled_statistics(probe, progress)
            fwd, rev = zscore(fwd, stats), zscore(rev, stats)
        return np.concatenate([fwd.T, rev.T], axis=1).astype(np.float32)

    def needs_statistics(self, probe: str) -> bool:
        """True when ``probe``'s pair features still need its sampled statistics computed (read from lines,
        "context-z", no background reference, not cached)."""
        return (self._fast(probe) and self.params.feature_norm == "context-z" and self._known_statistics(probe) is None
                and not self.statistics_cached(probe))

    def one_off(self, probe: str) -> bool:
        """True when scoring any pair with ``probe`` still needs a one-off computation for this gene set: its
        sampled statistics (``needs_statistics``), or the full array for a probe read from no lines."""
        if probe not in methods.probe_names():
            return False
        return self.needs_statistics(probe) if self._fast(probe) else self.probe_rows(probe) != (0, 0)

    def pair_rows(self, probes, genes=()) -> tuple[int, int]:
        """Model rows (forward, Jacobian) that scoring pairs among ``genes`` with ``probes`` still takes here:
        the lines not in memory, plus the statistics' sample when not cached (``needs_statistics``), or the full
        probe (``probe_rows``) for a probe read from no lines; (0, 0) when nothing is left."""
        fwd = bwd = 0
        idx = self.probe_index(genes)
        for probe in probes:
            if not self._fast(probe):
                f, b = self.probe_rows(probe)
            else:
                want = {int(i) for i in idx}
                if self.needs_statistics(probe):
                    want |= {int(i) for i in sample_positions(len(self.scored), self.sample_lines, self.sample_seed)}
                f, b = self.line_rows(probe, len(want - set(self._lines.get(probe, {}))))
            fwd, bwd = fwd + f, bwd + b
        return fwd, bwd

    def estimate_pair_seconds(self, probes, genes=()) -> float:
        """Estimated wall seconds of ``pair_rows`` on this device (``ScFM.estimate_seconds``); 0.0 when nothing
        is left to compute."""
        fwd, bwd = self.pair_rows(probes, genes)
        return self.fm.estimate_seconds(fwd, bwd, len(self.tokens)) if fwd or bwd else 0.0


def check_pair_genes(probes: DatasetProbes, genes) -> None:
    """Raise DataError naming each gene of ``genes`` that is not a scored gene of ``probes`` (not in the dataset, or
    not in the checkpoint vocabulary), with what is expected."""
    known = set(probes.genes)
    bad = [g for g in dict.fromkeys(genes) if g not in known]
    if bad:
        in_ds = set(probes.dataset.genes)
        why = [f"{g} ({'not in the checkpoint vocabulary' if g in in_ds else f'not a gene of {probes.dataset.name}'})"
               for g in bad]
        raise DataError(f"gene pair: {', '.join(why)}; expected genes of {probes.dataset.name} that the model knows "
                        f"(e.g. {', '.join(probes.genes[:3])})")


_PAIR_PROBES: "OrderedDict[tuple, PairProbes]" = OrderedDict()


def pair_probes(fm, ds, params: ProbeParams | None = None, background=None) -> PairProbes:
    """The fast pair path's ``PairProbes`` of ``ds`` (a few pairs scored from the model rows they need, "context-z"
    statistics from a sampled set of lines), kept in memory with their lines for the 16 most recent gene sets."""
    return memo_probes(_PAIR_PROBES, PairProbes, fm, ds, params, background)
