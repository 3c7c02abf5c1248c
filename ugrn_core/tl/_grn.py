"""scanpy-style tools: gene regulatory networks per cell type, written into the AnnData (``ugrn_core.tl.grn``).

The workflow as a user runs it::

    import scanpy as sc, ugrn_core.tl as ugrn
    adata = sc.datasets.pbmc68k_reduced()                  # X scaled, log-normalised values in .raw
    ugrn.grn(adata, groupby="bulk_labels", method="|Pearson|", use_raw=True)
    adata.uns["ugrn"]["networks"]["CD14+ Monocyte"]      # source, target, weight, score, rank

All scoring goes through the calls behind the public API (``dataset_from_genes``, ``predict.predict_edges``, the
method registry's ``MethodSpec.run``; ``tl`` imports nothing from ``api``, which re-exports it); this module chooses
the matrix, the genes and the cells of each group, guards per-group statistics and stores the result.
"""

from __future__ import annotations

import math
import re
import time
import warnings

import anndata
import numpy as np
import pandas as pd

from .. import methods as registry
from ..probes import signs
from ..data.anndata_io import all_genes_normalised, dense, median_total, scan_matrix, select_matrix, selected_columns
from ..errors import DataError, ParameterError
from ..export import edge_table
from ..data.readers import first_items, upper_unique

ALL_CELLS = "all cells"  # the group name of the network over every cell
DEFAULT_KEY = "ugrn"
EDGE_COLUMNS = ["source", "target", "weight", "score", "rank"]  # + "label" when a reference is given


def expression_dependent(method: str) -> bool:
    """True when ``method``'s scores read the cells' expression (itself or an ensemble member: ``needs_expression``
    in its ``MethodSpec``): |Pearson|, GRNBoost2, RegDiffusion, DeepSEM, InfoSEM, Pert, Origin-Pert, Origin-Attn.
    False for Emb, VVP, GDT and Ens, whose scores come from the model's virtual cells only."""
    spec = registry.get(method)
    return bool(spec.needs_expression or any(registry.get(m).needs_expression for m in spec.members))


def uses_model(method: str) -> bool:
    """True when ``method`` needs the foundation model (a probe or a translator), itself or an ensemble member."""
    spec = registry.get(method)
    return bool(spec.uses_translator or spec.probe is not None or any(uses_model(m) for m in spec.members))


def network_key(group: str, taken=()) -> str:
    """The key of a group's edge table in ``uns[key]["networks"]`` and its file name stem in ``ugrn grn``: the group
    name with characters other than letters, digits, space and ``+ - . _ ( )`` replaced by ``_`` ("/" would nest in
    an .h5ad); ``-2``, ``-3``… appended when that key is ``taken``."""
    key = re.sub(r"[^\w +\-.()]", "_", str(group)).strip() or "group"
    base, k = key, 2
    while key in taken:
        key, k = f"{base}-{k}", k + 1
    return key


def guess_species(symbols) -> str:
    """"mouse" when most alphabetic gene symbols are capitalised lower-case (``Gata1``), else "human" (``GATA1``)."""
    raw = [str(s) for s in symbols if any(ch.isalpha() for ch in str(s))]
    mouse = sum(1 for s in raw if s[0].isupper() and any(ch.islower() for ch in s[1:]) and "orf" not in s)
    return "mouse" if raw and mouse > 0.5 * len(raw) else "human"


def _score_without_model(spec, ds, progress) -> pd.DataFrame:
    """Ranked [tf, target, score, label] of a method that reads expression only (no model): the registry's
    ``MethodSpec.run`` on every TF × gene pair of ``ds``, sorted as ``predict.predict_edges`` sorts."""
    from ..data.pairs import candidate_pairs

    pairs = candidate_pairs(ds, tf_mode="file")
    ctx = registry.ScoringContext(dataset=ds, train_dataset=ds, train_pairs=pairs, progress=progress,
                                  cache={})  # SEM methods: SEMOptions() defaults
    out = pairs.assign(score=spec.run(ctx, pairs))
    if not ds.has_ground_truth:
        out["label"] = np.nan
    return out.sort_values(["score", "tf", "target"], ascending=[False, True, True],
                           kind="mergesort").reset_index(drop=True)[["tf", "target", "score", "label"]]


def _groups(adata, groupby) -> list[tuple[str, np.ndarray]]:
    """[(group name, cell row indices)]: all cells first, then each category of ``obs[groupby]`` that has cells."""
    out = [(ALL_CELLS, np.arange(adata.n_obs))]
    if groupby is None:
        return out
    if groupby not in adata.obs.columns:
        raise ParameterError(f"groupby={groupby!r} is not a column of .obs; columns: {first_items(adata.obs.columns, 20)}.")
    col = adata.obs[groupby]
    cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.dropna().unique(), key=str)
    if ALL_CELLS in {str(c) for c in cats}:
        raise ParameterError(f"obs[{groupby!r}] has a category named {ALL_CELLS!r}, the name of the all-cells network; "
                             "rename it.")
    values = col.to_numpy()
    for c in cats:
        rows = np.flatnonzero(values == c)
        if len(rows):
            out.append((str(c), rows))
    return out


def _threshold(min_cells, n_cells: int) -> int:
    """Cells that must express a gene in a group of ``n_cells``: ``min_cells`` (int), or a fraction (float in (0, 1))
    of the group's cells, rounded up."""
    if isinstance(min_cells, float) and 0 < min_cells < 1:
        return max(1, math.ceil(min_cells * n_cells))
    return int(min_cells)


def _json_safe(v):
    """A value an .h5ad's uns can hold (None → "")."""
    return "" if v is None else v


def grn(adata: anndata.AnnData, *, genes=None, groupby: str | None = None, method: str = "Ens",
        use_raw: bool | None = None, layer: str | None = None, checkpoint=None, translator=None,
        min_cells: int | float = 10, n_top_genes: int = 500, tfs=None, species: str | None = None, reference=None,
        normalize: bool | None = None, background="auto", device=None, key_added: str = DEFAULT_KEY,
        copy: bool = False, inplace: bool = True, progress=None, data_dir=None):
    """Gene regulatory networks of an AnnData: one per category of ``obs[groupby]`` plus one for all cells.

    What it does, in order:

    1. **Matrix**: ``adata.X`` (default), ``adata.raw.X`` (``use_raw=True``) or ``adata.layers[layer]``; numpy,
       scipy sparse or backed. One pass in row chunks checks the values (``anndata_io.scan_matrix``: a negative value,
       i.e. a scaled ``X``, fails naming ``use_raw=True`` / ``layer=``) and sums each cell. Only the chosen genes'
       columns are ever read into memory, and made dense one group at a time (cells of the group × genes).
    2. **Raw counts** (every value an integer, or ``normalize=True``) are normalised as scanpy does:
       ``sc.pp.normalize_total`` (target = median total over cells, totals over all genes) then ``sc.pp.log1p``:
       x' = log(1 + x · median_total / total_cell). Stated in ``params["normalised"]``.
    3. **Genes**: ``genes`` as given (any case), or the ``n_top_genes`` most highly variable genes
       (on a normalised copy: ``sc.pp.filter_genes(min_cells=...)`` with the guard's threshold over all cells, then
       ``sc.pp.highly_variable_genes(flavor="seurat")``, ranked by normalised dispersion, among
       the genes in the checkpoint's vocabulary when the method uses the model) capped at the checkpoint's context
       size (``max_seq_len - 1`` genes). TFs: ``tfs``, else the genes in BEELINE's TF list of ``species`` (guessed from
       the symbols' case when not given: ``Gata1`` mouse, ``GATA1`` human).
    4. **Guard per group**: genes expressed (value > 0) in fewer than ``min_cells`` cells of the group are dropped
       from that group's network (a float in (0, 1) is a fraction of the group's cells); the threshold and the genes
       dropped are stored. Without it, genes seen in one or two cells give |Pearson| = 1.0 at the top of the list.
    5. **Networks**: methods that read expression (``expression_dependent``: |Pearson|, GRNBoost2, RegDiffusion,
       DeepSEM, InfoSEM-B, Pert, Origin-Pert, Origin-Attn) score each group on that group's cells only (Pert and
       Origin-Pert probe the group's own mean cell). Methods that do not (Emb, VVP, GDT, Ens: the model's virtual
       cells) give one network, computed once over all cells' gene set and shared by every group:
       ``params["shared_network"]`` is True and every summary row points to the ``"all cells"`` table.
       Model methods go through ``api.predict_edges`` (the translator's background context for short gene lists:
       ``background``); expression-only methods through the registry's ``MethodSpec.run`` on every TF × gene pair.

    Args:
        adata: cells × genes AnnData (in memory or backed).
        genes: gene symbols to build the networks on (default: highly variable genes, step 3).
        groupby: a column of ``adata.obs`` (categorical or not); None = the all-cells network only.
        method: any registered method name (``ugrn_core.methods.names()``), any case; methods that need labelled
            training pairs besides a translator (supervised baselines, InfoSEM-BC, the degree prior) are refused.
        use_raw, layer: the matrix (step 1); ``use_raw=None`` means ``X``.
        checkpoint, translator: scGPT checkpoint folder and translator folder (or a ``Translator``); default the
            bundled ones. Only loaded when the method uses the model.
        min_cells: the per-group guard (step 4), default 10 cells.
        n_top_genes: number of highly variable genes when ``genes`` is None (default 500).
        tfs: TF symbols (default: the BEELINE TF list ∩ genes); species: "human" / "mouse" (default: guessed).
        reference: known edges, DataFrame with columns tf, target (e.g. ``readers.read_edge_list``): adds ``label``.
        normalize: True / False forces step 2 on / off; None = on for integer matrices.
        background: the context of model methods for short gene lists (``api.predict_edges``; default "auto").
        key_added: ``adata.uns`` key written (default "ugrn").
        copy: return a copy of ``adata`` with the result written into it (``adata`` untouched).
        inplace: False = return the result dict and leave ``adata`` untouched.
        progress: ``progress(done, total, message)`` callback (per group, and the model's probes).

    Writes ``adata.uns[key_added]`` (all of it writes to and reads back from .h5ad), a dict:
        ``networks``: {network key: DataFrame}: one edge table per group (``network_key(group)``; "all cells" for all
        cells), ``export.edge_table``'s columns: ``source``, ``target`` (str, upper-case symbols), ``weight`` (float64,
        signed where the method gives a sign: |Pearson| → sign of Pearson r on the group's cells, VVP/|VVP| → sign of
        the VVP slope, GDT/|GDT| → sign of the GDT mean (``signs``); else equal to ``score``), ``score`` (float64, the method's score, higher = more likely a TF→target edge), ``rank``
        (int64, 1 = best), ``label`` (Int64 1/0, only with ``reference``); rows = every TF × kept gene pair (no
        self-loops), best first. An expression-free method has only the "all cells" table.
        ``summary``: DataFrame, one row per group (all cells first): ``group``, ``network`` (its table's key),
        ``n_cells``, ``n_genes`` (kept), ``n_tfs``, ``n_dropped`` (genes below ``min_cells``), ``min_cells`` (the
        threshold applied), ``n_edges``, ``method``, ``expression_dependent`` ("yes"/"no"), ``seconds`` (wall time
        of scoring its network; 0 for groups sharing the all-cells network), ``note`` (why a group has no network,
        e.g. fewer cells than ``min_cells``).
        ``dropped_genes``: {network key: str array} genes dropped by the guard.
        ``params``: what made them (method, groupby, matrix, normalised, gene selection, species, min_cells,
        shared_network, checkpoint, translator, background, n_genes, n_tfs, genes, tfs).
        ``checkpoint``: the checkpoint id (16 hex characters), "" when the method reads no model.

    Returns: None (scanpy style); the modified copy with ``copy=True``; the dict above with ``inplace=False``.

    Raises:
        ParameterError: unknown or unsupported method, ``groupby`` not in ``.obs`` (lists the columns), ``use_raw`` and
            ``layer`` together, no ``.raw`` / unknown layer, ``copy=True`` on a backed AnnData, more given genes than
            the checkpoint's context.
        DataError: a negative (scaled), missing or infinite value in the chosen matrix (names gene, cell and the fix);
            given genes missing from the matrix (names them); no TF among the genes.

    Example (pbmc68k_reduced, 700 cells × 765 genes, 10 cell types, ``X`` scaled)::

        >>> import anndata, ugrn_core.tl as ugrn
        >>> adata = anndata.read_h5ad("10x_pbmc68k_reduced_scanpy.h5ad")
        >>> ugrn.grn(adata, groupby="bulk_labels", method="|Pearson|")     # X is scaled
        DataError: AnnData X: negative value -0.326 for gene 'HES4', cell 'AAAGCCTGGCTAAC-1'; expected non-negative
        counts or normalised expression (log-counts, TPM): negative values such as z-scores (a scaled X) cannot be
        binned; its .raw holds the values before scaling: use_raw=True (CLI --use-raw)
        >>> ugrn.grn(adata, groupby="bulk_labels", method="|Pearson|", use_raw=True)
        >>> adata.uns["ugrn"]["summary"][["group", "n_cells", "n_genes", "n_edges"]].head(3)
                    group  n_cells  n_genes  n_edges
        0       all cells      700      ...
        >>> adata.uns["ugrn"]["networks"]["CD14+ Monocyte"].head(3)   # source, target, weight, score, rank
        >>> adata.write_h5ad("pbmc_grn.h5ad")                            # networks travel with the file
    """
    from ..data.datasets import dataset_from_genes
    from ..predict import context_background, predict_edges
    from ..probes.features import dataset_probes
    from ..scfm.checkpoint import load_model
    from ..scfm.vocab import map_to_vocab
    from ..translator.artifact import Translator
    from ..config import resolve_translator_dir

    spec = registry.get(method)
    if spec.needs_labels and not spec.uses_translator:
        raise ParameterError(f"method {spec.name!r} needs labelled training pairs; tl.grn runs methods that need none "
                             "besides the translator: " + ", ".join(
                                 s.name for s in registry.all_specs() if s.uses_translator or not s.needs_labels) + ".")
    if copy and adata.isbacked:
        raise ParameterError("copy=True on a backed AnnData; open it in memory, or use inplace=False.")
    expr_dep, model = expression_dependent(spec.name), uses_model(spec.name)
    say = progress or (lambda done, total, message: None)

    # 1. the matrix, checked once; 2. raw counts normalised
    M, var_names, where = select_matrix(adata, use_raw, layer)
    scan = scan_matrix(M, f"AnnData {where}", var_names, adata.obs_names, has_raw=adata.raw is not None,
                       layers=list(adata.layers.keys()))
    normalise = scan.integer if normalize is None else bool(normalize)
    upper = pd.Index(pd.Index(var_names).astype(str).str.upper())
    first_col = pd.Series(np.arange(len(upper)), index=upper)
    first_col = first_col[~first_col.index.duplicated()]
    species = species or guess_species(var_names)

    fm = tr = None
    cap = None
    if model:
        fm = load_model(checkpoint, device)
        cap = fm.max_seq_len - 1
        if spec.uses_translator:
            tr = translator if translator is not None and not isinstance(translator, (str, bytes)) and hasattr(
                translator, "projectors") else Translator.load(resolve_translator_dir(translator))

    # 3. genes
    if genes is not None:
        gene_list = upper_unique(genes)
        missing = [g for g in gene_list if g not in first_col.index]
        if missing:
            raise DataError(f"{len(missing)} of the {len(gene_list)} genes are not in the AnnData's {where} columns: "
                            f"{first_items(missing)}.")
        if model:
            n_mapped = len(map_to_vocab(gene_list, fm.vocab, species, warn=False).tokens)
            if n_mapped > cap:
                raise ParameterError(f"{n_mapped} of the given genes are in the checkpoint's vocabulary, more than its "
                                     f"context ({cap} genes, max_seq_len {fm.max_seq_len}); give at most {cap}.")
        genes_from = "given"
    else:
        import scanpy as sc

        tmp = all_genes_normalised(M, scan, normalise)
        tmp.var_names = [str(i) for i in range(tmp.n_vars)]  # column numbers: symbols may repeat after upper-casing
        thr_all = _threshold(min_cells, adata.n_obs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sc.pp.filter_genes(tmp, min_cells=thr_all)  # the guard, over all cells, before ranking (as scanpy's tutorial)
            if tmp.n_vars < 2:
                raise DataError(f"{tmp.n_vars} genes of the AnnData's {where} are expressed in ≥ {thr_all} cells "
                                "(min_cells); expected at least two; lower min_cells or give genes=.")
            sc.pp.highly_variable_genes(tmp, flavor="seurat")
        disp = pd.Series(tmp.var["dispersions_norm"].to_numpy(np.float64), index=upper[tmp.var_names.astype(int)])
        disp = disp[~disp.index.duplicated()].dropna()
        if model:
            disp = disp[disp.index.isin(map_to_vocab(list(disp.index), fm.vocab, species, warn=False).genes)]
        n_take = int(min(n_top_genes, cap if cap is not None else n_top_genes, len(disp)))
        gene_list = disp.sort_values(ascending=False, kind="mergesort").index[:n_take].tolist()
        genes_from = (f"sc.pp.filter_genes(min_cells={thr_all}) then sc.pp.highly_variable_genes(flavor='seurat'): "
                      f"top {n_take} by normalised dispersion"
                      + (" among the checkpoint's vocabulary" if model else "")
                      + (f" (n_top_genes {n_top_genes}, context cap {cap})" if model else f" (n_top_genes {n_top_genes})"))
        del tmp
    cols = first_col.loc[gene_list].to_numpy()
    S = selected_columns(M, cols, scan, normalise)  # cells × genes (CSR when M is sparse)

    ref = None
    if reference is not None:
        ref = reference[["tf", "target"]].astype(str).apply(lambda c: c.str.strip().str.upper())

    # 4.–5. one network per group (expression-dependent methods) or one shared network
    groups = _groups(adata, groupby)
    to_score = groups if expr_dep else groups[:1]
    networks, dropped, rows, keys, signed = {}, {}, {}, {}, False
    for i, (group, cells) in enumerate(to_score):
        say(i, len(to_score), f"groups: {group}")
        key = keys[group] = network_key(group, taken=set(keys.values()))
        thr = _threshold(min_cells, len(cells))
        Xg = dense(S[cells])
        n_expr = (Xg > 0).sum(0)
        keep = n_expr >= thr
        kept = [g for g, k in zip(gene_list, keep) if k]
        dropped[key] = np.array([g for g, k in zip(gene_list, keep) if not k], dtype=object)
        row = dict(group=group, network=key, n_cells=len(cells), n_genes=len(kept), n_tfs=0,
                   n_dropped=int((~keep).sum()), min_cells=thr, n_edges=0, method=spec.name,
                   expression_dependent="yes" if expr_dep else "no", seconds=0.0, note="")
        rows[group] = row
        if len(kept) < 2:
            row["note"] = (f"{len(kept)} genes expressed in ≥ {thr} of its {len(cells)} cells; no network "
                           "(lower min_cells to keep more)")
            continue
        if not ds_has_tf(kept, tfs, species, data_dir):
            row["note"] = f"no TF among its {len(kept)} kept genes; no network"
            continue
        sub_ref = None if ref is None else ref[ref["tf"].isin(kept) & ref["target"].isin(kept)]
        ds = dataset_from_genes(
            kept, tfs=None if tfs is None else [t for t in upper_unique(tfs) if t in set(kept)], species=species,
            edges=sub_ref, name=f"{key_added}:{key}", data_dir=data_dir,
            expression=anndata.AnnData(X=Xg[:, keep], var=pd.DataFrame(index=pd.Index(kept))) if expr_dep else None)
        row["n_tfs"] = len(ds.tfs)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # vocabulary coverage warnings: counted in n_genes
            sign = None
            if model:
                probes = None
                if signs.sign_probe(spec.name):  # the same probes give the scores and the signs
                    bg = context_background(fm, ds, tr, [spec.name], background, data_dir)
                    probes = dataset_probes(fm, ds, tr.params if tr is not None else None, bg)
                edges = predict_edges(fm, ds, tr, method=spec.name, progress=progress, background=background,
                                          data_dir=data_dir, probes=probes)
                if probes is not None:
                    sign = signs.method_signs(probes, edges, spec.name)
            else:
                edges = _score_without_model(spec, ds, progress)
                if spec.name == "|Pearson|":  # its sign is the sign of r on the same cells
                    sign = np.sign(signs.dataset_pearson_r(ds, edges))
        networks[key] = edge_table(edges if ref is not None else edges.drop(columns="label"), sign=sign)
        signed = signed or sign is not None
        row["n_edges"], row["seconds"] = len(networks[key]), round(time.perf_counter() - t0, 3)
    say(len(to_score), len(to_score), "groups: done")
    if not expr_dep:  # one shared network: every group points to it
        shared = rows[ALL_CELLS]
        for group, cells in groups[1:]:
            rows[group] = dict(shared, group=group, n_cells=len(cells), network=shared["network"], seconds=0.0,
                               note=f"{spec.name} reads no expression: the shared '{ALL_CELLS}' network")
    summary = pd.DataFrame([rows[g] for g, _ in groups])

    result = {
        "networks": networks,
        "summary": summary,
        "dropped_genes": dropped,
        "checkpoint": fm.checkpoint_id if fm is not None else "",
        "params": {
            "method": spec.name, "method_family": spec.family.value, "expression_dependent": expr_dep,
            "shared_network": not expr_dep, "groupby": _json_safe(groupby),
            "groups": np.array([g for g, _ in groups], dtype=object), "matrix": where,
            "use_raw": bool(use_raw), "layer": _json_safe(layer),
            "normalised": (f"sc.pp.normalize_total (target_sum = median total {median_total(scan.totals):g}, totals "
                           f"over all {scan.n_genes} genes) then sc.pp.log1p" + (" (integer values: raw counts)"
                                                                                  if normalize is None else "")
                           if normalise else "no: values used as given"),
            "genes_from": genes_from, "n_genes": len(gene_list), "genes": np.array(gene_list, dtype=object),
            "species": species, "min_cells": min_cells, "min_cells_rule": "genes with value > 0 in fewer cells of the "
                                                                          "group are dropped from its network",
            "weight": (("sign(r) × score: Pearson r on the group's cells" if spec.name == "|Pearson|" else
                         f"sign × score: the {signs.sign_probe(spec.name)} probe's slope (ugrn_core.probes.signs)")
                        if signed else "= score (the method gives no sign)"),
            "checkpoint": fm.checkpoint_id if fm is not None else "",
            "checkpoint_path": str(fm.path) if fm is not None and getattr(fm, "path", None) else "",
            "translator": tr.trained_on if tr is not None else "",
            "background": str(background) if model else "",
        },
    }
    if not inplace:
        return result
    target = adata.copy() if copy else adata
    target.uns[key_added] = result
    return target if copy else None


def ds_has_tf(genes, tfs, species, data_dir) -> bool:
    """True when ``genes`` hold a TF (``tfs``, or BEELINE's TF list of ``species``)."""
    from ..config import resolve_data_dir
    from ..data.datasets import _species_tfs

    known = set(upper_unique(tfs)) if tfs is not None else _species_tfs(species, resolve_data_dir(data_dir))
    return any(g in known for g in genes)


def get_network(adata: anndata.AnnData, group: str = ALL_CELLS, key: str = DEFAULT_KEY) -> pd.DataFrame:
    """The edge table of ``group`` written by ``grn`` (the shared one for an expression-free method).

    Raises: KeyError naming the groups there are when ``group`` has no network, or when ``grn`` has not run."""
    if key not in adata.uns:
        raise KeyError(f"adata.uns has no {key!r}: run ugrn_core.tl.grn(adata, ..., key_added={key!r}) first")
    res = adata.uns[key]
    summary = res["summary"]
    hit = summary[summary["group"].astype(str) == str(group)]
    if hit.empty or hit["network"].iloc[0] not in res["networks"]:
        have = summary.loc[summary["network"].isin(list(res["networks"])), "group"].tolist()
        raise KeyError(f"no network for group {group!r}; groups with one: {first_items(have, 20)}")
    return res["networks"][hit["network"].iloc[0]]
