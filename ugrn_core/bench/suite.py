"""The benchmark suite: the paper's cross-dataset protocol over several seeds, negative modes and N/P ratios, with
controls computed by the same code path as the methods, and per-cell results saved as they complete.

A *cell* is one (training dataset, test dataset, seed, negative mode, N/P ratio). For each (training dataset, seed):

- training pairs: all positives of the training dataset + 1:1 uniform negatives (the paper's), drawn with ``seed``;
- translators (projector initialisation with ``seed``) for the trainable methods on the real checkpoint, on its
  random-init twin (``controls.make_twin``; its probes of the same gene sets) and on shuffled training labels.

For each test dataset and cell: test pairs from ``negatives.sample_test_pairs`` (training pairs removed by vocabulary
token), then every method (``Emb``, ``VVP``, …), ``X (twin)``, ``X (shuffled labels)``, the degree prior and the
expression peers (registry methods with a ``score`` function) are scored and evaluated (``metrics.evaluate``),
on all test pairs (view "all") and on the pairs whose TF and target never occur in the training pairs
(view "unseen genes").

Test datasets of the training cell type are excluded unless ``include_train_cell`` (then labelled in the rows).
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import controls, curves
from .. import methods as registry
from .._io import atomic_write, lock_file
from ..probes.cache import cache_key
from ..data.datasets import load_beeline
from ..data.names import parse_dataset_name
from .scoring import metric_values, na_reason, score_methods
from .negatives import NEGATIVE_MODES, sample_test_pairs
from .presets import PRESETS
from ..translator.training import TRAINING_VERSION

ProgressFn = Callable[[int, int, str], None]
METRICS = ["AUROC", "AUPRC", "AUPRC_ratio", "EPR"]
CONTROL_KINDS = ("twin", "shuffled", "degree-prior", "unseen")


def model_methods() -> tuple[str, ...]:
    """The benchmark's model methods (registry specs with ``paper_table``), in display order."""
    return tuple(registry.names(paper_table=True))


def twin_methods() -> tuple[str, ...]:
    """Model methods also scored on the random-init twin (``twin``)."""
    return tuple(registry.names(paper_table=True, twin=True))


def shuffled_methods() -> tuple[str, ...]:
    """Model methods also scored with a translator trained on shuffled labels (``shuffled_control``)."""
    return tuple(registry.names(paper_table=True, shuffled_control=True))


def default_peers() -> tuple[str, ...]:
    """Expression peers run by default (``default_peer``)."""
    return tuple(registry.names(default_peer=True))


# ------------------------------------------------------------------ adapters to the model code (one place to change)
def _model_spec(method: str):
    return registry.get(method)


def _probes(fm, ds, params):
    from ..probes.features import DatasetProbes

    return DatasetProbes(fm, ds, params)


def _fit_translators(jobs, seed: int, options: dict) -> list:
    """Translators for ``jobs`` = [(probes, pairs, methods)] (Ens → VVP + GDT), every projector trained in one loop
    (``Translator.fit_many``) with ``translator.TrainOptions`` given in full as a dict (``SuiteConfig.options``);
    None for a job with nothing trainable (no expression)."""
    import warnings

    from ..translator.artifact import Translator
    from ..translator.options import TrainOptions

    opts = TrainOptions.from_dict(options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Translator.fit_many([(p, d, list(m)) for p, d, m in jobs], seed=seed, options=opts,
                                   skip_untrainable=True)


# ----------------------------------------------------------------------------------------------- configuration
@dataclass
class SuiteConfig:
    """What one suite run computes (recorded in every result).

    Attributes:
        methods: model methods (subset of ``model_methods()``).
        peers: registry methods of family EXPRESSION_UNSUPERVISED to run on test datasets with expression.
        controls: subset of ``CONTROL_KINDS``.
        seeds: seeds of negative sampling and projector initialisation (≥ 5 for reported tables).
        negatives: negative modes (``negatives.NEGATIVE_MODES``).
        np_ratios: N/P ratios of the test pairs.
        epochs: projector training epochs (paper: 50).
        include_train_cell: also test datasets of the training cell type (labelled "same cell type" in the rows).
        twin_methods: methods also scored on the random-init twin (subset of ``twin_methods()``).
        train_options: projector training options other than epochs (``translator.TrainOptions`` as a dict: weight
            decay, dropout, early stopping); None = ``translator.DEFAULT_OPTIONS``.
    """

    methods: tuple[str, ...] = field(default_factory=model_methods)
    peers: tuple[str, ...] = field(default_factory=default_peers)
    controls: tuple[str, ...] = CONTROL_KINDS
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    negatives: tuple[str, ...] = ("uniform", "tf-positive")
    np_ratios: tuple[float, ...] = (1.0,)
    epochs: int = 50
    include_train_cell: bool = False
    twin_methods: tuple[str, ...] = field(default_factory=twin_methods)
    train_options: dict | None = None

    def options(self) -> dict:
        """The projector training options in full (``translator.TrainOptions`` as a dict): the defaults, then
        ``train_options``, then ``epochs``."""
        from ..translator.options import DEFAULT_OPTIONS

        return {**DEFAULT_OPTIONS.to_dict(), **(self.train_options or {}), "epochs": self.epochs}

    def __post_init__(self):
        bad = [n for n in self.negatives if n not in NEGATIVE_MODES]
        if bad:
            raise ValueError(f"unknown negative modes {bad}; expected some of {list(NEGATIVE_MODES)}")
        bad = [c for c in self.controls if c not in CONTROL_KINDS]
        if bad:
            raise ValueError(f"unknown controls {bad}; expected some of {list(CONTROL_KINDS)}")
        bad = [m for m in self.methods if m not in model_methods()]
        if bad:
            raise ValueError(f"unknown methods {bad}; expected some of {list(model_methods())}")
        for p in self.peers:
            registry.get(p)


def suite_config(name: str, seeds=None, negatives=None, controls=None, peers=None, methods=None,
                 twin_methods=None) -> SuiteConfig:
    """``SuiteConfig`` of preset ``name`` (``presets.PRESETS``), with explicit arguments (when not None) overriding it."""
    p = PRESETS[name]
    kw = dict(p.config, include_train_cell=p.include_train_cell)
    for k, v in (("seeds", seeds), ("negatives", negatives), ("controls", controls), ("peers", peers),
                 ("methods", methods), ("twin_methods", twin_methods)):
        if v is not None:
            kw[k] = tuple(v)
    return SuiteConfig(**kw)


@dataclass
class _TrainState:
    """Everything computed once per (training dataset, seed)."""

    train_pairs: pd.DataFrame
    train_tokens: set  # (tf token, target token) of the training pairs
    train_genes: set  # tokens of every gene in the training pairs
    translators: dict = field(default_factory=dict)  # "real" / "twin" / "shuffled" → Translator | None
    fitted: bool = False  # translators fitted (peers need only the pairs)


class Suite:
    """Runs cells and keeps their rows under ``cells_dir`` (default ``out/cells/``; one CSV per cell, written
    atomically when it completes, so an interrupted run resumes where it stopped).

    Args:
        fm: the checkpoint (``scfm.ScFM``); twin_fm: its random-init twin or None (then twin rows are skipped).
        config: ``SuiteConfig``; params: probe parameters (``params.ProbeParams``); data_dir: data directory.
        out: folder for the per-cell results; progress: ``progress(done, total, message)``.
        cells_dir: where cell files live. A cell's file name is a hash of everything that decides its rows (datasets,
            seed, negatives, N/P, methods, controls, probe parameters, training options, checkpoint ids), so suites
            that share a folder share their cells (the presets share ``<root>/cells``: Table 3 and 4 cells are Table 2
            cells, Table 6 at N/P 1 is Table 1 with uniform negatives).
        train_states: a dict shared by suites of one process (the presets of ``--preset all``), so a training
            source's translators are fitted once per seed, whichever table needs them first. Keyed by everything that
            decides them (source, seed, methods, controls, epochs, options, probe parameters, checkpoint ids).
    """

    def __init__(self, fm, config: SuiteConfig, out, twin_fm=None, params=None, data_dir=None,
                 progress: ProgressFn | None = None, cells_dir=None, train_states: dict | None = None):
        from ..probes.params import ProbeParams

        self.fm, self.twin_fm, self.config = fm, twin_fm, config
        self.params = params or ProbeParams()
        self.data_dir, self.progress = data_dir, progress
        self.out = Path(out)
        self.cells_dir = Path(cells_dir) if cells_dir is not None else self.out / "cells"
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        self._ds: dict = {}
        self._probes: dict = {}
        self._train: dict = train_states if train_states is not None else {}
        self._peer_cache: dict = {}
        self._last_pairs: tuple = (None, None)

    # --------------------------------------------------------------------------------------- helpers
    def dataset(self, name):
        if name not in self._ds:
            self._ds[name] = load_beeline(name, self.data_dir)
        return self._ds[name]

    def probes(self, name, which="real"):
        key = (name, which)
        if key not in self._probes:
            self._probes[key] = _probes(self.fm if which == "real" else self.twin_fm, self.dataset(name), self.params)
        return self._probes[key]

    def cell_key(self, train, test, seed, negatives, np_ratio, peer: str | None = None) -> str:
        """Cache key of a cell's model and control rows (``peer`` None) or of one peer's rows in that cell. Peers are
        not part of the model rows' key, so adding a peer to a finished run computes only the peer's rows."""
        c = self.config
        if peer is not None:  # a peer needs no model: only the test pairs (training pairs removed) and views matter
            return cache_key("peer", peer, train, test, seed, negatives, float(np_ratio), "unseen" in c.controls)
        return cache_key(train, test, seed, negatives, float(np_ratio), list(c.methods), list(c.controls),
                         c.epochs, list(c.twin_methods), self.params.to_dict(), self.fm.checkpoint_id,
                         self.twin_fm.checkpoint_id if self.twin_fm is not None else None, c.options(),
                         TRAINING_VERSION)

    def _cell_path(self, *key, peer: str | None = None) -> Path:
        return self.cells_dir / f"{'peer-' if peer else ''}{self.cell_key(*key, peer=peer)}.csv"

    def _training_pairs(self, train: str, seed: int) -> _TrainState:
        """The training pairs of (``train``, ``seed``) (all positives + 1:1 uniform negatives, the paper's) and their
        vocabulary tokens, as a ``_TrainState`` without translators (kept, and completed by ``_train_state``)."""
        key = self._train_key(train, seed)
        if key not in self._train:
            probes = self.probes(train)
            pairs = sample_test_pairs(self.dataset(train), genes=probes.genes, np_ratio=1.0, seed=seed,
                                      negatives="uniform")
            tok = dict(zip(probes.mapping.genes, probes.mapping.tokens))
            tfs, tgs = pairs["tf"].map(tok), pairs["target"].map(tok)
            self._train[key] = _TrainState(pairs, set(zip(tfs, tgs)), set(tfs) | set(tgs))
        return self._train[key]

    def _train_key(self, train: str, seed: int) -> str:
        """Key of a (training source, seed)'s ``_TrainState``: what decides its pairs and translators."""
        c = self.config
        return cache_key("train", train, seed, list(c.methods), list(c.controls), list(c.twin_methods), c.options(),
                         self.params.to_dict(), self.fm.checkpoint_id,
                         self.twin_fm.checkpoint_id if self.twin_fm is not None else None)

    def _train_state(self, train: str, seed: int) -> _TrainState:
        """``_training_pairs`` with the translators fitted (real, shuffled labels, twin; once per train and seed)."""
        state = self._training_pairs(train, seed)
        if state.fitted:
            return state
        c = self.config
        probes, pairs = self.probes(train), state.train_pairs
        trained = [m for m in c.methods if _model_spec(m).uses_translator]
        jobs = {}  # translator kind → (probes, pairs, methods); all fitted in one loop
        if trained:
            jobs["real"] = (probes, pairs, trained)
            shuffled = [m for m in trained if m in shuffled_methods()]
            if "shuffled" in c.controls and shuffled:
                jobs["shuffled"] = (probes, controls.shuffle_labels(pairs, seed), shuffled)
            twin = [m for m in trained if m in c.twin_methods]
            if "twin" in c.controls and self.twin_fm is not None and twin:
                jobs["twin"] = (self.probes(train, "twin"), pairs, twin)
        if jobs:
            state.translators.update(zip(jobs, _fit_translators(list(jobs.values()), seed, c.options())))
        state.fitted = True
        return state

    def _peer_scores(self, name, peer, pairs) -> np.ndarray:
        cache = self._peer_cache.setdefault((name, peer), {})
        return registry.score_pairs(None, pairs, [peer], dataset=self.dataset(name), cache=cache)[
            registry.get(peer).name].to_numpy()

    # ------------------------------------------------------------------------------------------ cells
    def _test_pairs(self, key):
        """Test pairs of cell ``key`` (training pairs removed by vocabulary token) and its views (name → bool mask);
        the last cell's are kept, so its model rows and peer rows share one draw."""
        if self._last_pairs[0] == key:
            return self._last_pairs[1]
        train, test, seed, negatives, np_ratio = key
        st = self._training_pairs(train, seed)
        train_tokens, train_genes = st.train_tokens, st.train_genes
        ds, probes = self.dataset(test), self.probes(test)
        pairs = sample_test_pairs(ds, genes=probes.genes, np_ratio=np_ratio, seed=seed, negatives=negatives)
        tok = dict(zip(probes.mapping.genes, probes.mapping.tokens))
        tf_tok, tg_tok = pairs["tf"].map(tok), pairs["target"].map(tok)
        seen = np.fromiter(((a, b) in train_tokens for a, b in zip(tf_tok, tg_tok)), dtype=bool, count=len(pairs))
        pairs = pairs.loc[~seen].reset_index(drop=True)
        tf_tok, tg_tok = tf_tok[~seen].to_numpy(), tg_tok[~seen].to_numpy()
        views = {"all": np.ones(len(pairs), dtype=bool)}
        if "unseen" in self.config.controls:
            views["unseen genes"] = controls.unseen_gene_mask(tf_tok, tg_tok, train_genes)
        self._last_pairs = (key, (pairs, views))
        return pairs, views

    def _rows(self, key, pairs, views, scores) -> pd.DataFrame:
        """One row per (view, scored method) of cell ``key`` = (train, test, seed, negatives, np_ratio)."""
        train, test, seed, negatives, np_ratio = key
        y_all = pairs["label"].to_numpy().astype(np.int8)
        same_cell = parse_dataset_name(train)[1] == parse_dataset_name(test)[1]
        rows = []
        for view, mask in views.items():
            y = y_all[mask]
            for (name, base, variant, fam), s in scores.items():
                row = {"train": train, "test": test, "seed": seed, "negatives": negatives, "np_ratio": float(np_ratio),
                       "method": name, "base_method": base, "variant": variant, "family": fam, "view": view,
                       "same_cell_type": same_cell, "n_pos": int(y.sum()), "n_neg": int(len(y) - y.sum()), "note": ""}
                values, note = metric_values(y, s if isinstance(s, str) else s[mask], METRICS,
                                             note=s if isinstance(s, str) else "",
                                             one_class="n/a: view has no positive or no negative")
                row.update(values, note=note)
                rows.append(row)
        return pd.DataFrame(rows)

    @staticmethod
    def _read_cell(path: Path) -> pd.DataFrame:
        # round_trip: the float64 metrics read back exactly as computed (pandas' default parser is off by an ulp), so
        # a resumed or distributed run's rows equal a fresh serial run's
        df = pd.read_csv(path, float_precision="round_trip")
        df["note"] = df["note"].fillna("")
        return df

    def _model_rows(self, key) -> pd.DataFrame:
        """Rows of the model methods and controls of cell ``key`` (computed, or read from the cells/ cache)."""
        path = self._cell_path(*key)
        if path.is_file():
            return self._read_cell(path)
        train, test, seed, negatives, np_ratio = key
        c = self.config
        state = self._train_state(train, seed)
        pairs, views = self._test_pairs(key)
        ds, probes = self.dataset(test), self.probes(test)

        scores: dict[tuple[str, str, str, str], np.ndarray | str] = {}  # (name, base, variant, family) → scores
        for m, s in score_methods(probes, pairs, c.methods, state.translators.get("real")).items():
            fam = _model_spec(m).family.value
            scores[(m, m, "real", fam)] = s
        if "twin" in c.controls and self.twin_fm is not None:
            twin_methods = [m for m in c.methods if m in c.twin_methods]
            twin_tr = state.translators.get("twin")
            for m, s in score_methods(self.probes(test, "twin"), pairs, twin_methods, twin_tr).items():
                scores[(m + registry.TWIN_SUFFIX, m, "twin", "control")] = s
        if "shuffled" in c.controls and state.translators.get("shuffled") is not None:
            sh = [m for m in c.methods if m in shuffled_methods()]
            for m, s in score_methods(probes, pairs, sh, state.translators["shuffled"]).items():
                scores[(m + registry.SHUFFLED_SUFFIX, m, "shuffled labels", "control")] = s
        if "degree-prior" in c.controls:
            spec = registry.control_method("degree-prior")
            scores[(spec.name, spec.name, "control", "control")] = registry.score_pairs(
                None, pairs, [spec.name], dataset=ds, train_pairs=state.train_pairs, seed=seed)[spec.name].to_numpy()
        df = self._rows(key, pairs, views, scores)
        if key[2:] == curves.curve_slice(c):  # per-pair scores for ROC / PR curves, before the rows file
            curves.write_cell_scores(path, test, pairs["label"].to_numpy(), scores)
        atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))
        return df

    def _peer_rows(self, key, peer: str) -> pd.DataFrame:
        """Rows of expression peer ``peer`` in cell ``key`` (cached apart from the model rows; no translator needed)."""
        path = self._cell_path(*key, peer=peer)
        if path.is_file():
            return self._read_cell(path)
        pairs, views = self._test_pairs(key)
        test = key[1]
        spec, ds = registry.get(peer), self.dataset(test)
        scores = {(spec.name, spec.name, "peer", "peer"): na_reason(spec, ds) or self._peer_scores(test, peer, pairs)}
        df = self._rows(key, pairs, views, scores)
        if key[2:] == curves.curve_slice(self.config):
            curves.write_cell_scores(path, test, pairs["label"].to_numpy(), scores)
        atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))
        return df

    def run_cell(self, train: str, test: str, seed: int, negatives: str, np_ratio: float) -> pd.DataFrame:
        """Rows of one cell (model rows and each peer's rows cached on disk apart); see the module docstring. Columns:
        train, test, seed, negatives, np_ratio, method, base_method, variant, family, view, same_cell_type, AUROC,
        AUPRC, AUPRC_ratio, EPR, n_pos, n_neg, note."""
        key = (train, test, seed, negatives, np_ratio)
        parts = [self._model_rows(key)] + [self._peer_rows(key, p) for p in self.config.peers]
        return pd.concat(parts, ignore_index=True)

    def _cell_lock(self, cell, block: bool):
        """An open lock file holding an exclusive ``fcntl.flock`` on ``cell`` (a tuple of ``run_cell``'s arguments),
        or None when ``block`` is False and another process holds it. The caller closes it to release."""
        return lock_file(self.cells_dir / f".{self.cell_key(*cell)}.lock", block)

    def cells(self, jobs) -> list[tuple]:
        """The cells (train, test, seed, negatives, N/P) of ``jobs`` (as in ``run``), in ``run``'s forward order."""
        c = self.config
        return [(train, test, seed, neg, r) for train, tests, ratios in jobs for seed in c.seeds for test in tests
                for neg in c.negatives for r in (ratios or c.np_ratios)]

    def curve_scores(self, jobs) -> dict:
        """Per-pair scores {(method, test dataset): (y_true int8 (P,), y_score float32 (P,))} of the cells of ``jobs``
        in ``curves.curve_slice`` (view "all"; methods, peers, degree prior), for ROC / PR curves; cells computed
        before scores were kept are missing."""
        keep = [cell for cell in self.cells(jobs) if cell[2:] == curves.curve_slice(self.config)]
        return curves.gather([self._cell_path(*cell, peer=p) for cell in keep for p in (None, *self.config.peers)])

    def cell_on_disk(self, cell) -> bool:
        """True when the model and control rows of ``cell`` are in the cells folder (no translator needed)."""
        return self._cell_path(*cell).is_file()

    def cell_complete(self, cell) -> bool:
        """True when every part of ``cell`` (model rows and each peer's rows) is in the cells folder."""
        return self.cell_on_disk(cell) and all(self._cell_path(*cell, peer=p).is_file() for p in self.config.peers)

    def cell_lock(self, cell):
        """The cell's exclusive lock (``_cell_lock``, blocking): ``with suite.cell_lock(cell): suite.run_cell(*cell)``
        shares work with other processes running the same cells."""
        return self._cell_lock(cell, block=True)

    def train_key(self, train: str, seed: int) -> str:
        """Key of the training state of (``train``, ``seed``): everything that decides its pairs and translators."""
        return self._train_key(train, seed)

    def train_state(self, train: str, seed: int) -> _TrainState:
        """The training pairs and fitted translators of (``train``, ``seed``), fitted once (picklable: a cluster's
        fit task hands it to the cell tasks, ``engine``)."""
        return self._train_state(train, seed)

    def adopt_train_state(self, train: str, seed: int, state: _TrainState) -> None:
        """Use ``state`` (from ``train_state``, possibly of another process with the same ``train_key``)."""
        self._train[self._train_key(train, seed)] = state

    def run(self, jobs, order: str = "forward") -> pd.DataFrame:
        """Run ``jobs`` = iterable of (train, tests, np_ratios or None) and return every cell's rows (one DataFrame).

        ``tests`` is a list of dataset names (already filtered, e.g. by ``test_datasets``); ``np_ratios`` None means
        ``config.np_ratios``. Cells already on disk are read, not recomputed.

        Several processes may run the same jobs into the same cells folder and share the work: each holds an
        exclusive lock (``fcntl.flock``) on the cell it computes, skips cells another process holds, and at the end
        waits for those and reads them. ``order`` "reverse" walks the cells from the last (a second process started
        with it meets the first in the middle, so each training source's translators are fitted by one process).
        The rows come back in the same (forward) order either way.
        Raises: ParameterError for an unknown ``order``.
        """
        from ..errors import ParameterError

        if order not in ("forward", "reverse"):
            raise ParameterError(f"order must be 'forward' or 'reverse', got {order!r}")
        cells = self.cells(jobs)
        rows: dict[int, pd.DataFrame] = {}
        todo = list(range(len(cells)))[:: -1 if order == "reverse" else 1]
        deferred = []
        for done, k in enumerate(todo):
            cell = cells[k]
            if self.progress:
                self.progress(done, len(cells), f"train {cell[0]} → {cell[1]}, seed {cell[2]}, {cell[3]}, N/P {cell[4]:g}")
            lock = self._cell_lock(cell, block=False)
            if lock is None:  # another process is computing it: come back at the end
                deferred.append(k)
                continue
            with lock:
                rows[k] = self.run_cell(*cell)
        for k in deferred:
            with self._cell_lock(cells[k], block=True):
                rows[k] = self.run_cell(*cells[k])
        if self.progress:
            self.progress(len(cells), len(cells), "suite done")
        return pd.concat([rows[k] for k in range(len(cells))], ignore_index=True) if cells else pd.DataFrame()


def environment() -> dict:
    """Versions recorded with every result: python, numpy, pandas, torch, scipy, scikit-learn, platform."""
    import importlib.metadata as md

    vers = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("numpy", "pandas", "torch", "scipy", "scikit-learn", "arboreto", "regdiffusion"):
        try:
            vers[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return vers


def write_meta(path, **meta) -> Path:
    """Write ``meta.json`` (command line, versions, seeds, wall time, …) atomically into folder ``path``."""
    meta = dict(meta, versions=environment(), written=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    p = Path(path) / "meta.json"
    return atomic_write(p, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2, default=str)))
