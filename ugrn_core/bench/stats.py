"""Statistics for benchmark tables: seed means ± s.d., averages over common datasets, paired tests across datasets.

Rules (issue 8): every method in one table is averaged over the *same* datasets ("Avg" over the datasets where every
method has a value); a method that is n/a somewhere also gets its own average over its datasets, shown separately
with its count. Comparisons between two methods use the Wilcoxon signed-rank test on per-dataset seed means
(``scipy.stats.wilcoxon``, two-sided), paired by dataset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps


def seed_summary(rows: pd.DataFrame, metric: str = "AUPRC", by=("dataset", "method")) -> pd.DataFrame:
    """Mean, s.d. (ddof 1; NaN for one seed) and number of seeds of ``metric`` per ``by`` group.

    Args:
        rows: one row per (…, seed) with columns ``by``, ``seed`` and ``metric`` (NaN = n/a).
    Returns: DataFrame [*by, mean, sd, n_seeds]; groups whose metric is all NaN have mean NaN and n_seeds 0.
    """
    g = rows.groupby(list(by), sort=False)[metric]
    out = g.agg(mean="mean", sd="std", n_seeds="count").reset_index()
    return out


def table_with_averages(summary: pd.DataFrame, methods=None, datasets=None, digits: int = 3) -> pd.DataFrame:
    """Datasets × methods table of "mean ± sd" strings with the averaging rows of issue 8.

    Rows: one per dataset; "Avg (n common)": mean over the datasets where every listed method has a value;
    "Avg over own datasets (n)": only where some method is n/a somewhere — each method's mean over its own datasets,
    with the count in the cell. s.d. of an average row is the s.d. over seeds of the per-seed averages is not
    available from a summary, so averages show the mean of the per-dataset means only.

    Args:
        summary: output of ``seed_summary`` with by = (dataset, method).
        methods, datasets: order (default: order of appearance).
    """
    methods = list(methods) if methods is not None else list(dict.fromkeys(summary["method"]))
    datasets = list(datasets) if datasets is not None else list(dict.fromkeys(summary["dataset"]))
    mean = summary.pivot(index="dataset", columns="method", values="mean").reindex(index=datasets, columns=methods)
    sd = summary.pivot(index="dataset", columns="method", values="sd").reindex(index=datasets, columns=methods)

    def fmt(m, s):
        if pd.isna(m):
            return "n/a"
        return f"{m:.{digits}f}" if pd.isna(s) else f"{m:.{digits}f} ± {s:.{digits}f}"

    out = pd.DataFrame({c: [fmt(mean.at[d, c], sd.at[d, c]) for d in datasets] for c in methods}, index=datasets)
    defined = mean.loc[:, mean.notna().any()]  # a method n/a everywhere (e.g. Pert without training expression)
    common = defined.dropna(axis=0, how="any").index
    out.loc[f"Avg ({len(common)} common datasets)"] = [
        f"{mean.loc[common, c].mean():.{digits}f}" if len(common) and mean.loc[common, c].notna().any() else "n/a"
        for c in methods]
    if mean.isna().any().any():
        out.loc["Avg over own datasets (n)"] = [
            f"{mean[c].mean():.{digits}f} (n={int(mean[c].notna().sum())})" if mean[c].notna().any() else "n/a"
            for c in methods]
    out.index.name = "dataset"
    return out


def paired_wilcoxon(a: pd.Series, b: pd.Series) -> dict:
    """Two-sided Wilcoxon signed-rank test of ``a`` against ``b``, paired by index (e.g. per-dataset mean AUPRC).

    Pairs with a NaN on either side are dropped. Returns dict: n (pairs), median_diff (a − b), mean_diff, wins
    (a > b), statistic, p (NaN when fewer than 2 non-zero differences). Source: scipy.stats.wilcoxon.
    """
    df = pd.concat([a.rename("a"), b.rename("b")], axis=1).dropna()
    d = (df["a"] - df["b"]).to_numpy(dtype=float)
    res = {"n": int(len(d)), "median_diff": float(np.median(d)) if len(d) else np.nan,
           "mean_diff": float(d.mean()) if len(d) else np.nan, "wins": int((d > 0).sum()),
           "statistic": np.nan, "p": np.nan}
    if int((d != 0).sum()) >= 2:
        w = sps.wilcoxon(df["a"], df["b"], alternative="two-sided")
        res.update(statistic=float(w.statistic), p=float(w.pvalue))
    return res
