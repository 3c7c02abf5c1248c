"""Benchmark: load a saved benchmark result or run one; AUROC/AUPRC tables, a heatmap over datasets, ROC and PR curves,
the N/P sweep when present, and the paper-reported numbers beside ours (clearly labelled as paper-reported)."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from ugrn_app import figures, state, within
from ugrn_core import api

state.setup_page("Benchmark", "📊")
state.sidebar_summary()
ss = st.session_state
st.title("📊 Benchmark")
st.caption(
    "Cross-dataset protocol of the UGRN paper: train the translators on one labelled dataset, then score datasets "
    "never seen in training. A random guess scores AUROC 0.5 and AUPRC equal to the share of positives among the "
    "scored pairs (the dotted line of the PR plot); AUPRC_ratio divides AUPRC by that share."
)

DEFAULT_RESULT = api.DEFAULT_BENCHMARK  # bundled: train STRING/hESC/500, test every other TFs+500 dataset
DEFAULT_TRAIN = "STRING/mHSC-GM/500"
DEFAULT_TESTS = ["STRING/mHSC-L/500"]
CURVE_POINTS = 500  # points drawn per ROC / PR curve (a test set has up to ~13,000 pairs)
# the paper's methods that need no expression, so any dataset works
DEFAULT_METHODS = [m for m in api.default_methods() if not api.methods.get(m).needs_expression]
METRICS = ["AUPRC", "AUROC", "AUPRC_ratio", "EPR", "Hit@1%"]


def saved_results() -> list[Path]:
    """The bundled default result (Table 1) first, then the bundled Tables 2–6, then every results folder under
    results/."""
    found = set()
    if state.RESULTS_DIR.is_dir():  # within-dataset (InfoSEM) results have their own section below
        found = {p.parent for p in state.RESULTS_DIR.rglob("results.csv") if not within.is_within_result(p.parent)}
    if (DEFAULT_RESULT / "results.csv").is_file():
        found.add(DEFAULT_RESULT)
    tables = api.BUNDLED_TABLES
    bundled = {p for p in tables.iterdir() if (p / "results.csv").is_file()} if tables.is_dir() else set()
    return sorted(found | bundled, key=lambda p: (p != DEFAULT_RESULT, p not in bundled, str(p)))


@st.cache_data(show_spinner="Loading benchmark results…", max_entries=16)
def load_result(path: str, mtime: float):
    return api.load_benchmark(path)


@st.cache_data(show_spinner=False, ttl=60)
def probes_cached(ckpt_id: str, name: str, probes: tuple[str, ...], _fm) -> bool:
    """Whether the ``probes`` of BEELINE dataset ``name`` that it can have are on disk (default probe parameters)."""
    try:
        ds = state.get_beeline(name)
        usable = {p for p in probes if not api.methods.probe_owner(p).na_reason(ds)}
        return usable <= set(api.cached_probes(_fm, ds))
    except Exception:
        return False


def np_sweep_from_saved(meta: dict) -> pd.DataFrame | None:
    """The N/P sweep over the saved results (``api.np_sweep``), read through the page's cached loader."""
    return api.np_sweep(meta, saved_results(),
                        load=lambda folder: load_result(str(folder), (folder / "results.csv").stat().st_mtime))


LOAD, RUN = "Load saved results", "Run a benchmark"
source = st.radio("Results", [LOAD, RUN], horizontal=True, key="bench_source")
result = None
if source == LOAD:
    found = saved_results()
    rel = [str(p.relative_to(state.REPO_ROOT)) if p.is_relative_to(state.REPO_ROOT) else str(p) for p in found]
    c1, c2 = st.columns([2, 3])
    pick = c1.selectbox(
        "Saved result folders",
        rel or ["(none found)"],
        key="bench_pick",
        help="The bundled Table 1 (default) and Tables 2–6 (`make benchmark-all`), then folders under results/ "
        "holding results.csv (written by `ugrn benchmark` or by a run on this page).",
    )
    custom = c2.text_input("…or another folder", key="bench_custom", placeholder="/path/to/results_folder")
    folder = custom.strip() or (str(state.REPO_ROOT / pick) if found else "")
    if folder:
        f = Path(folder)
        try:
            if custom.strip():
                f = state.check_path(folder, "results folder")
            result = load_result(str(f), (f / "results.csv").stat().st_mtime if (f / "results.csv").exists() else 0.0)
            st.caption(f"Loaded `{folder}`.")
        except Exception as e:
            st.error(f"Could not load benchmark results from '{folder}': {e}")
    else:
        st.info(
            "No saved benchmark yet. Run one here, or from the command line: "
            "`make benchmark`."
        )
else:
    names = state.list_datasets_cached()
    c1, c2 = st.columns(2)
    train = c1.selectbox(
        "Train the translators on",
        names,
        index=names.index(DEFAULT_TRAIN) if DEFAULT_TRAIN in names else 0,
        key="bench_train",
    )
    tests = c2.multiselect(
        "Test on (never seen in training)",
        names,
        default=[d for d in DEFAULT_TESTS if d in names],
        key="bench_tests",
    )
    methods = st.multiselect(
        "Methods",
        api.methods.names(),
        default=DEFAULT_METHODS,
        key="bench_methods",
        help=state.method_help(api.methods.names()),
    )
    c3, c4, c5, c6 = st.columns(4)
    np_ratio = c3.number_input("Negatives per positive (N/P)", 1.0, 10.0, 1.0, 1.0, key="bench_np")
    pair_mode = c4.selectbox(
        "Test pairs",
        ["balanced", "all"],
        key="bench_pairs",
        help="balanced: positives + sampled negatives (paper); all: every TF×gene pair.",
    )
    seed = c5.number_input("Seed", 0, 10_000, 0, key="bench_seed")
    epochs = c6.number_input("Epochs", 1, 500, 50, key="bench_epochs")
    ctx_now = state.require_context(need_translator=False)
    fm_now = ctx_now.fm
    needed = tuple(api.methods.probes_of(methods))
    todo = [d for d in [train, *tests] if not probes_cached(fm_now.checkpoint_id, d, needed, fm_now)]
    est = (state.safe_call("time estimate", api.estimate_probe_seconds, fm_now, [state.get_beeline(d) for d in todo],
                           api.probes_for_methods(methods)) or 0.0) if todo and methods else 0.0
    st.caption(
        "Probes already cached for every chosen dataset: the run takes about a minute."
        if not todo
        else f"Probes will be computed for {', '.join(todo)}: {api.format_seconds(est)} on this device "
        f"({fm_now.device.type}), once; later runs reuse them. `ugrn probe` computes them ahead."
    )
    # runs estimated at over a minute start only after an explicit confirmation
    confirmed = est <= 60 or st.checkbox(f"Yes, start a run of {api.format_seconds(est)}", key="bench_confirm")
    go = st.button("▶ Run benchmark", type="primary", key="bench_run")
    if go:
        if not tests or not methods:
            st.error("Choose at least one test dataset and one method.")
        elif train in tests:
            st.error("The training dataset cannot also be a test dataset.")
        elif not confirmed:
            st.warning(f"Probing takes {api.format_seconds(est)} here: tick the confirmation box above to start.")
        else:
            out = state.RESULTS_DIR / "app_runs" / time.strftime("benchmark_%Y%m%d_%H%M%S")
            # checked before the run: a folder that cannot be written is said now, and the run is shown unsaved
            save = state.check_output(out, "folder", "results folder",
                                      show=lambda m: st.warning(f"The result will be shown but not saved: {m}"))
            try:
                fm = fm_now
                bar, cb = state.progress_callback(f"Benchmark: train on {train}, test on {len(tests)} dataset(s)")
                t0 = time.perf_counter()
                with state.warnings_shown():
                    res = api.run_benchmark(
                        fm,
                        train,
                        tests,
                        methods=methods,
                        np_ratio=float(np_ratio),
                        pair_mode=pair_mode,
                        seed=int(seed),
                        epochs=int(epochs),
                        progress=cb,
                    )
                bar.empty()
                ss["bench_result"], ss["bench_result_path"] = res, None
                secs = f"Finished in {time.perf_counter() - t0:.0f} s"
                try:
                    if save:
                        res.save(out)
                        ss["bench_result_path"] = str(out)
                        st.success(f"{secs}; saved to `{out}` (reload it any time with “Load saved results”).")
                    else:
                        st.success(f"{secs} (not saved: see the warning above).")
                except Exception as e:  # results stay on screen even if the folder cannot be written
                    st.success(f"{secs}.")
                    st.warning(f"Could not save the result to '{out}': {type(e).__name__}: {e}")
            except ValueError as e:
                st.error(str(e))
    result = ss.get("bench_result")
    if result is not None and not go:
        where = ss.get("bench_result_path")
        st.caption("Showing the last run of this session" + (f" (saved to `{where}`)." if where else " (not saved)."))


def paper_pivot(datasets=None) -> pd.DataFrame | None:
    """Paper-reported AUPRC (scGPT backbone) as network/cell × method, restricted to ``datasets`` when they match."""
    try:
        paper = api.paper_table()
    except Exception as e:
        st.warning(f"Paper-reported numbers unavailable: {e}")
        return None
    paper = paper[paper["backbone"].astype(str).str.lower() == "scgpt"] if "backbone" in paper else paper
    if datasets is not None:
        cells = {tuple(str(d).split("/")[:2]) for d in datasets}
        sub = paper[[(n, c) in cells for n, c in zip(paper["network"], paper["dataset"])]]
        if sub.empty:
            st.caption("None of these test datasets is in the paper's Table 1; showing the whole table.")
        else:
            paper = sub
    p = paper.assign(dataset=paper["network"] + "/" + paper["dataset"]).pivot_table(
        index="dataset", columns="method", values="AUPRC", aggfunc="mean", sort=False
    )
    return p[[m for m in api.methods.names() if m in p.columns]]


PAPER_NOTE = (
    "Paper-reported numbers are copied from the paper (trained on hESC, full-size scGPT_human), not computed "
    "here; the paper does not say which gene-set size (TFs+500/1000) each row uses."
)

if result is None:
    st.subheader(figures.PAPER_LABEL + " — AUPRC")
    ppiv = paper_pivot()
    if ppiv is not None:
        st.dataframe(figures.table_view(ppiv), width="stretch")
        st.caption(PAPER_NOTE)
    within.render()
    st.stop()

# ------------------------------------------------------------------------------------------------ tables
table = result.table
meta = getattr(result, "meta", {}) or {}
if meta:
    st.markdown(
        f"**Protocol:** train on `{meta.get('train')}` · pairs {meta.get('pair_mode')} · "
        f"N/P {meta.get('np_ratio')} · seed {meta.get('seed')} · checkpoint `{Path(str(meta.get('checkpoint', ''))).name}`"
    )
metrics_here = [m for m in METRICS if m in table.columns]
metric = st.selectbox("Metric", metrics_here, key="bench_metric")
methods_order = [m for m in api.methods.names() if m in set(table["method"])]
methods_order += [m for m in dict.fromkeys(table["method"]) if m not in methods_order]  # twin/shuffled variants after
np_col = figures.find_np_column(table)
base = table if np_col is None else table[table[np_col] == table[np_col].min()]
sweep = table if np_col is not None else np_sweep_from_saved(meta)

summary_cols = [c for c in ("AUROC", "AUPRC", "AUPRC_ratio", "EPR", "Hit@1%") if c in base.columns]
summary = pd.DataFrame({c: api.with_averages(base.pivot_table(index="dataset", columns="method", values=c, aggfunc="mean",
                                                                sort=False)).loc["Avg"] for c in summary_cols})
summary = summary.reindex(methods_order)
st.markdown("**Per method** (the benchmark's average: over the test datasets every method scores)")
absent = [m for m in summary.index if summary.loc[m].isna().all()]  # e.g. Pert without the training expression
st.dataframe(figures.table_view(summary.drop(index=absent)), width="stretch",  # narrow columns: all five fit
             column_config={c: st.column_config.Column(width="small") for c in summary_cols})
if absent:
    st.caption(f"No value on any test dataset (n/a), so not listed: {', '.join(absent)}.")

# methods as rows, datasets as columns: a table of every method fits the page's width (wide tables were cut off)
t1, t2 = st.columns([4, 3])
with t1:
    st.markdown(f"**Ours — {metric}** (methods × datasets; Avg = mean over the datasets every method scores)")
    piv = base.pivot_table(index="dataset", columns="method", values=metric, aggfunc="mean", sort=False)
    piv = api.with_averages(piv[[m for m in methods_order if m in piv.columns]])
    st.dataframe(figures.table_view(piv.T), width="stretch", key="bench_table")
with t2:
    st.markdown(f"**{figures.PAPER_LABEL} — AUPRC**")
    ppiv = paper_pivot(table["dataset"].unique())
    paper = api.paper_table() if ppiv is not None else None
    if ppiv is not None:
        st.dataframe(figures.table_view(ppiv.T), width="stretch")
        st.caption(PAPER_NOTE)

st.plotly_chart(figures.metric_heatmap(base, metric, methods_order), key="bench_heatmap")
if paper is not None and "AUPRC" in table.columns:
    comp = figures.paper_comparison(base, paper, "AUPRC")
    if comp[figures.PAPER_LABEL].notna().any():
        st.markdown("**Ours beside paper-reported (AUPRC)**")
        st.plotly_chart(figures.comparison_figure(comp), key="bench_compare")
        with st.expander("Comparison table"):
            st.dataframe(figures.table_view(comp), hide_index=True, width="stretch")

# ------------------------------------------------------------------------------------------------ curves
scores = getattr(result, "scores", {}) or {}
if scores:
    ds_names = list(dict.fromkeys(d for _, d in scores))
    pick_ds = st.selectbox("ROC / PR curves for", ds_names, key="bench_curve_ds")
    one_slice = (getattr(result, "meta", {}) or {}).get("curves")
    if one_slice:  # a preset keeps one seed's scores: the legend gives that seed's areas, not the seed mean
        st.caption(f"Curves of seed {one_slice['seed']}, {one_slice['negatives']} negatives, N/P "
                   f"{one_slice['np_ratio']:g}, all test pairs; the areas in the legend are this seed's (the tables "
                   "above average the seeds).")
    roc_rows, pr_rows, base_rate = [], [], None
    for (m, d), (y, s) in scores.items():
        if d != pick_ds:
            continue
        c = api.curves(y, s, max_points=CURVE_POINTS)
        row = table[(table["method"] == m) & (table["dataset"] == d)]
        if one_slice:
            own = api.evaluate(y, s)
            auroc, auprc = own["AUROC"], own["AUPRC"]
        else:
            auroc = float(row["AUROC"].iloc[0]) if len(row) and "AUROC" in row else float("nan")
            auprc = float(row["AUPRC"].iloc[0]) if len(row) and "AUPRC" in row else float("nan")
        roc_rows.append(pd.DataFrame({"method": m, "x": c["fpr"], "y": c["tpr"], "auc": auroc}))
        pr_rows.append(pd.DataFrame({"method": m, "x": c["recall"], "y": c["precision"], "auc": auprc}))
        base_rate = float(pd.Series(y).mean())
    order = {m: k for k, m in enumerate(methods_order)}
    cl, cr = st.columns(2)
    if roc_rows:
        roc_df = pd.concat(roc_rows).sort_values("method", key=lambda s: s.map(order), kind="stable")
        pr_df = pd.concat(pr_rows).sort_values("method", key=lambda s: s.map(order), kind="stable")
        cl.plotly_chart(figures.curve_figure(roc_df, "roc", pick_ds), key="bench_roc")
        cr.plotly_chart(figures.curve_figure(pr_df, "pr", pick_ds, baseline=base_rate), key="bench_pr")
else:
    st.caption("This result has no per-pair scores, so ROC / PR curves are not available.")

if sweep is not None:
    st.markdown("**N/P sweep** (negatives per positive in the test pairs; the paper's Table 6 protocol)")
    st.plotly_chart(
        figures.np_sweep_figure(sweep, metric, "np_ratio" if np_col is None else np_col), key="bench_np_sweep"
    )
    if np_col is None:
        st.caption(
            "Combined from the saved result folders with the same training and test datasets and different N/P ratios."
        )

with st.expander("Full result table"):
    st.dataframe(figures.table_view(table), hide_index=True, width="stretch")

# ------------------------------------------------------------------------------------ controls (preset results)
rows_file = None
if source == LOAD and folder:  # rows.csv, or rows.csv.gz as the bundled Tables 2–6 keep them
    rows_file = next((f for f in (Path(folder) / "rows.csv", Path(folder) / "rows.csv.gz") if f.is_file()), None)
if rows_file is not None:
    @st.cache_data(show_spinner=False, max_entries=8)
    def load_rows(path: str, mtime: float) -> pd.DataFrame:
        r = pd.read_csv(path)
        r["note"] = r["note"].fillna("")
        return r

    rows = load_rows(str(rows_file), rows_file.stat().st_mtime)
    preset = meta.get("preset", "table1")
    st.subheader("Controls, peers and seeds")
    st.caption(
        "Grey: the same method on an untrained random-init twin of the checkpoint or trained on shuffled labels; "
        "red: the degree prior (training-label TF out-degree + target in-degree, no model); green: peers run on "
        "the test dataset's expression. Values are mean ± s.d. over seeds; 'Avg' rows average every column over "
        "the same datasets."
    )
    negs = list(dict.fromkeys(rows["negatives"]))
    neg = st.selectbox("Negatives", negs, key="bench_negatives",
                       help="uniform: all TF.csv TFs (paper); tf-positive: only TFs with a positive in that network")
    views = [v for v in ("all", "unseen genes") if v in set(rows["view"])]
    view = st.radio("Test pairs", views, horizontal=True, key="bench_view",
                    help="all: every test pair; unseen genes: only pairs whose TF and target never occur in the "
                         "training pairs (no gene-level memory of the training network can help there)")
    r0 = float(rows["np_ratio"].min())
    fig = api.auprc_figure(rows, preset, neg, r0, view=view)
    if fig is not None:
        st.plotly_chart(fig, key="bench_controls_fig")
    main, notes = api.main_table(rows, preset, "AUPRC", negatives=neg, np_ratio=r0, view=view)
    st.dataframe(figures.table_view(main), width="stretch")
    for n in notes:
        st.caption(n)
    st.markdown("**Real − twin AUPRC** (what the pretrained weights add over the untrained twin)")
    st.dataframe(figures.table_view(api.twin_margin(rows, preset, "AUPRC", negatives=neg, np_ratio=r0,
                                                    view=view)), width="stretch")
    st.markdown("**Paired Wilcoxon tests across datasets** (seed-mean AUPRC)")
    tests_table = api.paired_tests(rows, preset, "AUPRC", negatives=neg, np_ratio=r0, view=view)
    st.dataframe(figures.table_view(tests_table, formats={"p": api.fmt_p}), hide_index=True,
                 width="stretch")

within.render()
