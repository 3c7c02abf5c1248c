"""Network: the predicted TF→target network of the chosen dataset as an interactive graph, with filters, ground-truth
colouring, node degrees, a ranked edge table and CSV / TSV / GraphML downloads of exactly the edges shown."""

from __future__ import annotations

import streamlit as st

from ugrn_app import cells as cells_ui
from ugrn_app import figures, state
from ugrn_core import api

state.setup_page("Network", "🕸️")
state.sidebar_summary()
ss = st.session_state
st.title("🕸️ Predicted network")
ctx = state.require_context()
if cells_ui.active() is None:
    st.caption(
        f"Every TF × gene candidate pair of **{state.dataset_label(ctx.ds_key)}** scored by the translator "
        f"trained on {ctx.translator.trained_on}. Edges are coloured by the known network when there is one."
    )


def dataset_network(ctx):
    """Method picker and the predicted edges of the Home dataset: (edges, TFs, view key, method)."""
    expr_methods = state.expression_methods(ctx.ds)  # DeepSEM / InfoSEM: fitted on this dataset's expression
    methods = list(ctx.translator.methods) + expr_methods
    c1, c2 = st.columns([1, 3])
    method = c1.selectbox(
        "Method",
        methods,
        index=methods.index(api.DEFAULT_METHOD) if api.DEFAULT_METHOD in methods else 0,
        key="net_method",
        help=state.method_help(methods),
    )
    context_dependent = method not in expr_methods and api.methods.get(method).context_dependent
    background = "auto"
    if context_dependent:
        bg = api.context_background(ctx.fm, ctx.ds, ctx.translator, [method], "auto")
        if bg is not None:  # a short gene list: probed among the translator's training genes unless switched off
            own = api.vocab_mapping(ctx.fm, ctx.ds).tokens
            keep = c1.toggle(
                "Background context",
                value=True,
                key="net_background",
                help=f"{method} responses scale about 1/(context genes); the translator saw {ctx.translator.n_context}. "
                f"On: the {len(own)} genes are probed among {len(bg.extra_tokens(own))} genes of {bg.name} and only "
                "pairs among your genes are scored. Off: your genes alone (scores saturate near 1 for short lists).",
            )
            background = "auto" if keep else "none"
            c1.caption(f"Context: {len(own)} + {len(bg.extra_tokens(own))} background genes" if keep
                       else f"Context: your {len(own)} genes alone")
    note = api.context_warning(ctx.fm, ctx.ds, ctx.translator, background, method) if context_dependent else None
    if note:
        st.warning(f"Context size: {note}")
    if method in expr_methods:
        edges = state.expression_edges(ctx, method)
        if edges is None:
            st.stop()
    else:
        edges = state.predicted_edges(ctx.ckpt_id, ctx.ds_key, ctx.tr_key, method, ctx.fm, ctx.ds, ctx.translator,
                                      background)
    return edges, ctx.ds.tfs, ctx.ds_key, method


cells = cells_ui.active()  # an AnnData chosen on Home: one network per group of cells (ugrn_core.tl.grn)
if cells is not None:
    edges, tfs, view_key, method = cells_ui.network_picker(ctx)
    if edges is None:
        st.stop()
else:
    edges, tfs, view_key, method = dataset_network(ctx)
if edges.empty:
    st.error("No candidate TF→target pair to score in this dataset.")
    st.stop()
has_truth = bool(edges["label"].notna().any())
st.caption(
    f"{len(edges):,} scored pairs · {edges['tf'].nunique()} TFs · "
    + (f"{int((edges['label'] == 1).sum()):,} known edges among them" if has_truth else "no ground truth")
)

# ------------------------------------------------------------------------------------------------ filters
f1, f2, f3, f4 = st.columns([1.2, 2, 2, 1.5])
cut = f1.radio("Show", ["Top k", "Score ≥ threshold"], key="net_cut")
if cut == "Top k":
    top_k = f2.slider("Top k edges", 10, min(len(edges), 5000), min(100, len(edges)), step=10, key="net_top_k")
    threshold = None
else:
    lo, hi = float(edges["score"].min()), float(edges["score"].max())
    threshold = f2.slider(
        "Score threshold",
        lo,
        hi,
        max(lo, min(hi, 0.9)),
        step=max((hi - lo) / 200, 1e-6),
        format="%.3f",
        key="net_threshold",
    )
    top_k = None
tf_filter = f3.multiselect("TFs (empty = all)", sorted(edges["tf"].unique()), key="net_tfs")
search = f4.text_input("Gene search", key="net_search", placeholder="e.g. MYC")

shown = figures.filter_edges(edges, top_k=top_k, min_score=threshold, tfs=tf_filter, search=search)
table = figures.edge_table(shown)
if shown.empty:
    st.warning("No edge matches these filters.")
else:
    tp = int((table["status"] == figures.STATUS_TP).sum())
    msg = f"Showing **{len(shown):,}** edges"
    if has_truth:
        msg += f" · {tp:,} true positives ({100 * tp / len(shown):.1f}% precision)"
    if len(shown) > figures.MAX_GRAPH_EDGES:
        msg += f" · the graph draws the best {figures.MAX_GRAPH_EDGES:,}; the table and downloads hold all"
    st.markdown(msg)

g_col, d_col = st.columns([5, 2])
with g_col:
    layout = state.layout_cached(ctx.ckpt_id, view_key, ctx.tr_key, method, edges)
    st.plotly_chart(
        figures.network_figure(shown, layout, tfs, highlight=search),
        key="network_chart",
        config={"scrollZoom": True, "displaylogo": False},
    )
    st.caption(
        "Orange diamonds: TFs · blue circles: targets (size: degree; names where they fit, the rest on hover) · "
        "edge width: score · colour: "
        + ("green true positive, red false positive." if has_truth else "no ground truth for this dataset.")
        + " Drag to pan, scroll to zoom, hover an edge's middle for its score."
    )
with d_col:
    st.markdown("**Node degree**")
    st.dataframe(
        figures.node_table(shown, tfs),
        hide_index=True,
        height=560,
        width="stretch",
        column_config={k: st.column_config.Column(width="small") for k in ("degree", "out", "in", "role")},
    )

st.subheader("Ranked edges")
st.dataframe(
    table,
    width="stretch",
    height=360,
    key="net_table",
    column_config={"score": st.column_config.ProgressColumn("score", min_value=0.0, max_value=1.0, format="%.4f")},
)
stem = f"ugrn_{state.dataset_label(view_key).replace('/', '_').replace(' ', '_')}_{method}_{len(table)}edges"
st.caption("Downloads hold exactly the edges shown, in the columns and files other tools read: "
           + ", ".join(label for label, *_ in api.export.FORMAT_INFO.values()) + ".")
for row in (api.export.FORMATS[:4], api.export.FORMATS[4:]):
    for col, fmt in zip(st.columns(len(row)), row):
        label, ending, mime, tip = api.export.FORMAT_INFO[fmt]
        col.download_button(f"⬇️ {label}", api.edges_bytes(shown, fmt), f"{stem}{ending}", mime, key=f"dl_{fmt}",
                            disabled=table.empty, help=tip)

if has_truth:
    fn = figures.false_negatives(edges, shown)
    st.subheader(f"False negatives ({len(fn):,})")
    st.caption(
        "Known edges of the ground-truth network that the current view does not show, with their rank "
        "among all scored pairs."
    )
    st.dataframe(fn, hide_index=True, width="stretch", height=260)
