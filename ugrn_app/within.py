"""Benchmark page section for the InfoSEM within-dataset protocols (interactions between unseen genes / unseen
interactions between seen genes): our saved results (mean ± s.e. over split seeds) beside the numbers the InfoSEM
paper reports, clearly labelled as the paper's. No science here: tables come from ``ugrn_core.api``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from ugrn_core import api

from . import REPO_ROOT, RESULTS_DIR, figures

BUNDLED_WITHIN = api.ASSETS_DIR / "benchmark_infosem"
CELL_ORDER = ("hESC", "hHEP", "mDC", "mESC", "mHSC-GM", "mHSC-L")


def saved_within_results() -> list[Path]:
    """Folders holding a within-dataset result (results.csv + summary.csv): the bundled one first, then results/."""
    roots = [BUNDLED_WITHIN] + ([RESULTS_DIR] if RESULTS_DIR.is_dir() else [])
    found = {p.parent for r in roots if r.is_dir() for p in r.rglob("summary.csv") if (p.parent / "results.csv").is_file()}
    return sorted(found, key=lambda p: (not str(p).startswith(str(BUNDLED_WITHIN)), str(p)))


def is_within_result(folder: Path) -> bool:
    """True for a within-dataset result folder (the cross-dataset loader must skip these)."""
    return (Path(folder) / "summary.csv").is_file()


@st.cache_data(show_spinner=False, max_entries=8)
def _load(path: str, mtime: float):
    return api.load_unseen_genes(path)


def ours_table(result, metric: str, ground_truth: str, test_set: str) -> pd.DataFrame:
    """Methods × cell types of "mean ± s.e." for one ground truth ("Specific" / "Non-Specific")."""
    s = result.summary()
    s = s[(s["test_set"] == test_set) & s["dataset"].str.startswith(ground_truth + "/")]
    if s.empty:
        return pd.DataFrame()
    s = s.assign(cell=s["dataset"].str.split("/").str[1],
                 value=[f"{m:.3f} ± {e:.3f}" if pd.notna(e) else f"{m:.3f}" for m, e in zip(s[metric], s[f"{metric} se"])])
    p = s.pivot(index="method", columns="cell", values="value")
    return p[[c for c in CELL_ORDER if c in p.columns]]


def paper_table(metric: str, ground_truth: str) -> pd.DataFrame:
    """The InfoSEM paper's reported numbers (Tables 2 and 5), methods × cell types."""
    t = api.paper_infosem_table()
    t = t[t["ground_truth"] == ground_truth]
    se = t[f"{metric}_se"]
    t = t.assign(value=[f"{m:.3f} ± {e:.3f}" if pd.notna(e) else f"{m:.3f}" for m, e in zip(t[metric], se)])
    p = t.pivot(index="method", columns="dataset", values="value")
    return p[[c for c in CELL_ORDER if c in p.columns]]


def choices_table(choices: dict) -> pd.DataFrame:
    """The hyper-parameter choices of a within-dataset run (``meta["choices"]``, keys like
    ``"Specific/mDC/500|seed3|scgpt|sigma_w"`` or ``"…|prior_coverage|scgpt"`` → number) as one row per dataset and
    one column per setting (e.g. "scgpt sigma_w", "prior_coverage scgpt"); each cell holds the distinct values, with
    their number of seeds when there are several ("n/a" where a dataset lacks the setting)."""
    rows = []
    for key, value in (choices or {}).items():
        parts = str(key).split("|")
        dataset, rest = parts[0], [p for p in parts[1:] if not p.startswith("seed")]
        rows.append({"dataset": dataset, "setting": " ".join(rest) or "value", "value": value})
    if not rows:
        return pd.DataFrame(columns=["dataset"])

    def summary(values: pd.Series) -> str:
        counts = values.value_counts(sort=False)
        if len(counts) == 1:
            return f"{counts.index[0]:g}" + (f" (all {counts.iloc[0]} seeds)" if counts.iloc[0] > 1 else "")
        return ", ".join(f"{v:g} ({n} seeds)" for v, n in sorted(counts.items()))

    df = pd.DataFrame(rows)
    out = df.groupby(["dataset", "setting"], sort=True)["value"].agg(summary).unstack("setting").fillna("n/a")
    out.columns.name = None
    return out.reset_index()


def render() -> None:
    """Draw the section (call at the end of the Benchmark page)."""
    st.divider()
    st.subheader("Within-dataset benchmark: interactions between unseen genes (InfoSEM protocol)")
    st.caption(
        "TFs and targets are split 3:1 into seen and unseen genes; supervised methods train on seen × seen pairs and are "
        "scored on unseen TF × unseen target pairs (Cui et al., ICML 2025, Sec. 4). DeepSEM and InfoSEM fit each dataset's "
        "expression. Mean ± standard error over split seeds. Run: `ugrn benchmark --protocol unseen-genes --test "
        "Specific/mHSC-L/500 --methods DeepSEM,InfoSEM-B,InfoSEM-BC,One-hot\\ LR,MatComp,Random --seeds 10`."
    )
    found = saved_within_results()
    if not found:
        st.info("No within-dataset result saved yet (see the command above).")
        return
    rel = [str(p.relative_to(REPO_ROOT)) if p.is_relative_to(REPO_ROOT) else str(p) for p in found]
    c1, c2, c3 = st.columns([3, 1, 1])
    pick = c1.selectbox("Result folder", rel, key="within_pick")
    folder = found[rel.index(pick)]
    try:
        result = _load(str(folder), (folder / "results.csv").stat().st_mtime)
    except Exception as e:  # a broken folder must not break the page
        st.error(f"Could not load '{folder}': {e}")
        return
    metric = c2.radio("Metric", ["AUPRC", "Hit@1%", "AUROC"], key="within_metric")
    test_sets = sorted(result.table["test_set"].unique(), key=lambda x: x != "unseen")
    test_set = c3.radio("Test set", test_sets, key="within_test_set")
    label = result.meta.get("label") or ""
    st.caption(f"Our run: {label}; candidate pairs: {result.meta.get('candidates', 'known')} genes; seeds "
               f"{result.meta.get('seeds')}.")
    choices = choices_table(result.meta.get("choices", {}))
    if len(choices):
        with st.expander(f"Hyper-parameter choices ({choices['dataset'].nunique()} datasets)"):
            st.dataframe(figures.table_view(choices, digits=4), hide_index=True, width="stretch")
    for gt, title in (("Specific", "cell-type-specific ChIP-seq"), ("Non-Specific", "non-specific ChIP-seq")):
        ours = ours_table(result, metric, gt, test_set)
        if ours.empty:
            continue
        st.markdown(f"**{title}**")
        left, right = st.columns(2)
        left.markdown("Ours")
        left.dataframe(figures.table_view(ours), width="stretch")
        if metric in ("AUPRC", "Hit@1%") and test_set == "unseen":
            right.markdown("Reported in the InfoSEM paper (not our run; hESC/hHEP/mDC/mESC, their preprocessing)")
            right.dataframe(figures.table_view(paper_table(metric, gt)), width="stretch")
