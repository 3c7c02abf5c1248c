"""Compare: the networks of two groups of cells (cell types) side by side, from the cells uploaded on Home.

Graphs share one layout (a gene keeps its place in both); the differential edge table (edges gained, lost,
sign-flipped, with a noise estimate from random halves of one group: ``tl.compare``); hub genes (``tl.hubs``); TF
activity per group as a heatmap (decoupler's ulm through ``tl.activity``); each network downloadable in every export
format. No science here: all of it is ``ugrn_core.tl``'s, through ``ugrn_core.api``.
"""

from __future__ import annotations

import streamlit as st

from ugrn_app import cells as cells_ui
from ugrn_app import compare_view, figures, state
from ugrn_core import api

state.setup_page("Compare", "⚖️")
state.sidebar_summary()
ss = st.session_state
st.title("⚖️ Compare two cell types")
cells = cells_ui.active()
if cells is None or not cells.groupby:
    st.info(
        "Compare needs cells with groups: on **Home**, choose *" + cells_ui.CELLS_MODE + "*, upload an .h5ad or "
        ".loom and pick the `.obs` column that holds the cell types (groupby)."
    )
    state.home_link("Upload cells on Home")
    st.stop()
ctx = state.require_context()
groups = cells.groups()[1:]
if len(groups) < 2:
    st.warning(f"obs[{cells.groupby!r}] has {len(groups)} group with cells; comparing needs two.")
    st.stop()

c0, c1, c2 = st.columns([1.2, 1, 1])
method = cells_ui.pick_method(ctx, c0, "cmp_method")
cells_ui._keep_valid("cmp_a", groups)
cells_ui._keep_valid("cmp_b", groups[1:] + groups[:1])
group_a = c1.selectbox(f"Group A ({cells.groupby})", groups, key="cmp_a")
group_b = c2.selectbox(f"Group B ({cells.groupby})", groups, key="cmp_b")
if group_a == group_b:
    st.warning("Choose two different groups.")
    st.stop()
note = cells_ui.shared_note(method)
if note:
    st.info(note + " Both sides below are therefore the same network.")
result = cells_ui.run_grn(cells, method, ctx, "cmp_run")
if result is None:
    st.stop()
nets = {}
for g in (group_a, group_b):
    try:
        nets[g] = cells_ui.page_edges(result, g)
    except KeyError:
        row = result["summary"][result["summary"]["group"].astype(str) == g]
        st.warning(f"No network for “{g}”: {row['note'].iloc[0] if len(row) else 'not computed'}.")
if len(nets) < 2:
    st.stop()

# ------------------------------------------------------------------------------------------------ graphs
top_k = st.slider("Edges drawn per network (best first)", 10, 500, 100, step=10, key="cmp_top_k")
shown = {g: figures.filter_edges(e, top_k=top_k) for g, e in nets.items()}
layout = compare_view.shared_layout(ctx.ckpt_id, result["key"], group_a, group_b, top_k, shown[group_a],
                                    shown[group_b])
cols = st.columns(2)
for col, g in zip(cols, (group_a, group_b)):
    with col:
        other = group_b if g == group_a else group_a
        only = compare_view.only_in(shown[g], shown[other])
        st.markdown(f"**{g}** · {len(nets[g]):,} scored pairs · {len(only)} of its top {len(shown[g])} edges are not "
                    f"among {other}'s top {len(shown[other])}")
        st.plotly_chart(compare_view.side_figure(shown[g], layout, only), key=f"cmp_graph_{'ab'[g == group_b]}",
                        config={"scrollZoom": True, "displaylogo": False})
st.caption("One layout for both graphs: a gene sits at the same place on each side. Orange diamonds: TFs · blue "
           "circles: targets · red edges: among this group's top edges but not the other's; grey: in both.")

# ------------------------------------------------------------------------------------------------ differential table
st.subheader("Differential edges")
compare_view.differential(cells, result, group_a, group_b)

# ------------------------------------------------------------------------------------------------ hubs
compare_view.hubs(nets, group_a, group_b)

# ------------------------------------------------------------------------------------------------ TF activity
st.subheader("TF activity per group")
compare_view.activity_heatmap(cells, result, group_a, group_b)

# ------------------------------------------------------------------------------------------------ downloads
st.subheader("Downloads")
st.caption("Each group's full network (every scored pair) in the columns and files other tools read: "
           + ", ".join(label for label, *_ in api.export.FORMAT_INFO.values()) + ".")
for side, g in (("a", group_a), ("b", group_b)):
    stem = f"ugrn_{cells.name}_{g}_{method}".replace("/", "_").replace(" ", "_")
    st.markdown(f"**{g}**")
    for row in (api.export.FORMATS[:4], api.export.FORMATS[4:]):
        for col, fmt in zip(st.columns(len(row)), row):
            label, ending, mime, tip = api.export.FORMAT_INFO[fmt]
            col.download_button(f"⬇️ {label}", api.edges_bytes(nets[g], fmt), f"{stem}{ending}", mime,
                                key=f"cmp_dl_{side}_{fmt}", help=tip)
