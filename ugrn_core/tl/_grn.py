"""scanpy-style tools: gene regulatory networks per cell type, written into the AnnData (``ugrn_core.tl.grn``).

The workflow as a user runs it::

    import scanpy as sc, ugrn_core.tl as ugrn
    adata = sc.datasets.pbmc68k_reduced()                  # X scaled, log-normalised values in .raw
    ugrn.grn(adata, groupby="bulk_labels", method="|Pearson|", use_raw=True)
    adata.uns["ugrn"]["networks"]["CD14+ Monocyte"]      # source, target, weight, score, rank

All scoring goes through the functions the public API exposes (``datasets.dataset_from_genes``,
``predict.predict_edges``, the method registry's ``MethodSpec.run``); this module chooses the matrix, the genes and
the cells of each group, guards per-group statistics and stores the result.
"""

from __future__ import annotations

import time
import warnings

import anndata
import numpy as np
import pandas as pd

from .. import methods as registry
from ..probes import signs
from ..data.anndata_io import all_genes_normalised, dense, median_total, scan_matrix, select_matrix, selected_columns
from ..errors import DataError, ParameterError, first_items
from ..export import edge_table
from ..data.readers import upper_unique
from ._diff import _cells, _diff, _finish, _k, _mean, _table
from ._groups import (_groups_of, _json_safe, _score_without_model, _threshold, ds_has_tf, expression_dependent,
                      guess_species, network_key, uses_model)
from ._store import ALL_CELLS, DEFAULT_KEY, EDGE_COLUMNS, get_network  # noqa: F401 (re-exported)


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
       Model methods go through ``predict.predict_edges`` (the translator's background context for short gene lists:
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
        background: the context of model methods for short gene lists (``predict.predict_edges``; default "auto").
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
    from ..translator.artifact import load_translator

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
                translator, "projectors") else load_translator(translator)

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
    groups = _groups_of(adata, groupby)
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


def compare(adata: anndata.AnnData, group_a: str, group_b: str, *, key: str = DEFAULT_KEY, n_null: int = 5,
            seed: int = 0, top: int | None = None, alpha: float = 0.05, checkpoint=None, translator=None,
            progress=None):
    """Differential view of two groups' networks (written by ``tl.grn``), read against random halves of each group.

    Edge sets: the ``top`` best-ranked edges of each network (default: as many as genes in the larger network, i.e.
    one edge per gene). Over the union of both sets, each edge (TF → target) is
    ``kept`` (in both, same sign), ``flipped`` (in both, opposite sign of ``weight``), ``lost`` (in a's set only)
    or ``gained`` (in b's set only).

    Rank-based test: an edge's position in a network is q = (rank − 1) / (n_edges − 1) (0 = best, 1 = worst; an edge
    of a gene dropped by the group's guard counts as 1); its change is Δq = q_b − q_a. The null: each group's cells
    are split at random into two halves (``seed``, ``n_null`` repetitions per group), the method is re-run on each
    half with the same genes, TFs, matrix, normalisation and ``min_cells`` guard (``tl.grn(genes=..., tfs=...)``),
    and the same |Δq| is taken over the union of the halves' top sets. ``p_null`` = (1 + #{null |Δq| ≥ |Δq|}) /
    (1 + #null) (empirical, one-sided on |Δq|); ``beyond_null`` = ``p_null < alpha``. Halves have half the cells, so
    their networks are noisier than a whole group's: the null is conservative (it overstates the noise), and the
    whole groups' Spearman can exceed the halves'; the summary's ``halves_*`` statistics compare at equal cell counts.

    Args:
        adata: the AnnData ``tl.grn`` wrote into (same matrix, ``groupby`` column still in ``.obs``).
        group_a, group_b: two groups (categories of the ``groupby`` column, or "all cells").
        key: the ``uns`` key ``tl.grn`` wrote (default "ugrn").
        n_null: random splits per group (default 5; 0 = no null: ``p_null`` NaN).
        seed: seed of the splits (``numpy.random.default_rng``).
        top: edges per network in the compared sets (default: genes of the larger network).
        alpha: threshold of ``beyond_null``.
        checkpoint, translator: for the halves of a model method (default: the checkpoint ``tl.grn`` used, the
            bundled translator).
        progress: ``progress(done, total, message)`` per half network.

    Returns: ``(table, summary)``.
        ``table``: DataFrame, one row per edge of the union, sorted by |Δq| descending: ``source``, ``target`` (str),
        ``rank_a``, ``rank_b`` (Int64, <NA> when not scored), ``weight_a``, ``weight_b`` (float64, signed),
        ``q_a``, ``q_b``, ``delta_q`` (float64), ``status`` (categorical: gained / lost / flipped / kept),
        ``p_null`` (float64), ``beyond_null`` (bool).
        ``summary``: dict: ``method``, ``group_a``, ``group_b``, ``n_cells_a``, ``n_cells_b``, ``top``,
        ``identical_by_construction`` (bool), ``spearman`` (of q over edges scored in both), ``topk_overlap``
        (|top_a ∩ top_b| / top), ``n_gained``, ``n_lost``, ``n_flipped``, ``n_kept``, ``flip_rate`` (flipped / in
        both); the same for the null as ``null_spearman`` … (lists, one value per half pair) and their means
        ``null_spearman_mean`` …; ``halves_spearman``, ``halves_topk_overlap`` (+ ``_mean``): a's half against b's
        half of the same split (the between-group difference at the null's cell count: compare these with
        ``null_spearman`` … like for like); ``n_beyond_null``; ``n_null``, ``seed``, ``alpha``; ``note`` (text).

    An expression-free method (Ens, VVP, GDT, Emb) gives every group the same network: the table lists its top edges
    as ``kept`` with ``p_null`` 1, ``identical_by_construction`` is True and no null is computed.

    ``group_a == group_b`` is allowed: every edge is ``kept`` with Δq = 0 (a check of the machinery).

    Raises: KeyError (no ``tl.grn`` result under ``key``, or a group without a network; names those there are),
    ParameterError (bad ``top``/``n_null``/``alpha``; the ``groupby`` column gone from ``.obs``), DataError (a group
    of fewer than 4 cells to split). Halves whose guard keeps fewer than 2 genes give no network and are skipped.
    """
    if n_null < 0 or not 0 < alpha < 1:
        raise ParameterError(f"n_null={n_null!r}, alpha={alpha!r}; expected n_null ≥ 0 and 0 < alpha < 1")
    net_a, net_b = get_network(adata, group_a, key), get_network(adata, group_b, key)
    res = adata.uns[key]
    params, summ = res["params"], res["summary"]
    cells_of = dict(zip(summ["group"].astype(str), summ["n_cells"].astype(int)))
    a, b = _table(net_a), _table(net_b)
    k = _k(top, a, b)
    table, stats = _diff(a, b, k)
    summary = {"method": str(params["method"]), "group_a": str(group_a), "group_b": str(group_b),
               "n_cells_a": cells_of.get(str(group_a), 0), "n_cells_b": cells_of.get(str(group_b), 0), "top": k,
               "identical_by_construction": not bool(params["expression_dependent"]), **stats,
               "n_null": int(n_null), "seed": int(seed), "alpha": float(alpha)}
    if not params["expression_dependent"]:
        table["p_null"], table["beyond_null"] = 1.0, False
        summary.update(n_beyond_null=0, note=f"{params['method']} reads no expression: every group has the same "
                                             "network by construction; there is nothing to compare.")
        return _finish(table), summary

    null_abs, null_stats, matched = [], [], []
    if n_null:
        rng = np.random.default_rng(seed)
        tfs = sorted(set(net_a["source"].astype(str)) | set(net_b["source"].astype(str)))
        genes = [str(g) for g in params["genes"]]
        groups = list(dict.fromkeys([str(group_a), str(group_b)]))
        cells = {g: _cells(adata, params, g) for g in groups}
        for g, c in cells.items():
            if len(c) < 4:
                raise DataError(f"group {g!r} has {len(c)} cells; the null splits it into two halves: expected ≥ 4")
        total, done = len(groups) * n_null * 2, 0
        say = progress or (lambda d, t, m: None)
        for _ in range(n_null):
            halves = {}
            for g in groups:
                perm = rng.permutation(cells[g])
                half = len(perm) // 2
                nets = []
                for part in (np.sort(perm[:half]), np.sort(perm[half:2 * half])):
                    say(done, total, f"null: half of {g}")
                    r = grn(adata[part], genes=genes, tfs=tfs, method=params["method"],
                            use_raw=bool(params["use_raw"]) or None, layer=params["layer"] or None,
                            min_cells=params["min_cells"], species=params["species"], inplace=False,
                            checkpoint=checkpoint if checkpoint is not None else params["checkpoint_path"] or None,
                            translator=translator, background=params["background"] or "auto")
                    net = r["networks"].get("all cells")  # None: the half kept fewer than 2 genes
                    nets.append(None if net is None else _table(net))
                    done += 1
                halves[g] = nets
                if nets[0] is not None and nets[1] is not None:
                    d, st = _diff(nets[0], nets[1], k)
                    null_abs.append(np.abs(d["delta_q"].to_numpy()))
                    null_stats.append(st)
            if len(groups) == 2:  # a's half against b's half: the between-group difference at the null's cell count
                for x, y in zip(halves[groups[0]], halves[groups[1]]):
                    if x is not None and y is not None:
                        matched.append(_diff(x, y, k)[1])
        say(total, total, "null: done")
    if null_abs:
        pool = np.sort(np.concatenate(null_abs))
        obs = np.abs(table["delta_q"].to_numpy())
        ge = len(pool) - np.searchsorted(pool, obs - 1e-12, side="left")
        table["p_null"] = (1 + ge) / (1 + len(pool))
    else:
        table["p_null"] = np.nan
    table["beyond_null"] = (table["p_null"] < alpha).to_numpy(bool)
    for name in ("spearman", "topk_overlap", "n_gained", "n_lost", "n_flipped", "n_kept", "flip_rate"):
        vals = [s[name] for s in null_stats]
        summary[f"null_{name}"] = vals
        summary[f"null_{name}_mean"] = _mean(vals)
    for name in ("spearman", "topk_overlap"):
        summary[f"halves_{name}"] = [s[name] for s in matched]
        summary[f"halves_{name}_mean"] = _mean(summary[f"halves_{name}"])
    summary["n_beyond_null"] = int(table["beyond_null"].sum())
    summary["note"] = (f"null: {len(null_stats)} pairs of random halves of "
                       f"{' and '.join(repr(g) for g in dict.fromkeys([str(group_a), str(group_b)]))}, each re-run "
                       f"with {params['method']}" if null_stats else "no null (n_null=0 or halves without a network)")
    return _finish(table), summary
