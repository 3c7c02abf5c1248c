"""Scores of short gene lists against the same pairs scored in the full dataset context (issue 13, section 3).

VVP / GDT responses scale about 1/N with the number N of context genes, and the bundled translator saw an 818-gene
context (STRING/hESC/500), so a short gene list probed alone scores nearly every pair ≈ 1.0. This benchmark draws
random gene subsets of labelled datasets (cell types other than the translator's hESC) and scores each subset's
TF→target candidate pairs with the bundled checkpoint and translator in four contexts:

- (a) full: the whole dataset's gene set (the reference; its VVP/GDT probes come from the probe cache);
- (b) alone: the subset's genes only (the behaviour before the background context: ``background="none"``);
- (c) background: the subset placed among the translator's training-context genes up to its 818-gene size
  (``background.from_translator``; the default path of ``predict_edges`` for short lists);
- (d) rescaled: (b) with VVP / GDT features multiplied by N_subset / N_train (the 1/N law undone), Emb untouched.

Each subset of k genes holds max(2, k/5) TFs drawn among the dataset's TFs with known targets, half of the remaining
genes drawn among those TFs' known targets and the rest uniformly from the other genes (vocabulary-mapped genes only),
so every subset has positive pairs. Reported per size: AUPRC / AUROC pooled over the draws of a dataset (then averaged
over datasets), the mean per-draw difference to (a), and the share of Ens scores above 0.99 (saturation).

Subset probes are cached in ``--subset-cache`` (default /tmp/ugrn-context-size), so the measurement can be split
into several short locked runs (e.g. one ``--sizes`` at a time) and a last run over everything only reads caches:

    UGRN_CACHE_DIR=/work/cache/ugrn flock /tmp/ugrn-cpu.lock env OMP_NUM_THREADS=2 \\
        python -m benchmarks.context_size --out benchmarks/results/context_size.md
"""

from __future__ import annotations

import argparse
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, roc_auc_score

from ugrn_core import api
from ugrn_core.probes import background as backgrounds
from ugrn_core import methods as registry
from ugrn_core._io import atomic_write
from ugrn_core.probes.cache import ProbeCache
from ugrn_core.data.datasets import GRNDataset, dataset_from_genes
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.data.pairs import candidate_pairs
from ugrn_core.methods import score_pairs
from ugrn_core.translator import TrainedProjector, Translator

DATASETS = "STRING/mESC/500,STRING/mHSC-L/500,STRING/hHEP/500"
METHODS = ("VVP", "GDT", "Ens", "Emb")
CONDITIONS = ("full", "alone", "background", "rescaled")
DRAWS = "10:5,30:5,100:5,300:2:1"  # a 300-gene draw costs ~2 min on 2 CPU cores: two draws, first dataset only


def draw_subset(ds: GRNDataset, genes: list[str], k: int, rng: np.random.Generator) -> GRNDataset:
    """A k-gene sub-dataset of ``ds`` (genes ⊆ ``genes``, the vocabulary-mapped ones) with TFs that have known targets
    inside it: max(2, k/5) such TFs, half the rest among their known targets, the rest uniform."""
    usable = set(genes)
    edges = ds.edges[ds.edges["tf"].isin(usable) & ds.edges["target"].isin(usable)]
    tf_pool = sorted(set(edges["tf"]) & set(ds.tfs))
    n_tf = min(len(tf_pool), max(2, round(k / 5)))
    tfs = list(rng.choice(tf_pool, n_tf, replace=False))
    known = sorted(set(edges.loc[edges["tf"].isin(tfs), "target"]) - set(tfs))
    n_known = min(len(known), (k - n_tf) // 2)
    chosen = tfs + list(rng.choice(known, n_known, replace=False))
    rest = sorted(usable - set(chosen))
    chosen += list(rng.choice(rest, k - len(chosen), replace=False))
    inside = set(chosen)
    sub_edges = ds.edges[ds.edges["tf"].isin(inside) & ds.edges["target"].isin(inside)].reset_index(drop=True)
    return dataset_from_genes(chosen, tfs=[t for t in ds.tfs if t in inside], species=ds.species, edges=sub_edges,
                              name=f"{ds.name}[{k}]")


def rescaled_translator(tr: Translator, factor: float) -> Translator:
    """``tr`` with context-dependent features multiplied by ``factor`` before its projectors: (cX − μ)/σ = (X − μ/c)/(σ/c)."""
    projectors = {m: (TrainedProjector(p.model, p.mean / factor, p.std / factor)
                      if registry.get(m).context_dependent else p) for m, p in tr.projectors.items()}
    return replace(tr, projectors=projectors)


def score_draw(fm, tr, full: DatasetProbes, sub: GRNDataset, cache: ProbeCache, bg) -> pd.DataFrame:
    """Scores of ``sub``'s candidate pairs in the four contexts: DataFrame [condition, method, label, score]."""
    pairs = candidate_pairs(sub)
    alone = DatasetProbes(fm, sub, tr.params, cache=cache)
    in_bg = DatasetProbes(fm, sub, tr.params, cache=cache, background=bg)
    runs = {"full": (full, tr), "alone": (alone, tr), "background": (in_bg, tr),
            "rescaled": (alone, rescaled_translator(tr, len(alone.tokens) / tr.n_context))}
    rows = []
    for cond, (probes, translator) in runs.items():
        scored = score_pairs(probes, pairs, METHODS, translator)
        for m in METHODS:
            rows.append(pd.DataFrame({"condition": cond, "method": m, "label": pairs["label"].to_numpy(),
                                      "score": scored[m].to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def summarise(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per (dataset, size, condition, method): pooled AUPRC/AUROC over draws, mean per-draw ΔAUPRC/ΔAUROC vs full,
    mean per-draw Spearman ρ of the pair scores with the full context's, share of scores > 0.99.
    Returns (per-dataset table, table averaged over datasets)."""
    draw_keys = ["dataset", "size", "draw", "method"]
    full_scores = scores[scores["condition"] == "full"].groupby(draw_keys)["score"].apply(np.asarray)

    def per_draw_stats(g):
        ref = full_scores.loc[tuple(g.name[k] for k in (0, 1, 2, 4))]  # same pairs, same order
        rho = spearmanr(g["score"], ref).statistic if np.ptp(g["score"]) > 0 and np.ptp(ref) > 0 else 0.0
        return pd.Series({"AUPRC": average_precision_score(g["label"], g["score"]),
                          "AUROC": roc_auc_score(g["label"], g["score"]), "rho": rho})

    per_draw = (scores.groupby(["dataset", "size", "draw", "condition", "method"])
                .apply(per_draw_stats, include_groups=False).reset_index())
    ref = per_draw[per_draw["condition"] == "full"].set_index(["dataset", "size", "draw", "method"])
    per_draw = per_draw.join(ref[["AUPRC", "AUROC"]], on=["dataset", "size", "draw", "method"], rsuffix="_full")
    per_draw["dAUPRC"] = per_draw["AUPRC"] - per_draw["AUPRC_full"]
    per_draw["dAUROC"] = per_draw["AUROC"] - per_draw["AUROC_full"]
    keys = ["dataset", "size", "condition", "method"]
    pooled = (scores.groupby(keys)
              .apply(lambda g: pd.Series({"AUPRC": average_precision_score(g["label"], g["score"]),
                                          "AUROC": roc_auc_score(g["label"], g["score"]),
                                          "sat": float((g["score"] > 0.99).mean()),
                                          "pos_rate": float(g["label"].mean())}), include_groups=False)
              .reset_index())
    deltas = per_draw.groupby(keys)[["dAUPRC", "dAUROC", "rho"]].mean().reset_index()
    draws = per_draw.groupby(keys)["draw"].nunique().rename("draws").reset_index()
    per_ds = pooled.merge(deltas, on=keys).merge(draws, on=keys)
    overall = (per_ds.groupby(["size", "condition", "method"])[["AUPRC", "AUROC", "sat"]].mean().reset_index())
    # the mean Δ and ρ over all draws of all datasets (weights datasets by their draws)
    all_d = per_draw.groupby(["size", "condition", "method"])[["dAUPRC", "dAUROC", "rho"]].mean().reset_index()
    overall = overall.merge(all_d, on=["size", "condition", "method"])
    return per_ds, overall


def markdown(per_ds: pd.DataFrame, overall: pd.DataFrame, header: str) -> str:
    """The result tables as markdown."""
    order = {c: i for i, c in enumerate(CONDITIONS)}

    def table(df: pd.DataFrame, metric: str, dmetric: str, index: list[str]) -> str:
        df = df.assign(cell=[f"{a:.3f} ({d:+.3f})" for a, d in zip(df[metric], df[dmetric])],
                       _o=df["condition"].map(order))
        wide = df.pivot_table(index=index + ["_o", "condition"], columns="method", values="cell", aggfunc="first")
        wide = wide.reset_index().sort_values(index + ["_o"]).drop(columns="_o")
        return wide[index + ["condition"] + [m for m in METHODS if m in wide.columns]].to_markdown(index=False)

    ens_all = overall[overall["method"] == "Ens"]
    sat_t = ens_all.pivot_table(index="size", columns="condition", values="sat")[list(CONDITIONS)]
    rho = overall[overall["condition"] != "full"].pivot_table(index=["size", "condition"], columns="method",
                                                                values="rho")
    rho = rho.reindex(sorted(rho.index, key=lambda i: (i[0], order[i[1]])))[[m for m in METHODS if m in rho.columns]]
    ens = per_ds[per_ds["method"] == "Ens"].assign(cell=lambda d: [f"{a:.3f} ({x:+.3f})" for a, x in
                                                                    zip(d["AUPRC"], d["dAUPRC"])])
    ens_t = ens.pivot_table(index=["dataset", "size"], columns="condition", values="cell", aggfunc="first")
    ens_t = ens_t[list(CONDITIONS)].join(per_ds.groupby(["dataset", "size"])["draws"].max())
    return "\n\n".join([
        header,
        "## AUPRC: pooled over draws, mean over datasets (mean per-draw difference to the full context)",
        table(overall, "AUPRC", "dAUPRC", ["size"]),
        "## AUROC: pooled over draws, mean over datasets (mean per-draw difference to the full context)",
        table(overall, "AUROC", "dAUROC", ["size"]),
        "## Saturation: share of Ens scores above 0.99",
        sat_t.to_markdown(floatfmt=".3f"),
        "## Ranking agreement: mean per-draw Spearman ρ of the pair scores with the full context's",
        rho.to_markdown(floatfmt=".3f"),
        "## Ens AUPRC per dataset, pooled over draws (mean per-draw difference to the full context)",
        ens_t.to_markdown(),
    ]) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default=DATASETS, help="comma-separated labelled BEELINE datasets")
    ap.add_argument("--sizes", default="10,30,100,300", help="subset sizes (genes)")
    ap.add_argument("--draws", default=DRAWS,
                    help="draws per size, 'size:draws[:n_datasets]' comma-separated (n_datasets: only the first n "
                         "datasets get this size); a plain number: that many draws of every size on every dataset")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--subset-cache", default="/tmp/ugrn-context-size", help="probe cache for the subsets' contexts")
    ap.add_argument("--out", default=None, help="write the markdown tables here too (e.g. benchmarks/results/context_size.md)")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    plan = {}  # size → (draws, datasets that get it)
    for item in a.draws.split(","):
        k, *rest = (int(x) for x in item.split(":"))
        plan[k] = (rest[0], rest[1] if len(rest) > 1 else None) if rest else (k, None)
    if ":" not in a.draws:
        plan = {s: (int(a.draws), None) for s in sizes}
    fm = api.load_model()
    tr = api.load_translator()
    bg = backgrounds.from_translator(tr, fm)
    cache = ProbeCache(fm.checkpoint_id, a.subset_cache)
    t0 = time.perf_counter()
    frames = []
    for n_ds, name in enumerate(a.datasets.split(",")):
        ds = api.load_beeline(name)
        full = DatasetProbes(fm, ds, tr.params)
        for k in sizes:
            n_draws, n_sets = plan.get(k, (0, None))
            for d in range(n_draws if n_sets is None or n_ds < n_sets else 0):
                rng = np.random.default_rng([a.seed, k, d, zlib.crc32(name.encode())])
                sub = draw_subset(ds, full.genes, k, rng)
                t = time.perf_counter()
                df = score_draw(fm, tr, full, sub, cache, bg)
                frames.append(df.assign(dataset=name, size=k, draw=d))
                print(f"{name} k={k} draw {d}: {int(df['label'].sum() / len(CONDITIONS) / len(METHODS))} positives "
                      f"of {len(df) // len(CONDITIONS) // len(METHODS)} pairs, {time.perf_counter() - t:.1f} s", flush=True)
    per_ds, overall = summarise(pd.concat(frames, ignore_index=True))
    header = (f"# Gene-list size vs full context (bundled checkpoint {fm.checkpoint_id}, translator trained on "
              f"{tr.trained_on}, {tr.n_context} context genes)\n\n"
              f"Datasets {a.datasets}; sizes {sizes}; draws per size[:first n datasets] {a.draws}; seed {a.seed}. Conditions: full = the "
              "whole dataset as context; alone = the subset alone (no background); background = subset + the "
              f"translator's training genes up to {tr.n_context}; rescaled = alone with VVP/GDT features × "
              f"N_subset/{tr.n_context}. Wall time {time.perf_counter() - t0:.0f} s (cached probes are not recomputed).\n\n"
              "Command: `UGRN_CACHE_DIR=/work/cache/ugrn flock /tmp/ugrn-cpu.lock env OMP_NUM_THREADS=2 "
              "python -m benchmarks.context_size --out benchmarks/results/context_size.md`")
    text = markdown(per_ds, overall, header)
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(Path(a.out), lambda tmp: Path(tmp).write_text(text))


if __name__ == "__main__":
    main()
