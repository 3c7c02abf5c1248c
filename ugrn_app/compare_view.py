"""Figures and sections of the Compare page (two groups' networks of uploaded cells). No science here: the
differential test is ``tl.compare``'s, hubs ``tl.hubs``'s, TF activities ``tl.activity``'s (decoupler); this module
draws and tabulates what they return."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ugrn_core import api, tl

from . import figures, state

ONLY, BOTH = "only in this group's top edges", "in both groups' top edges"
ONLY_COLOR, BOTH_COLOR = "#d73027", "#9e9e9e"
MAX_HEATMAP_TFS = 30


def only_in(shown: pd.DataFrame, other: pd.DataFrame) -> set[tuple[str, str]]:
    """(tf, target) pairs of ``shown`` that ``other`` does not hold."""
    theirs = set(zip(other["tf"], other["target"]))
    return {e for e in zip(shown["tf"], shown["target"]) if e not in theirs}


@st.cache_data(show_spinner="Laying out both networks…", max_entries=32)
def shared_layout(ckpt_id: str, key: str, group_a: str, group_b: str, top_k: int, _a: pd.DataFrame,
                  _b: pd.DataFrame) -> pd.DataFrame:
    """One force-directed layout (``api.graph_layout``) over the union of both groups' shown edges, so a gene sits at
    the same place in both graphs (edges in both groups count once, at their higher score)."""
    both = pd.concat([_a, _b]).sort_values("score", ascending=False, kind="stable")
    both = both.drop_duplicates(["tf", "target"])
    return figures.graph_layout(both)


def side_figure(shown: pd.DataFrame, layout: pd.DataFrame, only: set) -> go.Figure:
    """``figures.network_figure`` of one group, edges coloured by whether the other group's top edges hold them:
    red when only this group has the edge among its top edges, grey when both do."""
    status = pd.Series([0.0 if e in only else 1.0 for e in zip(shown["tf"], shown["target"])], dtype=float)
    fig = figures.network_figure(shown.assign(label=status.to_numpy()), layout, sorted(set(shown["tf"])))
    names = {figures.STATUS_TP: (BOTH, BOTH_COLOR), figures.STATUS_FP: (ONLY, ONLY_COLOR)}
    for tr in fig.data:
        if tr.name in names:
            tr.name, color = names[tr.name]
            tr.line.color = color
        elif tr.name == "edges" and tr.text is not None:
            tr.text = [t.replace(figures.STATUS_TP, BOTH).replace(figures.STATUS_FP, ONLY) for t in tr.text]
    if len(layout):  # the same axis ranges on both sides, so a gene is at the same place on the screen too
        pad = 0.08
        x0, x1 = float(layout["x"].min()) - pad, float(layout["x"].max()) + pad
        y0, y1 = float(layout["y"].min()) - pad, float(layout["y"].max()) + pad
        fig.update_xaxes(range=[x0, x1], autorange=False)
        fig.update_yaxes(range=[y0, y1], autorange=False)
    fig.update_layout(height=520)
    return fig


def differential(cells, result: dict, group_a: str, group_b: str) -> None:
    """The differential edge table of ``tl.compare`` with its noise estimate and a filter by kind of change."""
    compare = getattr(api, "compare", None)
    if compare is None:
        st.info("The differential test (ugrn_core.tl.compare) is not in this installation yet.")
        return
    with st.spinner(f"Comparing {group_a} with {group_b} (and random halves of one group, for the noise)…"):
        table, stats = _compare_cached(result["key"], group_a, group_b, cells)
    change_col = next((c for c in ("change", "status", "kind", "type") if c in table.columns), None)
    summary_metrics(stats)
    if change_col is not None:
        counts = table[change_col].value_counts()
        kinds = st.multiselect("Kinds of change", list(counts.index), default=list(counts.index), key="cmp_kinds",
                               format_func=lambda k: f"{k} ({counts.get(k, 0):,})")
        table = table[table[change_col].isin(kinds)]
    st.dataframe(figures.table_view(table), hide_index=True, width="stretch", height=360, key="cmp_table")
    st.caption(f"{len(table):,} edges, by |Δq| (change of relative rank, 0 = best, 1 = worst); p_null from random "
               "halves of each group.")


# (label, key in tl.compare's summary, its null mean's key, help)
METRICS = (
    ("Spearman of ranks", "spearman", "null_spearman_mean", "rank correlation of the edges scored in both groups"),
    ("Top-edge overlap", "topk_overlap", "null_topk_overlap_mean", "share of the top edges both groups hold"),
    ("Gained / lost", None, None, "edges among B's top only / A's top only"),
    ("Sign flipped", "n_flipped", "null_n_flipped_mean", "edges in both top sets with opposite signs"),
    ("Beyond the null", "n_beyond_null", None, "edges whose rank change exceeds that between random halves"),
)


def summary_metrics(stats: dict) -> None:
    """``tl.compare``'s summary as a row of metrics, each beside its value between random halves of one group."""
    if not stats:
        return
    for col, (label, key, null, tip) in zip(st.columns(len(METRICS)), METRICS):
        if key is None:
            col.metric(label, f"{stats.get('n_gained', 'n/a')} / {stats.get('n_lost', 'n/a')}", help=tip)
            continue
        if key not in stats:
            continue
        col.metric(label, _fmt(stats[key]), help=tip,
                   delta=f"halves: {_fmt(stats[null])}" if null and null in stats else None, delta_color="off",
                   delta_arrow="off")
    st.caption(f"Top {stats.get('top', 'n/a')} edges per group ({stats.get('n_cells_a', '?')} vs "
               f"{stats.get('n_cells_b', '?')} cells). " + (str(stats.get("note", "")) or ""))


def _compare_cached(key: str, group_a: str, group_b: str, cells):
    store = st.session_state.setdefault("cmp_results", {})
    run = (st.session_state.get("cells_key"), key, group_a, group_b)
    if run not in store:
        store[run] = tl.compare(cells.adata, group_a, group_b, key=key)
    return store[run]


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.3g}"
    return str(v)


def hubs(nets: dict, group_a: str, group_b: str) -> None:
    """Hub genes of each group's network (``tl.hubs``: degrees, PageRank, betweenness), side by side."""
    hub_fn = getattr(api, "hubs", None)
    if hub_fn is None:
        return
    st.subheader("Hub genes")
    top = st.slider("Edges per network for the hub ranking (best first)", 50, 2000, 300, step=50, key="cmp_hub_top")
    for col, g in zip(st.columns(2), (group_a, group_b)):
        edges = api.edge_table(nets[g])  # source, target, weight, score, rank
        col.markdown(f"**{g}**")
        col.dataframe(figures.table_view(hub_fn(edges, top=top).head(25)), hide_index=True, width="stretch",
                      height=300)


def activity_heatmap(cells, result: dict, group_a: str, group_b: str) -> None:
    """TF activity per cell with decoupler's ulm (``tl.activity``) on a chosen group's network, shown as the mean
    activity per group of cells (rows: TFs with the largest spread between groups)."""
    activity = getattr(api, "activity", None)
    if activity is None:
        st.info("TF activities (ugrn_core.tl.activity) are not in this installation yet.")
        return
    which = st.radio("Network the activities are computed with", [group_a, group_b, api.ALL_CELLS],
                     horizontal=True, key="cmp_act_net")
    store = st.session_state.setdefault("cmp_activity", {})
    run = (st.session_state.get("cells_key"), result["key"], which)
    if run not in store:
        with st.spinner(f"TF activities of every cell (decoupler ulm on the network of {which})…"):
            out = state.safe_call("TF activity", activity, cells.adata, key=result["key"],
                                  group=None if which == api.ALL_CELLS else which, use_raw=cells.use_raw,
                                  layer=cells.layer, copy=True)
        if out is None:
            return
        store[run] = _activity_frame(cells.adata, out)
    act = store[run]
    if act is None or act.empty:
        st.info("decoupler returned no activity (no TF with enough targets among the genes).")
        return
    by_group = act.groupby(cells.adata.obs[cells.groupby].astype(str).to_numpy(), observed=True).mean()
    fig = activity_figure(by_group, (group_a, group_b))
    st.plotly_chart(fig, key="cmp_activity", config={"displaylogo": False})
    st.caption(f"Mean ulm activity score per group of {cells.groupby} ({len(act):,} cells, {act.shape[1]} TFs); the "
               f"{min(MAX_HEATMAP_TFS, act.shape[1])} TFs whose group means spread most; {group_a} and {group_b} "
               "first. Computed by decoupler from the network of " + which + ".")


def _activity_frame(before, out) -> pd.DataFrame | None:
    """The cells × TFs activity matrix ``tl.activity`` wrote to ``.obsm`` (the new entry that is not p-values)."""
    new = [k for k in out.obsm.keys() if k not in before.obsm.keys()]
    est = [k for k in new if not any(w in k.lower() for w in ("pval", "padj", "p_val"))]
    if not est:
        return None
    m = out.obsm[est[0]]
    return m if isinstance(m, pd.DataFrame) else pd.DataFrame(np.asarray(m), index=out.obs_names)


def activity_figure(by_group: pd.DataFrame, first: tuple[str, str]) -> go.Figure:
    """Heatmap of mean TF activity (groups × TFs in, TFs as rows out): the ``MAX_HEATMAP_TFS`` TFs with the largest
    spread (max − min) across groups, the two compared groups as the first columns; diverging colours around 0."""
    spread = (by_group.max() - by_group.min()).sort_values(ascending=False)
    tfs = list(spread.index[:MAX_HEATMAP_TFS])
    order = [g for g in first if g in by_group.index] + [g for g in by_group.index if g not in first]
    z = by_group.loc[order, tfs].T
    lim = float(np.nanmax(np.abs(z.to_numpy()))) if z.size else 1.0
    fig = go.Figure(go.Heatmap(z=z.to_numpy(), x=[str(g) for g in order], y=[str(t) for t in tfs],
                               colorscale="RdBu_r", zmid=0, zmin=-lim, zmax=lim,
                               colorbar=dict(title="mean ulm score"),
                               hovertemplate="%{y} in %{x}: %{z:.3f}<extra></extra>"))
    fig.update_layout(template="plotly_white", height=max(320, 18 * len(tfs) + 120),
                      margin=dict(l=0, r=0, t=10, b=0), yaxis=dict(autorange="reversed"))
    return fig
