"""Two groups' networks side by side: edges gained, lost and sign-flipped, against the noise of random halves.

``compare`` reads the networks ``tl.grn`` wrote for two groups and, for methods that read expression, re-runs the same
method (same genes, TFs, matrix, guard) on random halves of each group's cells: the difference between two halves of
one group is what sampling cells alone produces, the null the observed difference is read against.
"""

from __future__ import annotations

import anndata
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ..data.readers import first_items
from ..errors import DataError, ParameterError
from ._grn import DEFAULT_KEY, get_network, grn

STATUSES = ("gained", "lost", "flipped", "kept")


def _table(net: pd.DataFrame) -> pd.DataFrame:
    """source, target, weight, q (0 = best .. 1 = worst: (rank - 1) / (n - 1)) of a network, indexed by edge."""
    n = len(net)
    q = (net["rank"].to_numpy(np.float64) - 1) / max(n - 1, 1)
    out = pd.DataFrame({"rank": net["rank"].to_numpy(np.int64), "weight": net["weight"].to_numpy(np.float64), "q": q},
                       index=pd.MultiIndex.from_arrays([net["source"].astype(str), net["target"].astype(str)],
                                                       names=["source", "target"]))
    return out


def _k(top, a: pd.DataFrame, b: pd.DataFrame) -> int:
    if top is not None:
        if int(top) < 1:
            raise ParameterError(f"top={top!r}; expected a positive number of edges, or None")
        return int(top)
    genes = lambda t: len(set(t.index.get_level_values(0)) | set(t.index.get_level_values(1)))  # noqa: E731
    return max(genes(a), genes(b))


def _diff(a: pd.DataFrame, b: pd.DataFrame, k: int):
    """The edge-by-edge view of network a → b: the union of both top-k edge sets with ranks, weights, status, |Δq|;
    and the pair's statistics (Spearman over shared edges, top-k overlap, counts per status, flip rate)."""
    ta, tb = a[a["rank"] <= k], b[b["rank"] <= k]
    idx = ta.index.union(tb.index)
    out = pd.DataFrame(index=idx)
    for name, t in (("a", a), ("b", b)):
        j = t.reindex(idx)
        out[f"rank_{name}"] = j["rank"].astype("Int64")
        out[f"weight_{name}"] = j["weight"]
        out[f"q_{name}"] = j["q"].fillna(1.0)  # not scored in that network (a gene below the guard): worst
    in_a, in_b = idx.isin(ta.index), idx.isin(tb.index)
    flip = in_a & in_b & (np.sign(out["weight_a"].to_numpy()) * np.sign(out["weight_b"].to_numpy()) < 0)
    status = np.where(in_a & in_b, np.where(flip, "flipped", "kept"), np.where(in_a, "lost", "gained"))
    out["status"] = pd.Categorical(status, categories=list(STATUSES))
    out["delta_q"] = (out["q_b"] - out["q_a"]).to_numpy(np.float64)
    shared = a.index.intersection(b.index)
    rho = float(spearmanr(a.loc[shared, "q"], b.loc[shared, "q"]).statistic) if len(shared) > 2 else float("nan")
    both = int((in_a & in_b).sum())
    stats = {"spearman": rho, "topk_overlap": both / k, "n_gained": int((status == "gained").sum()),
             "n_lost": int((status == "lost").sum()), "n_flipped": int(flip.sum()), "n_kept": int((status == "kept").sum()),
             "flip_rate": float(flip.sum() / both) if both else float("nan")}
    return out, stats


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


def _mean(vals) -> float:
    vals = np.asarray(vals, dtype=np.float64)
    return float(np.nanmean(vals)) if vals.size and not np.isnan(vals).all() else float("nan")


def _cells(adata, params, group: str) -> np.ndarray:
    """Row indices of ``group``'s cells (all cells for "all cells")."""
    from ._grn import ALL_CELLS

    if group == ALL_CELLS:
        return np.arange(adata.n_obs)
    col = params["groupby"]
    if not col or col not in adata.obs.columns:
        raise ParameterError(f"the groupby column {col!r} that tl.grn used is not in .obs; columns: "
                             f"{first_items(adata.obs.columns, 20)}.")
    return np.flatnonzero(adata.obs[col].astype(str).to_numpy() == group)


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    out = table.reset_index()
    order = np.lexsort((out["target"].to_numpy(), out["source"].to_numpy(), -np.abs(out["delta_q"].to_numpy())))
    cols = ["source", "target", "rank_a", "rank_b", "weight_a", "weight_b", "q_a", "q_b", "delta_q", "status",
            "p_null", "beyond_null"]
    return out.iloc[order][cols].reset_index(drop=True)
