"""Pure figure and table builders for the app: DataFrames in, plotly figures / DataFrames / bytes out.

Nothing here imports Streamlit or computes science (scores, features, metrics come from ``ugrn_core``);
every function is deterministic, so tests assert on the data of the figures they return.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ugrn_core import api

from . import MAX_GRAPH_EDGES

EXPORT_COLUMNS = api.export.COLUMNS
STATUS_TP, STATUS_FP, STATUS_NA = "true positive", "false positive", "no ground truth"
STATUS_COLORS = {STATUS_TP: "#1a9850", STATUS_FP: "#d73027", STATUS_NA: "#4575b4"}
DIRECTION_COLORS = ("#1f77b4", "#ff7f0e")
TF_COLOR, TARGET_COLOR = "#e6550d", "#6baed6"
PAPER_LABEL = "paper-reported (scGPT_human, UGRN paper Table 1)"


def _pretty_direction(direction: str, source: str, target: str) -> str:
    """'source→target' → 'GATA1 → SPI1' (other labels are returned unchanged)."""
    d = str(direction).replace(" ", "")
    if d == "source→target":
        return f"{source} → {target}"
    if d == "target→source":
        return f"{target} → {source}"
    return str(direction)


def _base_layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        template="plotly_white",
        height=380,
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", y=-0.25),
    )
    fig.update_yaxes(exponentformat="power")  # 10⁻⁵ rather than SI prefixes such as µ
    return fig


# ----------------------------------------------------------------------------------------------- gene pair
def _direction_lines(df: pd.DataFrame, x: str, y: str, source: str, target: str) -> go.Figure:
    """One line per direction of ``df`` (column ``direction``), sorted by ``x``, coloured by direction."""
    fig = go.Figure()
    for k, (direction, g) in enumerate(df.groupby("direction", sort=False)):
        g = g.sort_values(x)
        fig.add_trace(
            go.Scatter(
                x=g[x].to_numpy(float),
                y=g[y].to_numpy(float),
                mode="lines+markers",
                name=_pretty_direction(direction, source, target),
                line=dict(color=DIRECTION_COLORS[k % 2]),
            )
        )
    return fig


def vvp_figure(vvp: pd.DataFrame, v0: float, source: str, target: str) -> go.Figure:
    """VVP response curves: one line per direction, x = the regulator's virtual value, y = the regulated gene's
    reconstructed response; the base value v0 is marked by a dashed vertical line.

    ``vvp`` has columns direction ('source→target' / 'target→source'), value, response.
    """
    fig = _direction_lines(vvp, "value", "response", source, target)
    fig.add_vline(
        x=float(v0),
        line_dash="dash",
        line_color="grey",
        annotation_text=f"v0 = {float(v0):g}",
        annotation_position="top",
    )
    return _base_layout(
        fig,
        "VVP response curve",
        "virtual value of the regulator (scGPT bin)",
        "reconstructed response of the regulated gene",
    )


def gdt_figure(gdt: pd.DataFrame, source: str, target: str) -> go.Figure:
    """GDT trajectories: one line per direction, gradient of the regulated gene's output with respect to the
    regulator's input, against the virtual base value. ``gdt`` has columns direction, base_value, gradient."""
    fig = _direction_lines(gdt, "base_value", "gradient", source, target)
    fig.add_hline(y=0.0, line_color="lightgrey")
    return _base_layout(
        fig, "GDT gradient trajectory", "virtual base value (scGPT bin)", "∂ output(regulated) / ∂ input(regulator)"
    )


# ----------------------------------------------------------------------------------------------- network
def filter_edges(
    edges: pd.DataFrame,
    top_k: int | None = None,
    min_score: float | None = None,
    tfs: Sequence[str] | None = None,
    search: str | None = None,
) -> pd.DataFrame:
    """The predicted edges a user asked to see, best first.

    TF filter and gene search (case-insensitive substring of the TF or the target) apply first, then the score
    threshold, then the top-k cut. ``edges`` has columns tf, target, score, label.
    """
    df = edges
    if tfs:
        df = df[df["tf"].isin(list(tfs))]
    if search and search.strip():
        s = search.strip().upper()
        df = df[
            df["tf"].str.upper().str.contains(s, regex=False) | df["target"].str.upper().str.contains(s, regex=False)
        ]
    if min_score is not None:
        df = df[df["score"] >= float(min_score)]
    df = df.sort_values("score", ascending=False, kind="stable")
    if top_k is not None:
        df = df.head(int(top_k))
    return df.reset_index(drop=True)


NA = "n/a"  # how every table of the app shows a missing value


def table_view(df: pd.DataFrame, digits: int = 3, formats: dict | None = None):
    """``df`` ready for ``st.dataframe``: every missing value (NaN, None) shown as "n/a" (Streamlit would show
    "None"; a column holding one becomes text), floats with ``digits`` decimals; ``formats`` maps a column to its own
    format string or callable. Returns a pandas Styler."""
    def missing(v) -> bool:  # None, NaN, pandas' NA / NaT (nullable Int64 columns)
        return v is None or (np.ndim(v) == 0 and bool(pd.isna(v)))

    def default(x):
        if missing(x):
            return NA
        return f"{x:.{digits}f}" if isinstance(x, (float, np.floating)) else str(x)

    custom = formats or {}
    # Streamlit draws a null cell as "None" whatever the Styler says, so columns with a missing value become text
    df = df.copy()
    for c in df.columns:
        if df[c].isna().any():
            f = custom.get(c, default)
            df[c] = [NA if missing(v) else
                     (f.format(v) if isinstance(f, str) else f(v)) for v in df[c]]
    # one call with a formatter for every column (a second .format call would reset the others)
    return df.style.format({c: custom.get(c, default) if df[c].dtype != object else str for c in df.columns},
                           na_rep=NA)


def edge_status(label) -> str:
    """Ground-truth status of one predicted edge: 1 → true positive, 0 → false positive, NaN → no ground truth."""
    if label is None or pd.isna(label):
        return STATUS_NA
    return STATUS_TP if float(label) >= 0.5 else STATUS_FP


def edge_table(shown: pd.DataFrame) -> pd.DataFrame:
    """The ranked edge table the Network page shows: ``ugrn_core.export.edge_table`` (source, target, weight, score,
    label when a reference exists) + status, indexed by its rank (1 = best). Its downloads come from
    ``export.edges_bytes`` on the same edges."""
    out = api.edge_table(shown).set_index("rank")
    out["status"] = [edge_status(v) for v in out["label"]] if "label" in out else STATUS_NA
    return out


def false_negatives(edges: pd.DataFrame, shown: pd.DataFrame) -> pd.DataFrame:
    """Known edges of the full prediction that the view does not show, with their rank and score
    (``api.missed_edges``)."""
    return api.missed_edges(edges, shown)


def node_table(shown: pd.DataFrame, tfs: Iterable[str]) -> pd.DataFrame:
    """Degree of every gene in the shown edges (``api.node_degrees``)."""
    return api.node_degrees(shown, tfs)


def graph_layout(edges: pd.DataFrame, nodes: Sequence[str] | None = None, seed: int = 0,
                 iterations: int = 60) -> pd.DataFrame:
    """Force-directed 2-D positions DataFrame[gene, x, y] (``api.graph_layout``)."""
    return api.graph_layout(edges, nodes, seed=seed, iterations=iterations)


def label_genes(
    pos: dict[str, tuple[float, float]],
    genes: Sequence[str],
    priority: dict[str, float],
    width_px: float = 900.0,
    height_px: float = 590.0,
    font_px: float = 9.0,
    max_labels: int = 150,
) -> set[str]:
    """Genes whose name can be written above their marker without overlapping another label: greedy, highest
    ``priority`` first (ties by name), each label a box of about 0.6·font_px per character × 1.3·font_px placed
    above the node, in the pixel frame of a ``width_px`` × ``height_px`` plot of the layout's bounding box.
    At most ``max_labels``; the rest are named on hover."""
    if not genes:
        return set()
    xy = np.array([pos[g] for g in genes], dtype=float)
    lo, span = xy.min(axis=0), np.maximum(np.ptp(xy, axis=0), 1e-9)
    scale = min(width_px / span[0], height_px / span[1])  # scaleanchor: one scale for both axes
    placed: list[tuple[float, float, float, float]] = []
    out: set[str] = set()
    for g in sorted(genes, key=lambda g: (-priority.get(g, 0.0), g)):
        if len(out) >= max_labels:
            break
        x, y = (np.asarray(pos[g], float) - lo) * scale
        w, h = 0.6 * font_px * len(g) + 2, 1.3 * font_px
        box = (x - w / 2, y + 5, x + w / 2, y + 5 + h)  # above the marker (y grows upwards)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
            continue
        placed.append(box)
        out.add(g)
    return out


def _width_bins(scores: np.ndarray, n_bins: int = 4) -> tuple[np.ndarray, list[float]]:
    widths = list(np.linspace(0.6, 4.0, n_bins))
    if len(scores) == 0:
        return np.zeros(0, dtype=int), widths
    lo, hi = float(np.min(scores)), float(np.max(scores))
    if hi - lo < 1e-12:
        return np.full(len(scores), n_bins - 1, dtype=int), widths
    b = np.floor((scores - lo) / (hi - lo) * n_bins).astype(int)
    return np.clip(b, 0, n_bins - 1), widths


def network_figure(
    shown: pd.DataFrame,
    layout: pd.DataFrame,
    tfs: Iterable[str],
    max_edges: int = MAX_GRAPH_EDGES,
    highlight: str | None = None,
) -> go.Figure:
    """Interactive network: edges coloured by ground-truth status, width by score (4 bins), TFs as orange diamonds,
    targets as blue circles (size by degree); gene names where they fit without overlap (``label_genes``: TFs first,
    then by degree); hover an edge's midpoint or a node for details.

    Draws the ``max_edges`` best edges of ``shown``; genes missing from ``layout`` go on an outer ring.
    """
    tfs = set(tfs)
    shown = shown.sort_values("score", ascending=False, kind="stable").head(max_edges)
    pos = {g: (x, y) for g, x, y in zip(layout["gene"], layout["x"], layout["y"])}
    genes = list(dict.fromkeys(list(shown["tf"]) + list(shown["target"])))
    missing = [g for g in genes if g not in pos]
    for k, g in enumerate(missing):
        a = 2 * np.pi * k / max(len(missing), 1)
        pos[g] = (1.25 * np.cos(a), 1.25 * np.sin(a))
    fig = go.Figure()
    status = np.array([edge_status(v) for v in shown.get("label", pd.Series([np.nan] * len(shown)))], dtype=object)
    scores = shown["score"].to_numpy(float)
    bins, widths = _width_bins(scores)
    src, dst = shown["tf"].to_numpy(), shown["target"].to_numpy()
    for st_name in (STATUS_NA, STATUS_FP, STATUS_TP):
        first = True
        for b, w in enumerate(widths):
            idx = np.flatnonzero((status == st_name) & (bins == b))
            if len(idx) == 0:
                continue
            xs = np.empty(3 * len(idx), dtype=object)
            ys = np.empty(3 * len(idx), dtype=object)
            xs[0::3] = [pos[s][0] for s in src[idx]]
            xs[1::3] = [pos[t][0] for t in dst[idx]]
            ys[0::3] = [pos[s][1] for s in src[idx]]
            ys[1::3] = [pos[t][1] for t in dst[idx]]
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    line=dict(width=float(w), color=STATUS_COLORS[st_name]),
                    opacity=0.55,
                    hoverinfo="skip",
                    name=st_name,
                    legendgroup=st_name,
                    showlegend=first,
                )
            )
            first = False
    if len(shown):  # invisible midpoints carry the edge hover text
        mx = [(pos[s][0] + pos[t][0]) / 2 for s, t in zip(src, dst)]
        my = [(pos[s][1] + pos[t][1]) / 2 for s, t in zip(src, dst)]
        txt = [f"{s} → {t}<br>score {v:.3f}<br>{st}" for s, t, v, st in zip(src, dst, scores, status)]
        fig.add_trace(
            go.Scatter(
                x=mx,
                y=my,
                mode="markers",
                marker=dict(size=6, opacity=0),
                text=txt,
                hoverinfo="text",
                name="edges",
                showlegend=False,
            )
        )
    deg = pd.Series(list(src) + list(dst)).value_counts()
    # names drawn where they fit: TFs before targets, then by degree (the rest on hover)
    # (in the pixel frame of the page's graph column: about 540 px wide on a 1280 px window, 620 px high)
    labelled = label_genes(pos, genes, {g: deg.get(g, 0) + (1e6 if g in tfs else 0) for g in genes},
                           width_px=440.0, height_px=500.0, font_px=11.0)
    for role, members, symbol, color in (
        ("TF", [g for g in genes if g in tfs], "diamond", TF_COLOR),
        ("target", [g for g in genes if g not in tfs], "circle", TARGET_COLOR),
    ):
        if not members:
            continue
        sizes = [min(8 + 2.0 * np.sqrt(deg.get(g, 0)), 30) for g in members]
        line = [dict(width=3, color="black") if highlight and g.upper() == highlight.upper() else None for g in members]
        fig.add_trace(
            go.Scatter(
                x=[pos[g][0] for g in members],
                y=[pos[g][1] for g in members],
                mode="markers+text",
                text=[g if g in labelled else "" for g in members],
                textposition="top center",
                textfont=dict(size=9),
                hovertext=[f"{g} ({role})<br>degree {int(deg.get(g, 0))}" for g in members],
                hoverinfo="text",
                marker=dict(
                    symbol=symbol,
                    size=sizes,
                    color=color,
                    line=dict(width=[2 if x else 0.5 for x in line], color="black"),
                ),
                name=f"{role}s" if role == "TF" else "targets",
            )
        )
    fig.update_layout(
        template="plotly_white",
        height=620,
        margin=dict(l=0, r=0, t=30, b=0),
        hovermode="closest",
        xaxis=dict(visible=False),
        yaxis=dict(visible=False, scaleanchor="x"),
        legend=dict(orientation="h", y=1.02, x=0),
        dragmode="pan",
    )
    return fig


# ----------------------------------------------------------------------------------------------- benchmark
def metric_heatmap(table: pd.DataFrame, metric: str, methods: Sequence[str] | None = None) -> go.Figure:
    """Datasets × methods heatmap of ``metric`` from a benchmark table (columns method, dataset, <metric>)."""
    p = table.pivot_table(index="dataset", columns="method", values=metric, aggfunc="mean", dropna=False, sort=False)
    if methods:
        p = p[[m for m in methods if m in p.columns]]
    fig = go.Figure(
        go.Heatmap(
            z=p.to_numpy(float),
            x=list(p.columns),
            y=list(p.index),
            colorscale="Viridis",
            texttemplate="%{z:.3f}",
            colorbar=dict(title=metric),
            hoverongaps=False,
        )
    )
    fig.update_layout(
        template="plotly_white",
        title=f"{metric} per test dataset and method",
        height=max(300, 60 + 28 * len(p.index)),
        margin=dict(l=10, r=10, t=50, b=10),
        yaxis=dict(autorange="reversed"),
    )
    return fig


def curve_figure(curves: pd.DataFrame, kind: str, dataset: str, baseline: float | None = None) -> go.Figure:
    """ROC (kind 'roc': x fpr, y tpr) or precision–recall (kind 'pr': x recall, y precision) curves, one per method.

    ``curves`` has columns method, x, y (and optionally 'auc' for the legend)."""
    fig = go.Figure()
    for method, g in curves.groupby("method", sort=False):
        name = method if "auc" not in g else f"{method} ({g['auc'].iloc[0]:.3f})"
        fig.add_trace(go.Scatter(x=g["x"].to_numpy(float), y=g["y"].to_numpy(float), mode="lines", name=name))
    if kind == "roc":
        fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), name="random"))
        return _base_layout(fig, f"ROC — {dataset}", "false positive rate", "true positive rate")
    if baseline is not None:
        fig.add_hline(y=baseline, line_dash="dot", line_color="grey", annotation_text="random")
    return _base_layout(fig, f"Precision–recall — {dataset}", "recall", "precision")


def np_sweep_figure(table: pd.DataFrame, metric: str, np_column: str = "np_ratio") -> go.Figure:
    """Mean ``metric`` over datasets against the negative/positive ratio, one line per method."""
    g = table.groupby(["method", np_column], sort=False)[metric].mean().reset_index().sort_values(np_column)
    fig = go.Figure()
    for method, d in g.groupby("method", sort=False):
        fig.add_trace(
            go.Scatter(x=d[np_column].to_numpy(float), y=d[metric].to_numpy(float), mode="lines+markers", name=method)
        )
    return _base_layout(fig, f"{metric} against N/P ratio (mean over datasets)", "negatives per positive (N/P)", metric)


def find_np_column(table: pd.DataFrame) -> str | None:
    """The N/P ratio column of a benchmark table when it holds a sweep (more than one ratio), else None."""
    for c in ("np_ratio", "N/P", "np"):
        if c in table.columns and table[c].nunique(dropna=True) > 1:
            return c
    return None


def paper_comparison(ours: pd.DataFrame, paper: pd.DataFrame, metric: str = "AUPRC") -> pd.DataFrame:
    """Our ``metric`` beside the paper-reported one for the same (dataset, method).

    ``ours``: benchmark table (method, dataset 'NET/cell/size', metric). ``paper``: ``api.paper_table()``
    (network, dataset, method, AUPRC, optionally size). Returns dataset, method, ours, paper-reported, difference.
    """
    o = ours[["dataset", "method", metric]].copy()
    parts = o["dataset"].astype(str).str.split("/", expand=True)
    o["_net"] = parts[0].str.upper() if 0 in parts else ""
    o["_cell"] = parts[1].str.upper() if 1 in parts else ""
    o["_size"] = parts[2] if 2 in parts else ""
    p = paper.copy()
    if "backbone" in p.columns:
        p = p[p["backbone"].astype(str).str.lower() == "scgpt"]
    if "network" in p.columns and p["dataset"].astype(str).str.count("/").max() == 0:
        p["_net"] = (
            p["network"].astype(str).str.upper().map(_NETWORK_ALIASES).fillna(p["network"].astype(str).str.upper())
        )
        p["_cell"] = p["dataset"].astype(str).str.upper()
        keys = ["_net", "_cell", "method"]
        if "size" in p.columns:
            p["_size"] = p["size"].astype(str)
            keys.append("_size")
    else:
        pp = p["dataset"].astype(str).str.split("/", expand=True)
        p["_net"], p["_cell"] = pp[0].str.upper(), pp[1].str.upper()
        p["_size"] = pp[2] if 2 in pp else ""
        keys = ["_net", "_cell", "_size", "method"]
    value_col = metric if metric in p.columns else "AUPRC"
    p = p[keys + [value_col]].rename(columns={value_col: PAPER_LABEL})
    m = o.merge(p, on=keys, how="left")
    m = m.rename(columns={metric: f"ours ({metric})"})
    m["difference"] = m[f"ours ({metric})"] - pd.to_numeric(m[PAPER_LABEL], errors="coerce")
    return m[["dataset", "method", f"ours ({metric})", PAPER_LABEL, "difference"]]


def comparison_figure(comp: pd.DataFrame) -> go.Figure:
    """Grouped bars per method: our mean AUPRC beside the paper-reported mean over the same datasets
    (``comp`` from :func:`paper_comparison`; only rows with a paper-reported number)."""
    ours_col = next(c for c in comp.columns if c.startswith("ours ("))
    c = comp.dropna(subset=[PAPER_LABEL, ours_col])
    g = c.groupby("method", sort=False)[[ours_col, PAPER_LABEL]].mean()
    fig = go.Figure(
        [
            go.Bar(x=list(g.index), y=g[ours_col].to_numpy(float), name=ours_col.replace("ours", "ours —")),
            go.Bar(x=list(g.index), y=g[PAPER_LABEL].to_numpy(float), name=PAPER_LABEL, marker_pattern_shape="/"),
        ]
    )
    fig.update_layout(barmode="group")
    return _base_layout(fig, f"Mean over {c['dataset'].nunique()} matched dataset(s)", "method", "AUPRC")


_NETWORK_ALIASES: Mapping[str, str] = {
    "STR": "STRING",
    "STRING": "STRING",
    "NSP": "NON-SPECIFIC",
    "NON-SPECIFIC": "NON-SPECIFIC",
    "SPC": "SPECIFIC",
    "SPECIFIC": "SPECIFIC",
    "L/G": "LOFGOF",
    "LOFGOF": "LOFGOF",
}
