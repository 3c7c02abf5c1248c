"""The UGRN cross-dataset benchmark (paper Sec. 4, Tables 1–2 and 6).

Protocol: train the translators on one labelled dataset, then score every test dataset — never seen in training —
with each method, and compute AUROC, AUPRC, AUPRC ratio, EPR and Hit@1% (``metrics.evaluate``).

Which pairs are scored:
- ``pair_mode="balanced"`` (default, the paper's main tables): all positives of the test dataset plus negatives
  sampled from its non-edges at N/P ``np_ratio`` (1 = balanced; 1–10 for the imbalance study, Table 6);
- ``pair_mode="all"`` (BEELINE style): every TF×gene candidate pair, with TFs from the folder's ``TF.csv``
  (``tf_mode="file"``) or only TFs with at least one positive (``tf_mode="positive"``).
Test pairs that appear among the training pairs (same vocabulary tokens, same direction) are removed, so train and
test never share a pair; the number removed is recorded per dataset.
Test datasets of the training cell type are excluded unless ``include_train_cell`` (the paper's Table 1 tests none of
them); ``negatives`` picks the kind of sampled negatives (``negatives.NEGATIVE_MODES``). Presets with seeds and
controls: ``runner.run_preset``.
"""

from __future__ import annotations

import fnmatch
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .. import methods as registry
from .._io import atomic_folder, read_meta, read_results_table
from ..data.datasets import list_datasets, load_beeline
from ..errors import ParameterError
from ..probes.features import DatasetProbes
from ..probes.params import ProbeParams
from .curves import read_scores_npz, write_scores_npz
from .scoring import metric_values, score_methods
from ..data.pairs import candidate_pairs, sample_pairs
from ..translator.artifact import Translator

ProgressFn = Callable[[int, int, str], None]
METRIC_COLUMNS = ["AUROC", "AUPRC", "AUPRC_ratio", "EPR", "Hit@1%"]
#: The UGRN paper's methods (Table 1): every probe + translator and zero-shot probe method, in display order.
PAPER_FAMILIES = (registry.Family.ZERO_SHOT_PROBE, registry.Family.PROBE_TRANSLATOR)


def with_averages(p: pd.DataFrame) -> pd.DataFrame:
    """A datasets × methods table with an "Avg" row over the datasets where every method that is defined anywhere
    has a value (the same datasets for all), and, when some method is n/a on some dataset, an "Avg (own datasets)"
    row with each method's mean over its own datasets. The benchmark's averages (``BenchmarkResult.pivot``, the app)."""
    p = p.copy()
    defined = p.loc[:, p.notna().any()]
    common = defined.dropna(how="any").index
    partial = defined.isna().any().any()
    p.loc["Avg"] = p.loc[common].mean(numeric_only=True)
    if partial:
        p.loc["Avg (own datasets)"] = p.iloc[:-1].mean(numeric_only=True)
    return p


def default_methods() -> list[str]:
    """Methods a benchmark runs by default: those of ``PAPER_FAMILIES``, in registry display order."""
    return [s.name for s in registry.all_specs() if s.family in PAPER_FAMILIES]


def resolve_datasets(spec, data_dir=None, exclude=()) -> list[str]:
    """Dataset names from ``spec``: "all", a name, a glob ("*/*/500"), or a comma-separated / list mix of those.

    Raises: ValueError when an entry matches no dataset (the message lists what exists).
    """
    available = list_datasets(data_dir)
    items = spec if isinstance(spec, (list, tuple)) else str(spec).split(",")
    out: list[str] = []
    for item in (s.strip() for s in items):
        if not item:
            continue
        match = available if item == "all" else [d for d in available if fnmatch.fnmatchcase(d, item)]
        if not match:
            raise ParameterError(f"dataset {item!r} matches nothing; available: {', '.join(available)}")
        out += [d for d in match if d not in out and d not in exclude]
    return out


@dataclass
class BenchmarkResult:
    """Benchmark outcome.

    Attributes:
        table: one row per (method, dataset): METRIC_COLUMNS, n_pos, n_neg, note ("n/a: no expression" rows have NaN).
        scores: (method, dataset) → (y_true int8 (P,), y_score float64 (P,)) for ROC / PR curves.
        meta: protocol (train dataset, pair mode, N/P, seed, probe parameters, checkpoint, removed overlaps).
    """

    table: pd.DataFrame
    scores: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    translator: object = field(default=None, repr=False)  # projectors trained for this run (not saved with it)

    def pivot(self, metric: str = "AUPRC") -> pd.DataFrame:
        """Datasets × methods table of ``metric`` with an "Avg" row over the datasets where every method that is
        defined anywhere has a value (the same datasets for all), and, when some method is n/a on some dataset, an
        "Avg (own datasets)" row with each method's mean over its own datasets."""
        p = self.table.pivot(index="dataset", columns="method", values=metric)
        p = p[[m for m in registry.names() if m in p.columns] + [m for m in p.columns if m not in registry.names()]].loc[list(dict.fromkeys(self.table["dataset"]))]
        return with_averages(p)

    def to_markdown(self) -> str:
        m = self.meta
        head = (f"# UGRN benchmark: train {m.get('train')} → {len(self.table['dataset'].unique())} test datasets\n\n"
                f"Pairs: {m.get('pair_mode')} (N/P {m.get('np_ratio')}, TFs from {m.get('tf_mode')}, negatives "
                f"{m.get('negatives', 'uniform')}), seed {m.get('seed')}; test datasets of the training cell type "
                f"{'included' if m.get('include_train_cell') else 'excluded'}; "
                f"checkpoint {m.get('checkpoint')}; probe parameters {m.get('params')}. "
                "'n/a' = the method needs expression that the test dataset (or, for Pert, the training dataset) lacks; see the note column of results.csv.\n")
        parts = [head]
        for metric in ("AUPRC", "AUROC", "AUPRC_ratio", "EPR"):
            parts.append(f"\n## {metric}\n\n" + self.pivot(metric).map(lambda v: "n/a" if pd.isna(v) else f"{v:.3f}").to_markdown())
        return "\n".join(parts) + "\n"

    def save(self, path: str | os.PathLike) -> Path:
        """Write results.csv, results.md, meta.json and scores.npz to folder ``path`` atomically."""
        path = Path(path)
        with atomic_folder(path) as tmp:
            self.table.to_csv(tmp / "results.csv", index=False)
            (tmp / "results.md").write_text(self.to_markdown())
            (tmp / "meta.json").write_text(json.dumps(self.meta, indent=2, default=str))
            write_scores_npz(tmp / "scores.npz", self.scores)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "BenchmarkResult":
        """Read a folder written by ``save``. Raises FileNotFoundError naming the missing results.csv."""
        path = Path(path)
        table, meta = read_results_table(path, "benchmark"), read_meta(path)
        return cls(table, read_scores_npz(path / "scores.npz"), meta)


def run_benchmark(fm: ScFM, train: str, tests, methods=None, params: ProbeParams | None = None,
                  np_ratio: float = 1.0, pair_mode: str = "balanced", tf_mode: str = "file", seed: int = 0,
                  epochs: int = 50, data_dir=None, progress: ProgressFn | None = None, negatives: str = "uniform",
                  include_train_cell: bool = False, options=None) -> BenchmarkResult:
    """Train on dataset ``train`` and evaluate ``methods`` (default ``default_methods()``; names in any case) on every
    dataset in ``tests`` (names, globs or "all").

    Every method is scored generically (``scoring.score_methods`` → ``methods.score_pairs``): translator methods by the projectors trained here
    on ``train``'s labelled pairs, the others by their ``score(ctx, pairs)`` with the training dataset and pairs in
    the context. The training dataset itself is never a test dataset, nor (unless ``include_train_cell``) any
    dataset of its cell type. See the module docstring for the pair protocol. ``options``: the projectors'
    ``translator.TrainOptions`` (default ``translator.DEFAULT_OPTIONS``; ``epochs`` overrides its epochs), recorded in
    the result's meta as ``train_options``.
    Raises: ParameterError (a ValueError) for an unknown method, dataset, pair mode or negative mode.
    """
    from .negatives import NEGATIVE_MODES, sample_test_pairs
    from .presets import select_test_datasets

    if negatives not in NEGATIVE_MODES:
        raise ParameterError(f"negatives must be one of {list(NEGATIVE_MODES)}, got {negatives!r}")
    if pair_mode not in ("balanced", "all"):
        raise ParameterError(f"pair_mode must be 'balanced' or 'all', got {pair_mode!r}")
    methods = registry.canonical(default_methods() if methods is None else methods)
    specs = [registry.get(m) for m in methods]
    params = params or ProbeParams()
    requested = resolve_datasets(tests, data_dir, exclude=(train,))
    test_names = select_test_datasets(train, requested, include_train_cell)
    if not test_names:
        raise ParameterError(f"no test dataset left for training dataset {train}: {requested} share its cell type "
                         "(pass include_train_cell / --include-train-cell to test them)")
    train_ds = load_beeline(train, data_dir)
    train_probes = DatasetProbes(fm, train_ds, params)
    translator, train_pairs = None, None
    if any(s.needs_labels for s in specs):
        train_pairs = sample_pairs(train_ds, genes=train_probes.genes, np_ratio=1.0, seed=seed)
    if any(s.uses_translator for s in specs):
        translator = Translator.fit(train_probes, train_pairs, [s.name for s in specs if s.uses_translator],
                                    epochs=epochs, seed=seed, progress=progress, options=options)
    train_tokens = set()
    if train_pairs is not None:
        tok = dict(zip(train_probes.mapping.genes, train_probes.mapping.tokens))
        train_tokens = set(zip(train_pairs["tf"].map(tok), train_pairs["target"].map(tok)))

    rows, scores, removed = [], {}, {}
    for k, name in enumerate(test_names):
        if progress:
            progress(k, len(test_names), f"test dataset {name}")
        ds = load_beeline(name, data_dir)
        probes = DatasetProbes(fm, ds, params)
        if pair_mode == "balanced" and negatives != "uniform":
            pairs = sample_test_pairs(ds, genes=probes.genes, np_ratio=np_ratio, seed=seed, negatives=negatives)
        elif pair_mode == "balanced":
            pairs = sample_pairs(ds, genes=probes.genes, np_ratio=np_ratio, seed=seed, tf_mode=tf_mode)
        else:
            pairs = candidate_pairs(ds, genes=probes.genes, tf_mode=tf_mode)
        tok = dict(zip(probes.mapping.genes, probes.mapping.tokens))
        overlap = np.fromiter(((a, b) in train_tokens for a, b in zip(pairs["tf"].map(tok), pairs["target"].map(tok))),
                              dtype=bool, count=len(pairs))
        removed[name] = int(overlap.sum())
        pairs = pairs.loc[~overlap].reset_index(drop=True)
        scored = score_methods(probes, pairs, methods, translator, trained_on=train, progress=progress,
                               train_dataset=train_ds, train_pairs=train_pairs, seed=seed)
        y = pairs["label"].to_numpy().astype(np.int8)
        for m in methods:
            row = {"method": m, "dataset": name, "n_pos": int(y.sum()), "n_neg": int(len(y) - y.sum()), "note": ""}
            s = scored[m]
            values, note = metric_values(y, s, METRIC_COLUMNS, note=s if isinstance(s, str) else "")
            row.update(values, note=note)
            if not note:
                scores[(m, name)] = (y, s)
            rows.append(row)
    if progress:
        progress(len(test_names), len(test_names), "benchmark done")
    meta = {"train": train, "tests": test_names, "methods": list(methods), "pair_mode": pair_mode, "np_ratio": np_ratio,
            "tf_mode": tf_mode, "negatives": negatives, "include_train_cell": include_train_cell,
            "excluded_same_cell_type": [d for d in requested if d not in test_names], "seed": seed, "epochs": epochs,
            "train_options": None if translator is None else translator.options.to_dict(),
            "params": params.to_dict(), "checkpoint": fm.path.name if fm.path else None,
            "checkpoint_id": fm.checkpoint_id, "n_train_pairs": None if train_pairs is None else len(train_pairs),
            "train_vocab_coverage": round(train_probes.mapping.coverage, 4), "test_pairs_removed_as_seen_in_training": removed}
    return BenchmarkResult(pd.DataFrame(rows), scores, meta, translator)


def np_sweep(meta: dict, folders, load: Callable = None) -> pd.DataFrame | None:
    """The N/P sweep of a saved result: the per-dataset tables of the saved results among ``folders`` that share
    ``meta``'s training and test datasets in balanced pair mode, stacked with an ``np_ratio`` column (the paper's
    Table 6 protocol); a later folder's row replaces an earlier one's for the same (np_ratio, method, dataset).
    None when ``meta`` is not balanced or fewer than two N/P ratios are found.

    ``load``: folder → ``BenchmarkResult`` (default ``BenchmarkResult.load``; the app passes its cached loader);
    folders that cannot be read are skipped.
    """
    if not meta or meta.get("pair_mode", "balanced") != "balanced":
        return None
    load = load or BenchmarkResult.load
    key = (meta.get("train"), tuple(sorted(meta.get("tests") or [])))
    parts = []
    for folder in folders:
        try:
            saved = load(folder)
            m = saved.meta
            if (m.get("train"), tuple(sorted(m.get("tests") or []))) != key or m.get("pair_mode") != "balanced":
                continue
            parts.append(saved.table.assign(np_ratio=float(m["np_ratio"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    if not parts:
        return None
    sweep = pd.concat(parts).drop_duplicates(["np_ratio", "method", "dataset"], keep="last")
    return sweep if sweep["np_ratio"].nunique() > 1 else None

