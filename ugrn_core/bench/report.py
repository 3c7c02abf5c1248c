"""Writing benchmark results: one folder per preset (rows.csv, tables/*.csv, results.md, figures/*.html, meta.json),
and ``build_report`` gathering every preset folder into one markdown and one self-contained HTML file with the
commands that made them, the paper's reported numbers beside ours and what the checkpoint saw in pretraining.
"""

from __future__ import annotations

import gzip
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_write, read_meta
from .presets import PRESETS, TABLE_PRESETS
from .tables import fmt_p, main_table, method_order, paired_tests, seed_means, twin_margin

FAMILY_COLOURS = {"real": "#1f77b4", "twin": "#9e9e9e", "shuffled labels": "#bdbdbd", "control": "#d62728",
                  "peer": "#2ca02c"}


def _md(df: pd.DataFrame) -> str:
    """Markdown table with '|' inside names (e.g. the |Pearson| peer) escaped."""
    if df.empty:
        return "(no rows)"
    esc = lambda v: v.replace("|", "\\|") if isinstance(v, str) else v
    out = df.rename(index=esc, columns=esc).map(esc)
    out.index.name = esc(df.index.name) if df.index.name else df.index.name
    return out.to_markdown()


def _slices(rows: pd.DataFrame, preset: str):
    """(title suffix, kwargs) for each negatives mode × N/P ratio present."""
    for neg in dict.fromkeys(rows["negatives"]):
        for r in sorted(set(rows.loc[rows["negatives"] == neg, "np_ratio"])):
            suffix = f"{neg} negatives" + (f", N/P {r:g}" if PRESETS[preset].group_by == "np_ratio" or r != 1 else "")
            yield suffix, {"negatives": neg, "np_ratio": r}


def preset_tables(rows: pd.DataFrame, preset: str) -> dict[str, pd.DataFrame]:
    """name → DataFrame of every table of a preset (CSV-ready)."""
    p = PRESETS[preset]
    out = {}
    if p.group_by == "np_ratio":
        for neg in dict.fromkeys(rows["negatives"]):
            for metric in p.metrics:
                sel = rows[rows["negatives"] == neg]
                t, _ = main_table(sel, preset, metric, negatives=neg)
                out[f"{metric}_{neg}"] = t
        return out
    for suffix, kw in _slices(rows, preset):
        tag = suffix.replace(" ", "_").replace(",", "").replace("/", "")
        for metric in p.metrics:
            out[f"{metric}_{tag}"], _ = main_table(rows, preset, metric, **kw)
        out[f"AUPRC_real_minus_twin_{tag}"] = twin_margin(rows, preset, "AUPRC", **kw)
        out[f"AUPRC_unseen_genes_{tag}"], _ = main_table(rows, preset, "AUPRC", view="unseen genes", **kw)
        out[f"wilcoxon_{tag}"] = paired_tests(rows, preset, "AUPRC", **kw)
        out[f"wilcoxon_unseen_genes_{tag}"] = paired_tests(rows, preset, "AUPRC", view="unseen genes", **kw)
    return out


def preset_markdown(rows: pd.DataFrame, preset: str, meta: dict) -> str:
    """The results.md of one preset: protocol line, main tables, controls, real − twin, unseen genes, tests."""
    p = PRESETS[preset]
    seeds = sorted(set(rows["seed"]))
    parts = [f"# {p.title}\n",
             f"Command: `{meta.get('command', '')}`  \n"
             f"Checkpoint {meta.get('checkpoint')} (id {meta.get('checkpoint_id')}); twin {meta.get('twin_checkpoint_id')}; "
             f"seeds {seeds} (negative sampling and projector initialisation); negatives {sorted(set(rows['negatives']))}; "
             f"wall time {meta.get('wall_s', float('nan')):.0f} s; versions {meta.get('versions', {})}.\n",
             "Values are mean ± s.d. over seeds. 'Avg (k common datasets)' averages every method over the same rows; "
             "'Avg over own datasets (n)' is each method's average where it is defined (shown separately, never mixed). "
             "Controls: 'X (twin)' = the same method on an untrained random-init twin of the checkpoint; "
             "'X (shuffled labels)' = translator trained on permuted labels; 'Degree prior' = training-label TF "
             "out-degree + target in-degree, no model. Peers run within each test dataset on its expression, no labels.\n"]
    if p.include_train_cell or rows["same_cell_type"].any():
        parts.append("**Test sets include datasets of the training cell type** (labelled `same_cell_type` in rows.csv).\n")
    if p.group_by == "np_ratio":
        for neg in dict.fromkeys(rows["negatives"]):
            for metric in p.metrics:
                t, notes = main_table(rows, preset, metric, negatives=neg)
                parts.append(f"\n## {metric}, {neg} negatives, by N/P ratio\n\n{_md(t)}\n" + "".join(f"\n- {n}" for n in notes))
        return "\n".join(parts) + "\n"
    for suffix, kw in _slices(rows, preset):
        for metric in p.metrics:
            t, notes = main_table(rows, preset, metric, **kw)
            parts.append(f"\n## {metric}, {suffix}\n\n{_md(t)}\n" + "".join(f"\n- {n}" for n in notes))
        tm = twin_margin(rows, preset, "AUPRC", **kw)
        if not tm.empty:
            parts.append(f"\n### Real − twin AUPRC ({suffix}): what pretraining adds\n\n{_md(tm)}\n")
        tu, _ = main_table(rows, preset, "AUPRC", view="unseen genes", **kw)
        if not tu.empty:
            parts.append(f"\n### AUPRC on unseen genes only ({suffix}): TF and target absent from the training pairs\n\n"
                         f"{_md(tu)}\n")
        for view, what in (("all", ""), ("unseen genes", ", unseen genes only")):
            tests = paired_tests(rows, preset, "AUPRC", view=view, **kw)
            if not tests.empty:
                lines = [f"| {r.comparison} | {r.n} | {r.wins} | {r.mean_diff:+.3f} | {fmt_p(r.p)} |"
                         for r in tests.itertuples()]
                parts.append(f"\n### Paired Wilcoxon signed-rank tests across rows, seed-mean AUPRC ({suffix}{what})\n\n"
                             "| comparison | n | wins | mean diff | p (two-sided) |\n|---|---|---|---|---|\n"
                             + "\n".join(lines) + "\n")
    return "\n".join(parts) + "\n"


def auprc_figure(rows: pd.DataFrame, preset: str, negatives: str, np_ratio: float = 1.0, suffix: str = "",
                 view: str = "all"):
    """Plotly bar chart of average AUPRC per method over the rows common to all methods, coloured by kind (method,
    twin, shuffled labels, control, peer), whiskers = s.d. over seeds of the per-seed averages; None when no row is
    common to all methods. ``view``: "all" test pairs or "unseen genes"."""
    import plotly.graph_objects as go

    from .tables import per_seed

    m = seed_means(rows, preset, "AUPRC", negatives=negatives, np_ratio=np_ratio, view=view)
    m = m.loc[:, m.notna().any()]
    common = m.dropna(axis=0, how="any").index if not m.empty else []
    if not len(common):
        return None
    sel = rows[(rows["view"] == view) & (rows["negatives"] == negatives) & (rows["np_ratio"] == np_ratio)]
    kinds = sel.drop_duplicates("method").set_index("method")["variant"].to_dict()
    order = [c for c in method_order(sel) if c in m]
    ps = per_seed(sel, preset, "AUPRC")
    ps = ps[ps["label"].isin(common)]
    per_seed_avg = ps.groupby(["method", "seed"])["value"].mean().groupby("method")
    mean, sd = per_seed_avg.mean(), per_seed_avg.std()
    fig = go.Figure()
    for kind in dict.fromkeys(kinds[c] for c in order):
        cs = [c for c in order if kinds[c] == kind]
        fig.add_bar(x=cs, y=[mean[c] for c in cs], error_y=dict(type="data", array=[sd.get(c, 0) for c in cs]),
                    name=kind, marker_color=FAMILY_COLOURS.get(kind, "#444"))
    fig.update_layout(title=f"{PRESETS[preset].title}<br><sup>average AUPRC over {len(common)} common rows, "
                            f"{suffix or negatives + ' negatives'}; bars = mean over seeds, whiskers = s.d.</sup>",
                      yaxis_title="AUPRC", yaxis_range=[0, 1], template="plotly_white", height=480)
    return fig


def preset_figures(rows: pd.DataFrame, preset: str) -> dict[str, str]:
    """name → HTML (plotly, JS from the CDN) of the preset's figures (``auprc_figure`` per negatives mode)."""
    figs = {}
    for suffix, kw in _slices(rows, preset):
        fig = auprc_figure(rows, preset, suffix=suffix, **kw)
        if fig is not None:
            figs[f"auprc_{suffix.replace(' ', '_').replace(',', '').replace('/', '')}"] = fig.to_html(
                include_plotlyjs="cdn", full_html=True)
    return figs


def app_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, dataset) in the layout of ``benchmark.BenchmarkResult`` (results.csv), so the app and
    ``api.load_benchmark`` read a preset folder: seed-mean metrics on all test pairs at the first negative mode and
    the smallest N/P ratio, with columns negatives, variant, family, n_seeds (grouped tables: dataset = "train → test")."""
    neg = next(iter(dict.fromkeys(rows["negatives"])))
    sel = rows[(rows["view"] == "all") & (rows["negatives"] == neg) & (rows["np_ratio"] == rows["np_ratio"].min())]
    if sel["train"].nunique() > 1:
        sel = sel.assign(test=sel["train"] + " → " + sel["test"])
    g = sel.groupby(["method", "test"], sort=False)
    out = g[["AUROC", "AUPRC", "AUPRC_ratio", "EPR"]].mean()
    out["n_pos"] = g["n_pos"].mean().round().astype(int)
    out["n_neg"] = g["n_neg"].mean().round().astype(int)
    out["n_seeds"] = g["AUPRC"].count()
    out["note"] = g["note"].first().fillna("")
    out["variant"] = g["variant"].first()
    out["family"] = g["family"].first()
    out = out.reset_index().rename(columns={"test": "dataset"})
    out["negatives"] = neg
    return out


def write_preset(rows: pd.DataFrame, preset: str, folder, meta: dict) -> Path:
    """Write rows.csv, tables/*.csv, results.md, figures/*.html and meta.json of one preset into ``folder``."""
    folder = Path(folder)
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    atomic_write(folder / "rows.csv", lambda tmp: rows.to_csv(tmp, index=False))
    compat = app_table(rows)
    atomic_write(folder / "results.csv", lambda tmp: compat.to_csv(tmp, index=False))
    for name, t in preset_tables(rows, preset).items():
        if not t.empty:
            atomic_write(folder / "tables" / f"{name}.csv", lambda tmp, t=t: t.to_csv(tmp))
    for name, h in preset_figures(rows, preset).items():
        atomic_write(folder / "figures" / f"{name}.html", lambda tmp, h=h: Path(tmp).write_text(h))
    atomic_write(folder / "results.md", lambda tmp: Path(tmp).write_text(preset_markdown(rows, preset, meta)))
    atomic_write(folder / "meta.json", lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2, default=str)))
    return folder


# ------------------------------------------------------------------------------------------------ full report
def compact_rows(rows_csv, out_gz, digits: int = 4) -> Path:
    """Write ``rows_csv`` (a preset's rows.csv) to ``out_gz`` gzipped with its metrics rounded to ``digits`` decimals
    (the tables show 3): how the bundled Tables 2–6 keep their rows (``make benchmark-all``), a third of the size.
    Written atomically; deterministic bytes (gzip mtime 0)."""
    from .._io import atomic_write

    return write_compact_rows(pd.read_csv(rows_csv), out_gz, digits)


def write_compact_rows(rows: pd.DataFrame, out_gz, digits: int = 4) -> Path:
    """``rows`` gzipped to ``out_gz`` with AUROC / AUPRC / AUPRC_ratio / EPR rounded to ``digits`` decimals, written
    atomically with deterministic bytes (compressed in memory: pandas' gzip writer puts the random temp file's name
    into the header)."""
    rows = rows.copy()
    for c in ("AUROC", "AUPRC", "AUPRC_ratio", "EPR"):
        if c in rows:
            rows[c] = rows[c].round(digits)
    data = gzip.compress(rows.to_csv(index=False).encode(), compresslevel=9, mtime=0)
    return atomic_write(Path(out_gz), lambda tmp: Path(tmp).write_bytes(data))


def paper_beside(rows: pd.DataFrame, paper: pd.DataFrame, negatives: str = "uniform") -> pd.DataFrame:
    """Table 1: our seed-mean AUPRC next to the paper's (scGPT backbone), per test dataset and method.

    ``paper``: DataFrame [network, dataset, backbone, method, AUPRC] (assets/paper/table1_auprc.csv).
    Returns columns: test, method, ours, paper (scGPT) — only datasets and methods both have.
    """
    m = seed_means(rows, "table1", "AUPRC", negatives=negatives)
    p = paper[paper["backbone"] == "scGPT"]
    out = []
    for r in p.itertuples(index=False):
        test = next((t for t in m.index if t.startswith(f"{r.network}/{r.dataset}/")), None)
        if test is not None and r.method in m.columns and np.isfinite(m.at[test, r.method]):
            out.append({"test": test, "method": r.method, "ours": round(float(m.at[test, r.method]), 3),
                        "paper (scGPT_human, reported)": r.AUPRC})
    return pd.DataFrame(out)


def pretraining_sources(checkpoint_dir) -> list[str]:
    """Data sources the checkpoint was pretrained on (its training_summary.json), e.g. "BEELINE hHEP (425 cells)"."""
    f = Path(checkpoint_dir) / "training_summary.json"
    if not f.is_file():
        return []
    return [f"{s['source']} ({s.get('cells', '?')} cells)" for s in json.loads(f.read_text()).get("sources", [])]


def build_report(results_root, out_md, out_html, checkpoint_dir=None, paper_csv=None) -> tuple[Path, Path]:
    """Gather every preset folder under ``results_root`` (``<root>/<preset>/results.md``) into one markdown file and
    one self-contained HTML file (figures embedded with plotly.js inline once).

    Raises: FileNotFoundError when no preset folder is found.
    """
    root = Path(results_root)
    found = [p for p in list(TABLE_PRESETS) + ["ci"] if (root / p / "results.md").is_file()]
    if not found:
        raise FileNotFoundError(f"no benchmark results under '{root}' (expected <preset>/results.md)")
    md = ["# UGRN benchmark report\n"]
    if checkpoint_dir is not None:
        srcs = pretraining_sources(checkpoint_dir)
        md.append("The checkpoint saw these datasets in pretraining (its training_summary.json): " + "; ".join(srcs) +
                  ". Test datasets of these cell types were seen *as expression* (not as labels) by the model.\n")
    for p in found:
        meta = read_meta(root / p)
        md.append(f"\n---\n\n<!-- preset {p} -->\n")
        md.append((root / p / "results.md").read_text().replace("\n# ", "\n## ", 1).replace("# ", "## ", 1))
        if p == "table1" and paper_csv is not None and Path(paper_csv).is_file() and (root / p / "rows.csv").is_file():
            rows = pd.read_csv(root / p / "rows.csv")
            pb = paper_beside(rows, pd.read_csv(paper_csv))
            if not pb.empty:
                wide = pb.pivot(index="test", columns="method", values=["ours", "paper (scGPT_human, reported)"])
                wide.columns = [f"{m} ({'ours' if k == 'ours' else 'paper'})" for k, m in wide.columns]
                wide = wide[sorted(wide.columns)]
                md.append("\n### Ours (bundled compact model) beside the paper's reported AUPRC (scGPT_human; 'paper' "
                          "columns are the paper's numbers, not reproduced here), uniform negatives\n\n"
                          + wide.round(3).to_markdown() + "\n")
        md.append(f"\nWall time {meta.get('wall_s', float('nan')):.0f} s.\n")
    text = "\n".join(md)
    out_md, out_html = Path(out_md), Path(out_html)
    atomic_write(out_md, lambda tmp: Path(tmp).write_text(text))
    atomic_write(out_html, lambda tmp: Path(tmp).write_text(_html(text, root, found)))
    return out_md, out_html


def _html(text: str, root: Path, presets: list[str]) -> str:
    """Self-contained HTML: the markdown rendered (markdown-it when available, else preformatted), each preset's
    figures inlined, plotly.js included once."""
    try:
        from markdown_it import MarkdownIt

        body = MarkdownIt("commonmark").enable("table").render(text)
    except ImportError:
        body = f"<pre>{html.escape(text)}</pre>"
    import plotly.offline

    figs = []
    for p in presets:
        for f in sorted((root / p / "figures").glob("*.html")):
            src = f.read_text()
            start, end = src.find("<body>"), src.rfind("</body>")
            inner = src[start + 6:end] if start >= 0 else src
            inner = "\n".join(line for line in inner.splitlines() if "cdn.plot.ly" not in line)
            figs.append(f"<h3>{html.escape(p)}: {html.escape(f.stem)}</h3>{inner}")
    js = plotly.offline.get_plotlyjs()
    style = ("body{font-family:sans-serif;max-width:1200px;margin:auto}table{border-collapse:collapse;font-size:12px}"
             "td,th{border:1px solid #ccc;padding:2px 6px}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>UGRN benchmark report</title><style>{style}</style>"
            f"<script>{js}</script></head><body>{body}<h2>Figures</h2>{''.join(figs)}</body></html>")
