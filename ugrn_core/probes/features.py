"""The foundation-model probes behind the methods: computed once per context gene set, cached on disk.

What each probe computes and what enters its cache key is declared by the method that owns it
(``ugrn_core/methods/<method>.py``: ``probe``, ``compute_probe``, ``cache_params``); this module runs and caches them
and gathers pair features. Probes are computed once per *context gene set* (a dataset's vocabulary-mapped genes, sorted — scGPT has no
positional encoding, so order is irrelevant and the four BEELINE networks of one cell type and size share one
probe) and cached on disk. Each pairwise probe is a float32 array ``P[k, source, target]`` over the context;
a pair's feature gathers ``P[:, i, j]`` (forward) and ``P[:, j, i]`` (reverse) and concatenates them.

Virtual values live in scGPT's input space, the per-cell bins 0..50 (0 = not expressed). Defaults: base value
v0 = 25 (the middle of the expressed range), 8 target values spread over 0..50 around it, 8 GDT base values.
The paper does not print its values; they are parameters, recorded in every cache entry and result.

Feature normalisation within a context (``ProbeParams.feature_norm``, see ``normalise_probe``): VVP, GDT and Pert
responses shrink roughly as 1/N with the number N of context genes, so raw features of a 500-gene and a 1100-gene
context live on different scales. The probe array can be rescaled by N ("context-size") or standardised over all
candidate pairs of its context ("context-z", "context-rank") before pair features are gathered; the same transform
is then applied at training and at prediction because the translator keeps the ``ProbeParams`` it was trained with.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from .. import methods
from . import blocks
from .cache import ProbeCache, cache_key
from ..errors import first_items
from ..errors import DataError
from ..scfm.binning import bin_values
from .params import ProbeParams, normalise_probe

from ..scfm.vocab import VocabMapping, map_to_vocab
# ScFM (scfm.model), GRNDataset (data.datasets) and Background (probes.background) appear in annotations only: not
# imported, so the probes depend on the layers below them and nothing above.

ProgressFn = Callable[[int, int, str], None]

#: Part of every probe's cache key. 2 (2026-12): CPU probe batches run on one torch intra-op thread (``threads``), so
#: a probe is byte-identical whatever ``OMP_NUM_THREADS`` is; entries keyed before may hold a multi-threaded run's
#: values (up to 2.4e-5 off), so they are not reused.
PROBE_VERSION = 2


@dataclass
class DatasetProbes:
    """Probes of one dataset's context gene set, computed lazily and cached on disk.

    Without a background, the context is the dataset's vocabulary-mapped genes and probe arrays are (K, N, N). With a
    ``background`` (``background.Background``), background genes join the context (up to its ``n_context``) so the
    model sees a context of the translator's training size, but only the dataset's own genes (the *scored* genes,
    S of them) are VVP sources and GDT targets: probe arrays are (K, S, S) over the scored genes, equal to the
    matching block of the full (K, N, N) computation on the same context at a fraction (S/N) of its model rows.
    Probes that need expression (Pert, Origin-Pert, Origin-Attn) cannot take a background (its genes have none).

    Attributes:
        fm: the foundation model.
        dataset: the dataset whose genes are scored (and, without a background, form the context).
        params: virtual-value parameters.
        background: background genes added to the context, or None.
        mapping: dataset genes → vocabulary tokens (``VocabMapping``); unmapped genes are left out of the context.
        tokens: the context, sorted vocabulary tokens (N,): the dataset's plus the background's.
        scored: int64 (S,) ascending context positions of the dataset's genes (all N without a background).
        rows: "full" (default): the whole probe array; "auto" (opt-in): pair features of a probe not yet cached are
            computed from only the entries the pairs read when that is cheaper (``blocks``: GDT's TF rows and
            columns). Opt-in because a block's "context-z" statistics are estimated from sampled rows: the entries
            are exact, the normalised features are not, and the benchmark effect is not yet measured.
    """

    fm: ScFM
    dataset: GRNDataset
    params: ProbeParams = field(default_factory=ProbeParams)
    cache: ProbeCache | None = None
    background: Background | None = None
    rows: str = "full"
    mapping: VocabMapping = field(init=False)
    tokens: list[str] = field(init=False)

    def __post_init__(self):
        self.params = self.params or ProbeParams()
        if self.rows not in blocks.MODES:
            raise ValueError(f"rows must be one of {blocks.MODES}, got {self.rows!r}")
        self.mapping = map_to_vocab(self.dataset.genes, self.fm.vocab, self.dataset.species)
        n = len(self.dataset.genes)
        if not self.mapping.genes:
            raise DataError(f"Dataset {self.dataset.name!r}: none of the {n} genes is in the checkpoint vocabulary "
                            f"(first: {', '.join(self.dataset.genes[:5])}); expected gene symbols (e.g. MYC, not Ensembl "
                            f"IDs) of the species given ({self.dataset.species}).")
        if len(self.mapping.genes) < 2:
            gene, unknown = self.mapping.genes[0], self.mapping.unmapped
            if n == 1:
                raise DataError(f"Dataset {self.dataset.name!r} has one gene ({gene}), and a TF→target pair needs two; "
                                "expected at least two genes in the checkpoint vocabulary.")
            raise DataError(f"Dataset {self.dataset.name!r}: only 1 of the {n} genes ({gene}) is in the checkpoint "
                            "vocabulary, and a TF→target pair needs two; expected at least two known genes"
                            + (f" (not in the vocabulary: {first_items(unknown, 5)})." if unknown else "."))
        own = sorted(self.mapping.tokens)
        extra = self.background.extra_tokens(own) if self.background is not None else []
        self.tokens = sorted(set(own) | set(extra))
        self._pos = {t: i for i, t in enumerate(self.tokens)}
        self._gene_pos = {g: self._pos[t] for g, t in zip(self.mapping.genes, self.mapping.tokens)}
        self.scored = np.asarray([self._pos[t] for t in own], dtype=np.int64)
        rank = {t: k for k, t in enumerate(own)}
        self._gene_index = {g: rank[t] for g, t in zip(self.mapping.genes, self.mapping.tokens)}
        self.token_ids = self.fm.token_ids(self.tokens)
        self.cache = self.cache or ProbeCache(self.fm.checkpoint_id)
        self._mem: dict[str, np.ndarray] = {}
        self.source: dict[str, str] = {}  # probe → "computed" | "disk": where this object got it from
        self._mean_cell: np.ndarray | None = None

    # ------------------------------------------------------------------ keys
    @property
    def genes(self) -> list[str]:
        """Dataset genes that are in the context (vocabulary-mapped), dataset order."""
        return self.mapping.genes

    @property
    def restricted(self) -> bool:
        """True when background genes are in the context: probe arrays then cover the scored genes only (S < N)."""
        return len(self.scored) < len(self.tokens)

    def positions(self, genes) -> np.ndarray:
        """Context positions (int64) of dataset genes, for model calls and the embedding table. Raises KeyError naming
        genes outside the context."""
        try:
            return np.fromiter((self._gene_pos[g] for g in genes), dtype=np.int64)
        except KeyError as e:
            raise KeyError(f"gene {e.args[0]} of {self.dataset.name} is not in the checkpoint vocabulary") from None

    def probe_index(self, genes) -> np.ndarray:
        """Indices (int64) of dataset genes into probe arrays (``probe``): their rank among the scored genes (equal to
        ``positions`` without a background). Raises KeyError naming genes outside the context."""
        try:
            return np.fromiter((self._gene_index[g] for g in genes), dtype=np.int64)
        except KeyError as e:
            raise KeyError(f"gene {e.args[0]} of {self.dataset.name} is not in the checkpoint vocabulary") from None

    def restrict(self, P: np.ndarray, axis: int = -1) -> np.ndarray:
        """``P`` taken at the scored genes' context positions along ``axis`` (``P`` itself without a background)."""
        return np.take(P, self.scored, axis=axis) if self.restricted else P

    def mean_cell(self) -> np.ndarray:
        """The dataset's mean cell in bin space over the context, float32 (N,): cells binned per cell, then averaged.

        Raises: ValueError when the dataset has no expression.
        """
        if self._mean_cell is None:
            if self.restricted:
                raise DataError(f"Dataset {self.dataset.name!r} is probed with background genes "
                                f"({self.background.name}) that have no expression; "
                                f"{', '.join(methods.names(needs_expression=True))} need expression for every context "
                                "gene: score them without a background")
            if not self.dataset.has_expression:
                need = ", ".join(methods.names(needs_expression=True))
                raise DataError(f"Dataset {self.dataset.name!r} has no expression: {need} need it")
            X = self.dataset.expression.X
            X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
            binned = bin_values(X, int(self.fm.args.get("n_bins", 51))).mean(0)
            col = {g: i for i, g in enumerate(self.dataset.expression.var_names)}
            self._mean_cell = np.asarray([binned[col[g]] for g in self.mapping.genes], dtype=np.float32)[
                np.argsort(self.mapping.tokens)
            ]
        return self._mean_cell

    def _key(self, probe: str) -> str:
        spec = methods.probe_owner(probe)
        parts = [probe, self.tokens, {"probe_version": PROBE_VERSION}]
        if self.fm.precision != "fp32":  # mixed-precision probes are cached apart; fp32 keys stay as they were
            parts.append({"precision": self.fm.precision})
        if spec.cache_params is not None:
            parts.append(spec.cache_params(self.params))
        if spec.needs_expression:  # probed at the mean cell: it enters the key
            parts.append(np.round(self.mean_cell(), 5))
        if self.restricted:  # a background context: the array covers the scored genes only
            parts.append({"scored": [self.tokens[i] for i in self.scored]})
        return cache_key(*parts)

    def derived_key(self, probe: str, suffix: str, extra: dict) -> str:
        """Cache key of an array derived from ``probe`` (e.g. a GDT block, ``suffix`` "-block"): the probe's own key
        (``_key``) plus ``extra`` (JSON-serialisable), hashed with ``cache_key``."""
        return cache_key(probe + suffix, self._key(probe), extra)

    def jacobian_block(self, probe: str) -> bool:
        """True when ``probe`` is a registered probe whose method declares ``jacobian_block`` (GDT: it can be
        computed for the TF rows and columns only; ``probes.blocks``)."""
        return probe in methods.probe_names() and bool(methods.probe_owner(probe).jacobian_block)

    def is_cached(self, probe: str) -> bool:
        """True when probe array ``probe`` is in memory or on disk and passes the cache's integrity check (a damaged
        entry counts as missing: it will be recomputed); False when it needs expression the dataset lacks."""
        if methods.probe_owner(probe).needs_expression and (self.restricted or not self.dataset.has_expression):
            return False
        return probe in self._mem or self.cache.usable(probe, self._key(probe))

    def probe_rows(self, probe: str) -> tuple[int, int]:
        """Model rows computing ``probe`` takes: (forward rows, Jacobian rows); (0, 0) when it is cached or needs
        no model call (Emb) or no expression is available (Pert, Attn). VVP: T·S + 1 forward rows; GDT: V·S
        Jacobian rows (S = scored genes, = N without a background); Pert: N + 1 forward rows; Attn: about 2 forward
        rows."""
        if probe not in methods.probe_names() and probe.lower() in (n.lower() for n in methods.names(probe=None)):
            return 0, 0  # a method that reads no model probe (Emb: a vocabulary-table lookup)
        spec = methods.probe_owner(probe)  # ValueError for an unknown probe
        if spec.probe_rows is None or self.is_cached(probe) or (
                spec.needs_expression and (self.restricted or not self.dataset.has_expression)):
            return 0, 0
        return spec.probe_rows(len(self.scored), self.params)

    def estimate_seconds(self, probes) -> float:
        """Estimated wall seconds to compute the not-yet-cached ``probes`` on this device (0.0 when all are cached):
        rows (``probe_rows``) × seconds per row from a short timed calibration (``ScFM.seconds_per_row``)."""
        fwd = bwd = 0
        total = 0.0
        for probe in probes:
            block = blocks.plan(self, probe)  # only the TF rows and columns (issue 28), when cheaper
            if block:
                total += blocks.estimate_seconds(self, block)
                continue
            f, b = self.probe_rows(probe)
            fwd, bwd = fwd + f, bwd + b
        return total + (self.fm.estimate_seconds(fwd, bwd, len(self.tokens)) if fwd or bwd else 0.0)

    # --------------------------------------------------------------- probes
    def embeddings(self) -> np.ndarray:
        """The context genes' token embeddings, float32 (N, d_model), context order (read from the checkpoint)."""
        return self.fm.embeddings(self.token_ids)

    def probe(self, probe: str, progress: ProgressFn | None = None) -> np.ndarray:
        """Probe array ``probe`` (``methods.probe_names()``): float32 (K, S, S) indexed [k, source, target] over the
        scored genes (S = N, the whole context, without a background; index with ``probe_index``).

        Computed by the owning method's ``compute_probe`` (e.g. VVP: R[t, i, j], Eq. 8; GDT: ∂M_j/∂x_i, Eq. 9),
        then kept in memory and in the disk cache.
        Raises: ValueError for an unknown probe or one that needs expression the dataset lacks.
        """
        if probe in self._mem:
            return self._mem[probe]
        meta = {"probe": probe, "params": self.params.to_dict(), "n_genes": len(self.tokens),
                "dataset": self.dataset.name, "checkpoint": str(self.fm.path)}
        if self.restricted:
            meta.update(n_scored=len(self.scored), background=self.background.name)
        arr, computed = self.cache.get_or_compute(probe, self._key(probe), lambda: self._compute(probe, progress), meta)
        self.source[probe] = "computed" if computed else "disk"
        self._mem[probe] = arr
        return arr

    def _compute(self, probe: str, progress: ProgressFn | None = None) -> np.ndarray:
        """Compute probe array ``probe`` with its owning method's ``compute_probe`` (no cache)."""
        return methods.probe_owner(probe).compute_probe(self, progress)

    # --------------------------------------------------------- pair features
    def both_directions(self, probe: str, pairs: pd.DataFrame, progress: ProgressFn | None = None) -> np.ndarray:
        """Pair features [P[:, i, j] ‖ P[:, j, i]] (forward ‖ reverse) of probe array ``probe``, float32 (P, 2K):
        from the whole array, or from its TF rows and columns only (``blocks``, ``rows="auto"``).

        Raises: KeyError for genes outside the context.
        """
        i, j = self.probe_index(pairs["tf"]), self.probe_index(pairs["target"])
        block = blocks.block(self, probe, pairs, progress)  # only the entries these pairs read, when cheaper
        if block is not None:
            return block.features(i, j)
        P = self.normalised_probe(probe, progress)
        return np.concatenate([P[:, i, j].T, P[:, j, i].T], axis=1).astype(np.float32)

    def pair_values(self, probe: str, sources, targets, progress: ProgressFn | None = None) -> np.ndarray:
        """Raw values ``P[:, i, j]`` float32 (K, P) of probe array ``probe`` for genes ``sources[p]`` → ``targets[p]``
        (the zero-shot methods' reading). Raises: KeyError for genes outside the context."""
        P = self.probe(probe, progress)
        return P[:, self.probe_index(sources), self.probe_index(targets)]

    def normalised_probe(self, probe: str, progress: ProgressFn | None = None) -> np.ndarray:
        """Probe array ``probe`` after ``normalise_probe`` with ``params.feature_norm``, float32 (K, S, S), kept in
        memory in place of the raw array (which stays in the disk cache and is re-read when asked for).

        In a background context (``restricted``) the array covers only the S scored genes of an N-gene context:
        "context-size" scales by N (the context, not S); "context-z" uses the background's ``norm_reference``
        (statistics of the full context it stands for, recorded by the translator) when it has one for ``probe``,
        else the statistics over the scored pairs (a warning says so); "context-rank" ranks over the scored pairs.
        """
        mode = self.params.feature_norm
        if mode == "none":
            return self.probe(probe, progress)
        key = f"{probe}|{mode}"
        if key not in self._mem:
            P = self.probe(probe, progress)
            ref = dict((r[0], r[1:]) for r in (self.background.norm_reference or ())) if self.restricted else {}
            if self.restricted and mode == "context-size":
                out = P * np.float32(len(self.tokens))
            elif self.restricted and mode == "context-z" and probe in ref:
                out = normalise_probe(P, mode, reference=ref[probe])
            else:
                if self.restricted:
                    warnings.warn(f"{self.dataset.name}: {mode} features of {probe} in a background context without "
                                  f"reference statistics are normalised over the {len(self.scored)} scored genes' pairs "
                                  f"only", UserWarning, stacklevel=2)
                out = normalise_probe(P, mode)
            self._mem[key] = out
            self._mem.pop(probe, None)
        return self._mem[key]

    def norm_statistics(self, probe: str, progress: ProgressFn | None = None) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Mean and standard deviation (each K floats) of each slice of the raw probe array ``probe`` over its
        off-diagonal entries: the "context-z" statistics of this context (``normalise_probe``). Raises DataError in a
        background context (its arrays cover the scored genes only)."""
        if self.restricted:
            raise DataError(f"{self.dataset.name}: context statistics need the full context, not a background one")
        P = self.probe(probe, progress)
        off = ~np.eye(P.shape[1], dtype=bool)
        v = P[:, off].astype(np.float64)
        return tuple(float(x) for x in v.mean(1)), tuple(float(x) for x in v.std(1))

    def pair_features(self, method: str, pairs: pd.DataFrame, progress: ProgressFn | None = None) -> np.ndarray:
        """Feature matrix float32 (P, D) of translator method ``method`` for TF→target ``pairs`` (columns tf, target).

        E.g. VVP (P, 2T), GDT (P, 2V), Pert (P, 2) as [forward ‖ reverse]; Emb (P, d_model) = E_i + E_j.
        Raises: KeyError for genes outside the context; ValueError for a method without features or one that needs
        expression the dataset lacks.
        """
        spec = methods.get(method)
        if not spec.trainable:
            raise ValueError(f"{spec.name} has no pair features; trainable methods: {methods.names(trainable=True)}")
        return spec.features(self, pairs, progress)

    # ----------------------------------------------------------- one pair
    def pair_curves(self, source: str, target: str, n_points: int = 21) -> dict:
        """VVP response curves and GDT trajectories of one pair, both directions (for plots; not cached on disk).

        Returns: dict with ``v0`` (float), ``vvp`` DataFrame[direction, value, response] over ``n_points`` virtual
        values spanning 0..max(target_values), and ``gdt`` DataFrame[direction, base_value, gradient].
        """
        i, j = self.positions([source, target])
        ids = self.token_ids
        grid = np.linspace(0.0, max(self.params.target_values), n_points).astype(np.float32)
        R = self.fm.vvp(ids, self.params.v0, grid, sources=np.asarray([i, j]))  # (n_points, 2, N)
        J = np.stack([self.fm.jacobian(ids, v, targets=np.asarray([j, i])) for v in self.params.base_values])  # (V, 2, N)
        fwd, rev = f"{source}→{target}", f"{target}→{source}"
        vvp = pd.DataFrame({"direction": [fwd] * n_points + [rev] * n_points,
                            "value": np.concatenate([grid, grid]),
                            "response": np.concatenate([R[:, 0, j], R[:, 1, i]])})
        V = np.asarray(self.params.base_values)
        gdt = pd.DataFrame({"direction": [fwd] * len(V) + [rev] * len(V),
                            "base_value": np.concatenate([V, V]),
                            "gradient": np.concatenate([J[:, 0, i], J[:, 1, j]])})
        return {"v0": self.params.v0, "vvp": vvp, "gdt": gdt}


_PROBES: "OrderedDict[tuple, DatasetProbes]" = OrderedDict()


def memo_probes(store: OrderedDict, cls, fm, ds, params: ProbeParams | None = None, background=None):
    """``cls(fm, ds, params, background=background)`` kept in ``store`` (an LRU of the 16 most recent gene sets),
    keyed by the checkpoint, device, dataset (name, genes, TFs, expression object), ``params`` and ``background``."""
    params = params or ProbeParams()
    expr_id = None if ds.expression is None else (ds.expression.n_obs, id(ds.expression))
    key = (fm.checkpoint_id, str(fm.device), ds.name, hash(tuple(ds.genes)), hash(tuple(ds.tfs)), expr_id, params,
           background)
    if key not in store:
        store[key] = cls(fm, ds, params, background=background)
        while len(store) > 16:
            store.popitem(last=False)
    store.move_to_end(key)
    return store[key]


def dataset_probes(fm, ds, params: ProbeParams | None = None, background=None) -> "DatasetProbes":
    """The ``DatasetProbes`` of ``ds`` under ``fm`` and ``params`` (in ``background``'s context when given), kept in
    memory for the 16 most recent gene sets (``clear_memo`` forgets them)."""
    return memo_probes(_PROBES, DatasetProbes, fm, ds, params, background)


def clear_memo() -> None:
    """Forget the ``DatasetProbes`` kept in memory by ``dataset_probes`` (as a new process starts)."""
    _PROBES.clear()
