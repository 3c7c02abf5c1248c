"""Streamlit glue for an uploaded AnnData (``.h5ad`` / ``.loom``): read it, choose its matrix and ``groupby`` column,
and run ``ugrn_core.tl`` on it (one network per cell group) for the Network and Compare pages. No science here: the
reader is ``api.read_cells``, the value check, normalisation, gene choice and per-group networks are
``tl.grn``'s; which methods read the cells comes from the method registry (``reads_cells``).

Session state:

- ``cells``: cells key → ``Cells`` (the AnnData as read, the user's choices);
- ``cells_key``: the key of the cells the pages use, or None;
- ``cells_runs``: (cells key, method, translator key, checkpoint) → the ``adata.uns`` key ``tl.grn`` wrote.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from ugrn_core import api, tl

from . import figures, state

CELLS_MODE = "Your cells (.h5ad / .loom)"
CELL_TYPES = ("h5ad", "loom")
MATRIX_X = "X"
MATRIX_RAW = ".raw (values before scaling)"
LAYER_PREFIX = "layer: "
NO_GROUPS = "(none: all cells together)"
ALL_CELLS = api.ALL_CELLS  # tl.grn's name of the network over every cell (its first summary row)
MAX_CATEGORIES = 60  # obs columns with more distinct values are not offered as groupby (cell ids, counts, scores)


@dataclass
class Cells:
    """An uploaded AnnData and what the user chose on Home."""

    name: str
    adata: Any
    matrix: str = MATRIX_X
    groupby: str | None = None
    genes: list[str] = field(default_factory=list)
    species: str = "human"

    @property
    def use_raw(self) -> bool | None:
        return True if self.matrix == MATRIX_RAW else None

    @property
    def layer(self) -> str | None:
        return self.matrix[len(LAYER_PREFIX):] if self.matrix.startswith(LAYER_PREFIX) else None

    def groups(self) -> list[str]:
        """The group names ``tl.grn`` makes: "all cells" first, then the categories of ``obs[groupby]`` with cells."""
        if not self.groupby:
            return [ALL_CELLS]
        col = self.adata.obs[self.groupby]
        counts = col.value_counts()
        cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(counts.index, key=str)
        return [ALL_CELLS] + [str(c) for c in cats if counts.get(c, 0) > 0]


def read_upload(uploaded) -> Any:
    """The AnnData of an ``st.file_uploader`` file (.h5ad / .loom) through ``api.read_cells`` (anndata's readers,
    which need a file on disk: written to a temporary file, removed after reading).

    Raises: the core's ``DataError`` naming the file when it cannot be read."""
    suffix = "." + uploaded.name.rsplit(".", 1)[-1].lower()
    fd, tmp = tempfile.mkstemp(suffix=suffix, prefix="ugrn_upload_")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(uploaded.getvalue())
        try:
            adata = api.read_cells(tmp)
        except api.UGRNInputError as e:  # the message names the temporary path: name the user's file instead
            raise type(e)(str(e).replace(tmp, uploaded.name)) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return adata


def matrix_choices(adata) -> list[str]:
    """The matrices a network can be built from: ``X``, ``.raw`` when present, each layer."""
    out = [MATRIX_X]
    if adata.raw is not None:
        out.append(MATRIX_RAW)
    out += [f"{LAYER_PREFIX}{k}" for k in adata.layers.keys()]
    return out


def groupby_choices(adata) -> list[str]:
    """``.obs`` columns that name groups of cells: categorical, text, boolean or integer columns with 2 to
    ``MAX_CATEGORIES`` distinct values (not per-cell numbers such as counts or scores)."""
    out = []
    for c in adata.obs.columns:
        col = adata.obs[c]
        if pd.api.types.is_float_dtype(col.dtype):
            continue
        if 2 <= col.nunique(dropna=True) <= MAX_CATEGORIES:
            out.append(str(c))
    return out


def grn_methods(translator) -> list[str]:
    """Registry methods ``tl.grn`` can run with this translator: the translator's own, and every method that needs
    no labelled training pairs (zero-shot probes, expression methods, controls), in display order."""
    have = set(translator.methods) if translator is not None else set()
    return [s.name for s in api.methods.all_specs() if s.name in have or not s.needs_labels]


def reads_cells(method: str) -> bool:
    """True when ``method``'s scores read the cells' expression: its spec, or an ensemble member's, says
    ``needs_expression`` (the registry's answer, as ``tl.grn`` asks it)."""
    spec = api.methods.get(method)
    return bool(spec.needs_expression or any(api.methods.get(m).needs_expression for m in spec.members))


def split_by_cells(names) -> tuple[list[str], list[str]]:
    """(methods whose scores read the cells, methods that do not), from the registry (``reads_cells``)."""
    reads = [n for n in names if reads_cells(n)]
    return reads, [n for n in names if n not in reads]


def active() -> Cells | None:
    """The cells the pages use: those chosen on Home while its dataset source is the cells upload, else None."""
    ss = st.session_state
    if ss.get("home_ds_mode") != CELLS_MODE:
        return None
    return ss.get("cells", {}).get(ss.get("cells_key"))


def run_grn(cells: Cells, method: str, ctx, button_key: str) -> dict | None:
    """``tl.grn`` of ``cells`` with ``method`` (one network per group), written into the session's AnnData under
    its own ``uns`` key, run once per (cells, method, translator, checkpoint) when the user presses the button
    (``button_key``). Returns ``adata.uns[key]`` plus ``"key"``; None while not run yet, or after showing the core's
    input error."""
    ss = st.session_state
    runs = ss.setdefault("cells_runs", {})
    run_id = (ss.get("cells_key"), method, ctx.tr_key, ctx.ckpt_id)
    if run_id not in runs:
        n = len(cells.groups())
        what = (f"one network per group ({n - 1} groups of {cells.groupby}) plus one for all cells"
                if reads_cells(method) else "one network for all cells, shared by every group")
        prompt = st.empty()
        with prompt.container():
            st.info(f"**{method}** on the cells of “{cells.name}”: {what}. Methods that probe the model compute "
                    "their probes once (minutes on a CPU; cached on disk); expression-only methods take seconds.")
            clicked = st.button(f"▶ Build the {method} networks", type="primary", key=button_key)
        if not clicked:
            return None
        prompt.empty()
        key = "ugrn_" + state.digest(*map(str, run_id))
        bar, cb = state.progress_callback(f"{method}: one network per group of “{cells.name}”")
        with state.warnings_shown():
            out = state.safe_call(
                f"networks of {cells.name}", tl.grn, cells.adata, genes=cells.genes or None,
                groupby=cells.groupby, method=method, use_raw=cells.use_raw, layer=cells.layer,
                checkpoint=ss["ckpt_path"] or None, translator=ctx.translator, species=cells.species,
                key_added=key, progress=cb)
        bar.empty()
        if out is None and key not in cells.adata.uns:
            return None
        runs[run_id] = key
    key = runs[run_id]
    return {**cells.adata.uns[key], "key": key}


def page_edges(result: dict, group: str) -> pd.DataFrame:
    """The edge table of ``group`` in the pages' columns (tf, target, weight, score, label; NaN label without a
    reference), from ``tl.get_network`` (the shared network for an expression-free method)."""
    net = api.get_network(_adata_of(result), group, key=result["key"])
    out = net.rename(columns={"source": "tf"})
    if "label" not in out:
        out["label"] = float("nan")
    return out[["tf", "target", "weight", "score", "label"]].reset_index(drop=True)


def _adata_of(result: dict):
    cells = active()
    if cells is None or result["key"] not in cells.adata.uns:
        raise KeyError("the cells of this result are no longer selected; choose them again on Home")
    return cells.adata


def summary_view(result: dict) -> pd.DataFrame:
    """The per-group summary ``tl.grn`` wrote (group, cells, genes kept, TFs, genes dropped by the guard, edges,
    whether the method read the group's cells, seconds, note)."""
    cols = ["group", "n_cells", "n_genes", "n_tfs", "n_dropped", "min_cells", "n_edges", "expression_dependent",
            "seconds", "note"]
    s = result["summary"]
    return s[[c for c in cols if c in s.columns]]


# ------------------------------------------------------------------------------------------------ Home section
def tl_methods() -> list[str]:
    """Methods ``tl.grn`` runs (any that needs no labelled pairs besides a translator), controls left out."""
    return [s.name for s in api.methods.all_specs()
            if (s.uses_translator or not s.needs_labels) and s.family is not api.methods.Family.CONTROL]


def methods_note() -> str:
    """Which methods read the uploaded cells and which do not (markdown), from the registry."""
    reads, not_reads = split_by_cells(tl_methods())
    return (f"**Methods that read your cells** (each group's network from that group's cells only): "
            f"{', '.join(reads)}.  \n**Methods that do not** (the model's virtual cells only, so one network, "
            f"the same for every group): {', '.join(not_reads)}.")


def _keep_valid(key: str, options: list[str]) -> None:
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]


def _build_dataset(cells: Cells, cap: int):
    """The GRNDataset the Gene pair / Network pages read (``api.dataset_from_files`` on the chosen matrix: the
    core's value check runs here), with the warnings it raised (e.g. "mapped N of M Ensembl IDs to symbols").
    (None, []) when there are more genes than the model's context and no gene list was given."""
    if not cells.genes and cells.adata.n_vars > cap:
        return None, []
    with state.warnings_kept() as caught:
        ds = state.safe_call(f"cells file '{cells.name}'", api.dataset_from_files, gene_symbols=cells.genes,
                             expression=cells.adata, use_raw=bool(cells.use_raw), layer=cells.layer,
                             species=cells.species, name=cells.name)
    return ds, caught


def home_section(fm) -> None:
    """Home's "Your cells" source: upload, matrix, groupby, genes; sets the session's cells and dataset."""
    ss = st.session_state
    st.markdown(
        "Upload cells × genes as an **AnnData**: an `.h5ad` (scanpy) or a `.loom` (loompy, pySCENIC), with cell types "
        "or clusters in `.obs`. The **Network** page then gives one network per group of cells and the **Compare** "
        f"page sets two groups side by side. Files up to {state.MAX_UPLOAD_MB} MB.")
    c1, c2 = st.columns(2)
    up = c1.file_uploader("Cells (.h5ad, .loom)", type=list(CELL_TYPES), key="home_cells_file")
    if up is None or not state.upload_ok(up, "cells file"):
        kept = ss.get("cells", {}).get(ss.get("cells_key"))
        if up is None and kept is not None:
            st.info(f"Using the cells of “{kept.name}” ({kept.matrix}"
                    + (f", groups: {kept.groupby}" if kept.groupby else "") + "); upload the file again to change.")
            st.markdown(methods_note())
        elif up is None:
            st.info("Upload an .h5ad or .loom file of cells × genes.")
        return
    fkey = state.digest(up.name, up.getvalue())
    if ss.get("cells_file_key") != fkey:
        adata = state.safe_call("cells file", read_upload, up)
        if adata is None:
            return
        ss["cells_file_key"], ss["cells_file"] = fkey, adata
    adata = ss["cells_file"]
    c1.caption(f"**{up.name}**: {adata.n_obs:,} cells × {adata.n_vars:,} genes · `.raw`: "
               f"{'yes' if adata.raw is not None else 'no'} · layers: {', '.join(adata.layers.keys()) or 'none'}")
    matrices = matrix_choices(adata)
    _keep_valid("home_cells_matrix", matrices)
    matrix = c1.radio(
        "Expression values", matrices, key="home_cells_matrix",
        help="Networks need non-negative values (counts, or log-normalised). scanpy's sc.pp.scale leaves z-scores "
        "(negative values) in X; the values before scaling are in .raw when adata.raw = adata was set first, or in a "
        "layer. Raw counts are normalised and log-transformed as scanpy does.")
    groups = [NO_GROUPS] + groupby_choices(adata)
    _keep_valid("home_cells_groupby", groups)
    groupby = c2.selectbox("Cell groups (a column of .obs: one network per category)", groups,
                           key="home_cells_groupby")
    species = c2.radio("Species", ["human", "mouse"], key="home_cells_species", horizontal=True)
    paste = c2.text_area("Genes (optional; default: the highly variable genes)", key="home_cells_genes", height=68,
                         placeholder="e.g. SPI1 CEBPA GATA1 …")
    genes = [g for g in paste.replace(",", " ").replace(";", " ").split() if g.strip()] if paste else []
    if groupby != NO_GROUPS:
        sizes = adata.obs[groupby].value_counts()
        c2.caption(f"{len(sizes)} groups: " + ", ".join(f"{k} ({v})" for k, v in sizes.items() if v > 0))

    cells = Cells(name=Path(up.name).stem, adata=adata, matrix=matrix,
                  groupby=None if groupby == NO_GROUPS else groupby, genes=genes, species=species)
    key = f"upload:{cells.name}:" + state.digest(fkey, matrix, groupby, species, " ".join(genes))
    cap = int(fm.max_seq_len) - 1
    if key not in ss.setdefault("cells", {}):
        ds, notes = _build_dataset(cells, cap)
        if ds is None and (genes or adata.n_vars <= cap):
            return  # the core's error (e.g. a scaled X: "use .raw") is shown; the choice is above
        ss["cells"][key] = cells
        ss.setdefault("cells_notes", {})[key] = notes
        if ds is not None:
            ss["uploads"][key] = ds
    ss["cells_key"] = key
    for note in ss.get("cells_notes", {}).get(key, []):
        st.warning(note)
    if key in ss["uploads"]:
        ss["dataset_key"] = key
        st.success(f"Using the cells of “{cells.name}” ({matrix}" + (f", groups: {groupby}" if cells.groupby else "")
                   + ").")
    else:
        st.info(f"{adata.n_vars:,} genes are more than the model's context ({cap:,}): the Network and Compare pages "
                "build the networks on the most highly variable genes (ugrn_core.tl.grn; values checked there). Paste "
                f"a gene list to also use these cells on the Gene pair page (still using {ss['dataset_key']} there).")
    st.markdown(methods_note())


# ------------------------------------------------------------------------------------------------ Network page
def pick_method(ctx, col, key: str) -> str:
    """A method picker over what ``tl.grn`` runs with the page's translator (default: the default method)."""
    names = [m for m in tl_methods() if not api.methods.get(m).uses_translator or m in ctx.translator.methods]
    _keep_valid(key, [api.DEFAULT_METHOD] + names if api.DEFAULT_METHOD in names else names)
    return col.selectbox("Method", names, key=key, help=state.method_help(names))


def shared_note(method: str) -> str | None:
    """The sentence saying why every group has the same network, for a method that reads no expression."""
    if reads_cells(method):
        return None
    reads, _ = split_by_cells(tl_methods())
    return (f"{method} reads no expression (the model's virtual cells only), so every group shares one network, that "
            f"of all cells. Methods that read each group's cells: {', '.join(reads)}.")


def network_picker(ctx):
    """The Network page's picker for uploaded cells: method and group; runs ``tl.grn`` once per method.
    Returns (edges in the pages' columns, TFs, view key, method), or (None, …) when the group has no network."""
    cells = active()
    c1, c2 = st.columns([1, 3])
    method = pick_method(ctx, c1, "net_cells_method")
    groups = cells.groups()
    _keep_valid("net_group", groups)
    group = c2.selectbox(f"Cell group ({cells.groupby or 'no groupby chosen on Home'})", groups, key="net_group")
    c2.caption(f"Cells of **{cells.name}** ({cells.matrix}); networks by ugrn_core.tl.grn, one per group plus one "
               "for all cells.")
    note = shared_note(method)
    if note:
        st.info(note)
    result = run_grn(cells, method, ctx, "net_cells_run")
    if result is None:
        return None, [], "", method
    with st.expander("Networks per group (cells, genes kept, TFs, genes dropped by the min-cells guard, edges)"):
        st.dataframe(figures.table_view(summary_view(result)), hide_index=True, width="stretch")
        st.caption(f"Genes: {result['params']['genes_from']} · values: {result['params']['normalised']} · "
                   f"weight: {result['params']['weight']}.")
    try:
        edges = page_edges(result, group)
    except KeyError:
        row = result["summary"][result["summary"]["group"].astype(str) == group]
        st.warning(f"No network for “{group}”: {row['note'].iloc[0] if len(row) else 'not computed'}.")
        return None, [], "", method
    return edges, sorted(edges["tf"].unique()), f"{cells.name}/{group}", method

