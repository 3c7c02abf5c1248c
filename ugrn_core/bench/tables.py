"""Benchmark tables from suite rows: per-row (dataset or group) seed means ± s.d. with honest averages, the
real − twin margins and paired tests (issue 8). Pure pandas on the rows written by ``suite.Suite``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .presets import PRESETS, group_label
from .stats import paired_wilcoxon, seed_summary, table_with_averages
from .. import methods as registry
from ..methods import TWIN_SUFFIX

VARIANT_ORDER = {"real": 0, "twin": 1, "shuffled labels": 2, "control": 3, "peer": 4}


def method_order(rows: pd.DataFrame) -> list[str]:
    """Methods in display order: model methods, their twins, shuffled-label variants, controls, peers."""
    base_rank = {m: k for k, m in enumerate(registry.names(paper_table=True))}
    first = rows.drop_duplicates("method")[["method", "base_method", "variant"]]
    key = lambda r: (VARIANT_ORDER.get(r.variant, 9), base_rank.get(r.base_method, 99), r.method)
    return [r.method for r in sorted(first.itertuples(index=False), key=key)]


def _select(rows, negatives=None, view="all", np_ratio=None):
    sel = rows[rows["view"] == view]
    if negatives is not None:
        sel = sel[sel["negatives"] == negatives]
    if np_ratio is not None:
        sel = sel[sel["np_ratio"] == float(np_ratio)]
    return sel


def common_tests(df: pd.DataFrame, metric: str = "AUPRC") -> dict:
    """label → the set of test datasets on which every method that is defined somewhere in that label's rows is
    defined (``df`` has a ``label`` column). A method defined nowhere in a label (e.g. Pert when the training dataset
    has no expression) does not shrink it."""
    defined = df[df[metric].notna()].groupby(["label", "method"], sort=False)["test"].agg(set)
    return {label: set.intersection(*g.tolist()) for label, g in defined.groupby(level=0, sort=False)}


def per_seed(rows: pd.DataFrame, preset: str, metric: str = "AUPRC") -> pd.DataFrame:
    """[label, method, seed, value, n_tests, n_total]: the metric per table row label and seed.

    One row per test dataset (Table 1): the value of that dataset. Grouped tables (one row per training source, cell
    type, …): the mean over the label's test datasets where *every* method of the label is defined
    (``common_tests``), so all columns of a row average the same datasets (the others lack the expression that
    Origin-Pert, Origin-Attn, Pert or a peer needs); ``n_tests`` of ``n_total`` = datasets averaged of the label's
    test datasets."""
    df = rows.assign(label=[group_label(preset, a, b, r) for a, b, r in zip(rows["train"], rows["test"], rows["np_ratio"])])
    n_total = df.groupby("label", sort=False)["test"].nunique()
    if PRESETS[preset].group_by != "test":
        common = common_tests(df, metric)
        df = df[[t in common.get(lab, ()) for lab, t in zip(df["label"], df["test"])]]
    g = df.groupby(["label", "method", "seed"], sort=False)[metric]
    out = g.agg(value="mean").reset_index()
    out["n_tests"] = out["label"].map(df.groupby("label", sort=False)["test"].nunique()).to_numpy()
    out["n_total"] = out["label"].map(n_total).to_numpy()
    return out


def main_table(rows: pd.DataFrame, preset: str, metric: str = "AUPRC", negatives=None, view="all", np_ratio=None):
    """(table, notes): rows × methods "mean ± s.d." over seeds with the averaging rows of ``stats.table_with_averages``.

    In grouped tables (one row per training source, cell type, …) a method defined on only some test datasets of a
    row (e.g. Origin-Pert needs expression) is averaged over those; ``notes`` lists each such method and count.
    """
    sel = _select(rows, negatives, view, np_ratio)
    if sel.empty:
        return pd.DataFrame(), []
    ps = per_seed(sel, preset, metric)
    notes = []
    if PRESETS[preset].group_by != "test":
        per_label = ps.drop_duplicates("label")
        partial = per_label[per_label["n_tests"] < per_label["n_total"]]
        if len(partial):
            notes.append(f"each row averages the test datasets where every method of the row is defined: "
                         f"{int(ps['n_tests'].min())}–{int(ps['n_tests'].max())} of {int(ps['n_total'].min())}–"
                         f"{int(ps['n_total'].max())} per row (the others lack the expression that Origin-Pert, "
                         "Origin-Attn, Pert or a peer needs)")
    summ = seed_summary(ps.rename(columns={"label": "dataset", "value": metric}), metric)
    table = table_with_averages(summ, methods=method_order(sel), datasets=list(dict.fromkeys(ps["label"])))
    return table, notes


def seed_means(rows: pd.DataFrame, preset: str, metric="AUPRC", negatives=None, view="all", np_ratio=None) -> pd.DataFrame:
    """labels × methods: seed-mean of ``metric`` (NaN where n/a)."""
    ps = per_seed(_select(rows, negatives, view, np_ratio), preset, metric)
    m = ps.groupby(["label", "method"], sort=False)["value"].mean().unstack()
    return m.reindex(index=list(dict.fromkeys(ps["label"])))


def twin_margin(rows: pd.DataFrame, preset: str, metric="AUPRC", negatives=None, view="all", np_ratio=None):
    """labels × methods: real − twin ``metric``, "mean ± s.d." over seeds, with an "Avg" row of the mean margins."""
    ps = per_seed(_select(rows, negatives, view, np_ratio), preset, metric)
    cols = {}
    for m in registry.names(paper_table=True):
        a = ps[ps["method"] == m].set_index(["label", "seed"])["value"]
        b = ps[ps["method"] == m + TWIN_SUFFIX].set_index(["label", "seed"])["value"]
        d = (a - b).dropna()
        if len(d):
            cols[m] = d
    if not cols:
        return pd.DataFrame()
    labels = list(dict.fromkeys(ps["label"]))
    out = {}
    for m, d in cols.items():
        g = d.groupby(level="label")
        mean, sd = g.mean().reindex(labels), g.std().reindex(labels)
        out[m] = [("n/a" if pd.isna(x) else (f"{x:+.3f}" if pd.isna(s) else f"{x:+.3f} ± {s:.3f}")) for x, s in zip(mean, sd)]
        out[m].append(f"{mean.mean():+.3f} (n={int(mean.notna().sum())})")
    t = pd.DataFrame(out, index=labels + ["Avg"])
    t.index.name = "dataset" if PRESETS[preset].group_by == "test" else "row"
    return t


def paired_tests(rows: pd.DataFrame, preset: str, metric="AUPRC", negatives=None, view="all", np_ratio=None,
                 comparisons=None) -> pd.DataFrame:
    """Wilcoxon signed-rank tests (two-sided) across table rows of seed-mean ``metric``, one line per comparison
    (default: the registry's, ``methods.comparisons()``)."""
    m = seed_means(rows, preset, metric, negatives, view, np_ratio)
    comparisons = registry.comparisons() if comparisons is None else comparisons
    out = []
    for a, b in comparisons:
        if a in m and b in m:
            r = paired_wilcoxon(m[a], m[b])
            out.append({"comparison": f"{a} vs {b}", **r})
    return pd.DataFrame(out)


def fmt_p(p: float) -> str:
    return "n/a" if p is None or not np.isfinite(p) else (f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}")
