"""The within-dataset supervised benchmark of the InfoSEM paper (Cui et al., ICML 2025, Sec. 4–5, Tables 2–5):
*interactions between unseen genes* (``split="unseen-genes"``) and the classic *unseen interactions between seen
genes* (``split="seen-genes"``), with any registered methods.

Per dataset and seed: candidate pairs (``candidates="known"``, the paper's Sec. 4.2: "all TFs and TGs with known
interactions") = TFs with at least one known edge × genes that are the target of at least one known edge, negatives =
all non-positive pairs among them (``"all"``: every ``TF.csv`` TF × every gene); the split (``splits``) gives training
pairs — the only labels a method sees, through ``ScoringContext.train_pairs`` — and test pairs, which every method
scores through ``spec.score`` (or, for translator methods, a projector fitted on the training pairs' features).
Metrics (``metrics.evaluate``): AUPRC, Hit@1% (precision among the top 1 % of test pairs; the paper's tables show
fractions) and AUROC. Summaries are mean ± standard error of the mean over seeds.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .. import methods as registry
from .._io import atomic_folder, read_meta, read_results_table
from ..data.datasets import load_beeline
from ..data.pairs import candidate_pairs
from ..methods.base import ScoringContext
from .scoring import metric_values, na_reason
from .splits import SPLITS

ProgressFn = Callable[[int, int, str], None]
METRICS = ["AUPRC", "Hit@1%", "AUROC"]
CANDIDATE_TEXT = {"known": "TFs with a known edge × targets of a known edge (paper Sec. 4.2)",
                  "all": "every TF.csv TF × every gene"}
CANDIDATES = ("known", "all")  # "known": the paper's Sec. 4.2 gene sets (TFs and targets with known edges)


@dataclass
class UnseenGenesResult:
    """Outcome of ``run_unseen_genes``.

    Attributes:
        table: one row per (method, dataset, seed, test_set), with the candidate set: METRICS, n_pos, n_neg, pos_rate, seconds, note.
            test_set: "unseen" (unseen × unseen pairs), "seen" (held-out seen × seen pairs) or "test" (seen-genes split).
        meta: protocol (split, seeds, datasets, methods, options, hyper-parameter choices, split sizes).
    """

    table: pd.DataFrame
    meta: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Mean and standard error over seeds: columns method, dataset, test_set, candidates, n_seeds, pos_rate and
        ``<metric>`` / ``<metric> se`` for each of METRICS (se NaN with one seed)."""
        t = self.table[self.table["note"].fillna("") == ""]
        keys = ["method", "dataset", "test_set", "candidates"]
        g = t.groupby(keys, sort=False)
        out = g.size().rename("n_seeds").to_frame()
        out["pos_rate"] = g["pos_rate"].mean()
        for m in METRICS:
            out[m] = g[m].mean()
            out[f"{m} se"] = g[m].std(ddof=1) / np.sqrt(g[m].count())
        return out.reset_index()

    def paired(self, method: str, reference: str, metric: str = "AUPRC", test_set: str = "unseen") -> pd.DataFrame:
        """Paired difference ``method − reference`` per dataset over the seeds both ran (same split per seed).

        Returns a DataFrame indexed by dataset with columns ``mean``, ``se`` (standard error over seeds; NaN with one
        seed) and ``n_seeds``; ``metric`` one of METRICS, ``test_set`` "unseen" / "seen" / "test".
        Raises ValueError when either method has no rows for ``test_set``.
        """
        t = self.table[(self.table["test_set"] == test_set) & (self.table["note"].fillna("") == "")]
        missing = [m for m in (method, reference) if m not in set(t["method"])]
        if missing:
            raise ValueError(f"paired: no {test_set!r} rows for {missing}; methods present: {sorted(set(t['method']))}")
        p = t.pivot_table(index=["dataset", "seed"], columns="method", values=metric)[[method, reference]].dropna()
        d = (p[method] - p[reference]).groupby(level="dataset", sort=False)
        return pd.DataFrame({"mean": d.mean(), "se": d.std(ddof=1) / np.sqrt(d.count()), "n_seeds": d.count()})

    def pivot(self, metric: str = "AUPRC", test_set: str | None = None) -> pd.DataFrame:
        """Methods × datasets table of "mean ± se" strings for ``metric`` (default test set: the split's main one)."""
        s = self.summary()
        test_set = test_set or ("unseen" if self.meta.get("split") == "unseen-genes" else "test")
        s = s[s["test_set"] == test_set]
        s = s.assign(cell=[f"{m:.3f} ± {e:.3f}" if np.isfinite(e) else f"{m:.3f}" for m, e in zip(s[metric], s[f"{metric} se"])])
        p = s.pivot(index="method", columns="dataset", values="cell")
        order = [m for m in self.meta.get("methods", []) if m in p.index]
        return p.loc[order + [m for m in p.index if m not in order]]

    def to_markdown(self) -> str:
        m = self.meta
        parts = [f"# {m.get('split')} benchmark ({m.get('label', '')})\n",
                 f"Seeds {m.get('seeds')}; candidate pairs: {CANDIDATE_TEXT.get(m.get('candidates'), m.get('candidates'))}; "
                 "mean ± s.e. over seeds. "
                 f"Options: {json.dumps(m.get('options', {}), default=str)}\n"]
        for test_set in dict.fromkeys(self.table["test_set"]):
            for metric in ("AUPRC", "Hit@1%"):
                parts.append(f"\n## {metric}, {test_set} test pairs\n\n" + self.pivot(metric, test_set).to_markdown())
        return "\n".join(parts) + "\n"

    def save(self, path: str | os.PathLike) -> Path:
        """Write results.csv (per seed), summary.csv, results.md and meta.json into folder ``path`` atomically."""
        path = Path(path)
        with atomic_folder(path) as tmp:
            self.table.to_csv(tmp / "results.csv", index=False)
            self.summary().to_csv(tmp / "summary.csv", index=False)
            (tmp / "results.md").write_text(self.to_markdown())
            (tmp / "meta.json").write_text(json.dumps(self.meta, indent=2, default=str))
        return path

    @classmethod
    def concat(cls, results: list["UnseenGenesResult"]) -> "UnseenGenesResult":
        """Join results of the same split run in pieces (e.g. one dataset per command): tables stacked, meta lists
        and dicts merged. Raises ValueError when the splits differ."""
        splits = {r.meta.get("split") for r in results}
        if len(splits) != 1:
            raise ValueError(f"cannot join results of different splits: {sorted(map(str, splits))}")
        meta = dict(results[0].meta)
        for key in ("datasets", "methods"):
            meta[key] = list(dict.fromkeys(x for r in results for x in r.meta.get(key, [])))
        for key in ("choices", "split_sizes"):
            meta[key] = {k: v for r in results for k, v in r.meta.get(key, {}).items()}
        meta["seconds"] = round(sum(r.meta.get("seconds", 0) for r in results), 1)
        return cls(pd.concat([r.table for r in results], ignore_index=True), meta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "UnseenGenesResult":
        """Read a folder written by ``save``. Raises FileNotFoundError naming the missing results.csv."""
        return cls(read_results_table(path, "unseen-genes"), read_meta(path))


def _translator_scores(spec, ctx: ScoringContext, train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """A translator method: projectors fitted on the training pairs' probe features (``Translator.fit``, memoised per
    seed in ``ctx.cache``), then the method's score (``spec.score``, e.g. Ens) or its projector's logits.

    Pairs with a gene outside the foundation model's vocabulary get the lowest score (they cannot be probed).
    """
    from ..translator.artifact import Translator

    probes = ctx.probes
    if probes is None:
        raise ValueError(f"{spec.name} needs foundation-model probes (pass fm)")
    covered = set(probes.genes)
    ok_tr = train["tf"].isin(covered) & train["target"].isin(covered)
    ok_te = (test["tf"].isin(covered) & test["target"].isin(covered)).to_numpy()
    key = ("unseen_genes_translator", ctx.seed, spec.name)
    if key not in ctx.cache:
        ctx.cache[key] = Translator.fit(probes, train[ok_tr].reset_index(drop=True), methods=[spec.name], seed=ctx.seed)
    sub = ScoringContext(dataset=ctx.dataset, probes=probes, translator=ctx.cache[key], train_dataset=ctx.dataset,
                         train_pairs=train, seed=ctx.seed)
    te = test[ok_te].reset_index(drop=True)
    scored = np.asarray(spec.score(sub, te) if spec.score is not None else sub.logits(spec, te), dtype=np.float64)
    out = np.full(len(test), (scored.min() if len(scored) else 0.0) - 1.0)
    out[ok_te] = scored
    return out


def run_unseen_genes(datasets, methods, seeds=(0,), split: str = "unseen-genes", fm=None, params=None,
                     sem_options=None, data_dir=None, progress: ProgressFn | None = None,
                     label: str = "", candidates: str = "known") -> UnseenGenesResult:
    """Run the within-dataset benchmark (see the module docstring).

    Args:
        datasets: BEELINE dataset names ("Specific/mDC/500", ...).
        methods: registered method names (``methods.names()``); methods needing expression are "n/a" on datasets
            without it; translator methods need ``fm``.
        seeds: split seeds (the paper uses 10).
        split: "unseen-genes" or "seen-genes".
        fm: loaded foundation model (translator methods, zero-shot probes, the "scgpt" gene-embedding prior).
        params: ``params.ProbeParams`` for probes (default parameters when None).
        sem_options: ``sem.scoring.SEMOptions`` for DeepSEM/InfoSEM (epochs, prior, σ grids).
        label: free text stored in meta (e.g. "reduced: 3 seeds, 40 epochs").
        candidates: "known" (paper Sec. 4.2: TFs with a known edge × genes that are the target of a known edge) or
            "all" (every ``TF.csv`` TF × every gene).

    Raises: ValueError for an unknown split or method (names the known ones) or a dataset without ground truth.
    """
    if candidates not in CANDIDATES:
        raise ValueError(f"candidates must be one of {list(CANDIDATES)}, got {candidates!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    specs = [registry.get(m) for m in methods]
    seeds = [int(s) for s in seeds]
    rows, sizes, t_start = [], {}, time.perf_counter()
    shared_choices: dict = {}
    opts_dict = {}
    if sem_options is not None:
        opts_dict = {k: v for k, v in vars(sem_options).items() if k != "fm"}
    total, done = len(datasets) * len(seeds) * len(specs), 0
    for name in datasets:
        ds = load_beeline(name, data_dir)
        if not ds.has_ground_truth:
            raise ValueError(f"dataset {name!r} has no ground-truth edges to split")
        cand = candidate_pairs(ds, tf_mode="file")
        if candidates == "known":
            pos = cand[cand["label"] == 1]
            cand = cand[cand["tf"].isin(set(pos["tf"])) & cand["target"].isin(set(pos["target"]))].reset_index(drop=True)
        probes = None
        needs_fm = any(s.uses_translator or s.probe is not None for s in specs)
        if needs_fm and fm is not None:
            from ..probes.features import DatasetProbes
            from ..probes.params import ProbeParams

            probes = DatasetProbes(fm, ds, params or ProbeParams())
        cache: dict = {}
        if sem_options is not None:
            cache["sem_options"] = sem_options
        for seed in seeds:
            sp = SPLITS[split](cand, seed=seed)
            sizes[f"{name}|{seed}"] = {"train": len(sp.train), "train_pos": int(sp.train["label"].sum()),
                                       "test": len(sp.test), "test_pos": int(sp.test["label"].sum()),
                                       "seen_genes": len(sp.seen_genes), "unseen_genes": len(sp.unseen_genes)}
            test_sets = {"unseen": sp.test, "seen": sp.seen_test} if split == "unseen-genes" else {"test": sp.test}
            # seeded shuffle: tied scores (e.g. one-hot LR on unseen genes) are then ranked at random, not by TF order
            test_sets = {k: v.sample(frac=1.0, random_state=seed).reset_index(drop=True) for k, v in test_sets.items()}
            for spec in specs:
                done += 1
                if progress:
                    progress(done - 1, total, f"{spec.name} on {name}, seed {seed}")
                note = na_reason(spec, ds, probes=probes is not None)
                ctx = ScoringContext(dataset=ds, probes=probes, train_dataset=ds, train_pairs=sp.train, seed=seed,
                                     progress=None, cache=cache)
                for ts_name, ts in test_sets.items():
                    t0 = time.perf_counter()
                    scores = None
                    if not note:
                        if spec.uses_translator:
                            scores = _translator_scores(spec, ctx, sp.train, ts)
                        else:
                            scores = registry.score_pairs(probes, ts, [spec.name], train_dataset=ds, train_pairs=sp.train,
                                                          seed=seed, dataset=ds, cache=cache)[spec.name].to_numpy()
                    secs = time.perf_counter() - t0
                    y = ts["label"].to_numpy()
                    row = {"method": spec.name, "dataset": name, "seed": seed, "split": split, "test_set": ts_name,
                           "candidates": candidates, "n_pos": int(y.sum()), "n_neg": int(len(y) - y.sum()),
                           "pos_rate": float(y.mean()) if len(y) else np.nan, "seconds": round(secs, 3), "note": note}
                    values, row_note = metric_values(y, scores, METRICS, note=note, one_class="one class only")
                    row.update(values, note=row_note)
                    rows.append(row)
        shared_choices.update(cache.get("sem_choices", {}))
    if progress:
        progress(total, total, "benchmark done")
    meta = {"protocol": "InfoSEM within-dataset benchmark (Cui et al. 2025, Sec. 4)", "split": split, "candidates": candidates,
            "datasets": list(datasets), "methods": [s.name for s in specs], "seeds": seeds, "label": label,
            "options": opts_dict, "choices": shared_choices, "split_sizes": sizes,
            "checkpoint": getattr(getattr(fm, "path", None), "name", None), "seconds": round(time.perf_counter() - t_start, 1)}
    return UnseenGenesResult(pd.DataFrame(rows), meta)
