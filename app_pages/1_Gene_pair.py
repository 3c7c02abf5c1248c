"""Gene pair: VVP response curves and GDT gradient trajectories for one TF ↔ target pair, both directions, with each
method's predicted probability and the ground-truth label when the dataset has one."""

from __future__ import annotations

import random
import pandas as pd
import streamlit as st

from ugrn_app import figures, state
from ugrn_core import api

state.setup_page("Gene pair", "🔬")
state.sidebar_summary()
ss = st.session_state
st.title("🔬 Gene pair")
st.caption(
    "How the foundation model links two genes: the **VVP** curve moves the regulator's virtual value and "
    "plots the target's reconstructed response; the **GDT** trajectory plots the gradient of the target's "
    "output with respect to the regulator along a range of virtual base values. Both directions are shown."
)

ctx = state.require_context()
mapping = state.safe_call("vocabulary mapping", api.vocab_mapping, ctx.fm, ctx.ds)
known = set(mapping.genes) if mapping is not None else set(ctx.ds.genes)
sources = [g for g in ctx.ds.tfs if g in known]
targets = [g for g in ctx.ds.genes if g in known]
if not sources or len(targets) < 2:
    st.error(f"The dataset {state.dataset_label(ctx.ds_key)} has no TF (or too few genes) in the model's vocabulary.")
    st.stop()

# pair selection lives in session state so the shortcuts can set it before the pickers are drawn
pair_owner = ctx.ds_key
if ss.get("pair_dataset") != pair_owner or ss.get("pair_source") not in sources or ss.get("pair_target") not in targets:
    pos = (
        ctx.ds.edges[ctx.ds.edges["tf"].isin(sources) & ctx.ds.edges["target"].isin(targets)]
        if ctx.ds.has_ground_truth
        else pd.DataFrame()
    )
    src0, tgt0 = (
        (pos.iloc[0]["tf"], pos.iloc[0]["target"])
        if len(pos)
        else (sources[0], next(g for g in targets if g != sources[0]))
    )
    ss["pair_source"], ss["pair_target"], ss["pair_dataset"] = src0, tgt0, pair_owner


def _random_pair() -> None:
    rng = random.Random()
    s = rng.choice(sources)
    ss["pair_source"], ss["pair_target"] = s, rng.choice([g for g in targets if g != s])


def _top_pair() -> None:
    ss["pair_want_top"] = True


b1, b2, _ = st.columns([1, 1, 3])
b1.button("🎲 Random pair", on_click=_random_pair, help="Pick a random TF and target.", width="stretch")
b2.button(
    "⭐ Top predicted pair",
    on_click=_top_pair,
    width="stretch",
    help=f"The highest-scoring TF→target pair of the {api.DEFAULT_METHOD} network (computes the network the first time).",
)
c1, c2 = st.columns(2)
if ss.pop("pair_want_top", False):
    method = api.DEFAULT_METHOD if api.DEFAULT_METHOD in ctx.translator.methods else ctx.translator.methods[0]
    edges = state.predicted_edges(ctx.ckpt_id, ctx.ds_key, ctx.tr_key, method, ctx.fm, ctx.ds, ctx.translator)
    top = edges[(edges["tf"] != edges["target"]) & edges["tf"].isin(sources) & edges["target"].isin(targets)]
    if len(top):
        ss["pair_source"], ss["pair_target"] = top.iloc[0]["tf"], top.iloc[0]["target"]
source = c1.selectbox("Source (TF) — type to search", sources, key="pair_source")
target = c2.selectbox("Target gene — type to search", targets, key="pair_target")
if source == target:
    st.warning("Choose two different genes.")
    st.stop()

st.subheader(f"{source} → {target}")
pred_box = st.container()  # filled after the plots, so the (fast) curves appear first on a cold cache

# ------------------------------------------------------------------------------------------------ curves
curves = state.pair_curves(
    ctx.ckpt_id, ctx.ds_key, source, target, state.params_json(ctx.params), ctx.fm, ctx.ds, ctx.params
)
left, right = st.columns(2)
with left:
    st.plotly_chart(figures.vvp_figure(curves["vvp"], curves["v0"], source, target), key="vvp_chart")
    st.caption(
        "VVP: every context gene sits at the virtual base value v0 (dashed); the regulator moves along the "
        "x axis. A regulated target responds (its reconstruction moves away from the v0 level)."
    )
with right:
    st.plotly_chart(figures.gdt_figure(curves["gdt"], source, target), key="gdt_chart")
    st.caption(
        "GDT: ∂(target output)/∂(regulator input) of the frozen model, evaluated in virtual cells where every "
        "gene sits at the base value on the x axis."
    )
with st.expander("Curve data"):
    d1, d2 = st.columns(2)
    d1.dataframe(curves["vvp"], hide_index=True, width="stretch")
    d2.dataframe(curves["gdt"], hide_index=True, width="stretch")

with pred_box:
    # ------------------------------------------------------------------------------------------------ predictions
    want = list(ctx.translator.methods)
    zs_available = [m for m in api.available_methods(ctx.ds, ctx.translator) if m not in want]
    if zs_available and st.toggle(
        f"Also show the zero-shot scores of the original scGPT probes ({', '.join(zs_available)})",
        key="pair_zero_shot",
        help=state.method_help(zs_available) + "\n\nComputes extra probes the first time.",
    ):
        want += zs_available
    todo, est = api.pair_probe_cost(ctx.fm, ctx.ds, ctx.translator, want, pair=(source, target))
    note = f" — {api.format_seconds(est)}" if est else ""
    if todo:  # first pair of this gene set: context statistics sampled once (the fast pair path), then cached
        note = (f" — one-off {' + '.join(todo)} context statistics of {state.dataset_label(ctx.ds_key)}, "
                f"{api.format_seconds(est)}; cached for every pair of the set")
        first_run = st.info(
            f"**First pair of this gene set:** the translator standardises each feature against the whole gene set, "
            f"so the {' + '.join(todo)} statistics of {state.dataset_label(ctx.ds_key)} are estimated once from a "
            f"fixed sample of {api.PairProbes.sample_lines} genes' probes ({api.format_seconds(est)} on this device, "
            f"{ctx.fm.device.type}) and cached on disk; every other pair then takes about a second. Sampled "
            "statistics keep the ranking of pairs but can move a probability by a few hundredths or more; once the "
            "whole set's probes are cached, pairs read those."
        )
    probs = state.pair_probabilities(
        ctx.ckpt_id, ctx.ds_key, ctx.tr_key, source, target, tuple(want), ctx.fm, ctx.ds, ctx.translator, note
    )
    if todo:
        first_run.empty()
    methods = [m for m in probs.columns if m not in ("tf", "target", "label")]
    edge_set = set(zip(ctx.ds.edges["tf"], ctx.ds.edges["target"])) if ctx.ds.has_ground_truth else set()

    def _truth(a: str, b: str) -> str:
        if not ctx.ds.has_ground_truth:
            return "unknown"
        return "✅ known edge" if (a, b) in edge_set else "not known"

    rows = []
    for k, (a, b) in enumerate(((source, target), (target, source))):
        row = {"direction": f"{a} → {b}"}
        row.update({m: float(probs.iloc[k][m]) for m in methods})
        row["ground truth"] = _truth(a, b)
        rows.append(row)
    pred = pd.DataFrame(rows)
    trained = [m for m in methods if api.methods.get(m).uses_translator]
    zero_shot = [m for m in methods if m not in trained]
    mc = st.columns(len(trained) + 1)
    for col, m in zip(mc, trained):
        col.metric(
            f"P(regulates) · {m}",
            f"{pred.iloc[0][m]:.3f}",
            help=f"Translator probability. Reverse direction ({target} → {source}): {pred.iloc[1][m]:.3f}",
        )
    mc[-1].metric(
        "Ground truth",
        {"✅ known edge": "✅ known", "not known": "✗ not known"}.get(_truth(source, target), "n/a"),
        help=f"Whether the dataset's reference network lists this directed edge (reverse: {_truth(target, source)}).",
    )
    config = {
        m: st.column_config.ProgressColumn(f"P · {m}", min_value=0.0, max_value=1.0, format="%.3f") for m in trained
    }
    config.update({m: st.column_config.NumberColumn(f"{m} (zero-shot score)", format="%.3e") for m in zero_shot})
    st.dataframe(pred, hide_index=True, width="stretch", column_config=config, key="pair_predictions")
    kinds = state.safe_call("feature statistics", api.pair_statistics, ctx.fm, ctx.ds, ctx.translator, want) or {}
    sampled = [p for p, k in kinds.items() if k == "sampled"]
    if sampled:
        st.caption(
            f"{' + '.join(sampled)} feature statistics of this gene set are estimated from a fixed sample of "
            f"{api.PairProbes.sample_lines} genes' probes: rankings are kept, a probability can move by a few "
            "hundredths until the whole set's probes are cached (the Network page computes them)."
        )
    elif kinds:
        how = ("shipped with the model for this gene set" if "shipped" in kinds.values()
               else "from the whole gene set's probes")
        st.caption(f"Feature statistics ({' + '.join(kinds)}): exact, {how}; the probabilities equal the Network "
                   "page's.")
    if "Emb" in trained:
        st.caption(
            "Emb is symmetric: its feature is the sum of the two genes' embeddings, so both directions get the same "
            "probability."
        )
    if zero_shot:
        st.caption(
            f"{', '.join(zero_shot)}: zero-shot scores of the original scGPT probes (raw values, higher = more "
            "likely; not probabilities). They need expression data, which this dataset has."
        )
