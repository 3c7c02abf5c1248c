"""Helpers of ``tl.grn``: what a method reads (expression, the model), group keys and cells, the per-group guard, the
species guess, and scoring an expression-only method on every TF × gene pair."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from .. import methods as registry
from ..errors import ParameterError, first_items
from ..data.readers import upper_unique
from ._store import ALL_CELLS


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
    from ..sem.scoring import sem_options

    pairs = candidate_pairs(ds, tf_mode="file")
    ctx = registry.ScoringContext(dataset=ds, train_dataset=ds, train_pairs=pairs, progress=progress,
                                  cache={"sem_options": sem_options()})
    out = pairs.assign(score=spec.run(ctx, pairs))
    if not ds.has_ground_truth:
        out["label"] = np.nan
    return out.sort_values(["score", "tf", "target"], ascending=[False, True, True],
                           kind="mergesort").reset_index(drop=True)[["tf", "target", "score", "label"]]


def _groups_of(adata, groupby) -> list[tuple[str, np.ndarray]]:
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


def ds_has_tf(genes, tfs, species, data_dir) -> bool:
    """True when ``genes`` hold a TF (``tfs``, or BEELINE's TF list of ``species``)."""
    from ..config import resolve_data_dir
    from ..data.datasets import _species_tfs

    known = set(upper_unique(tfs)) if tfs is not None else _species_tfs(species, resolve_data_dir(data_dir))
    return any(g in known for g in genes)
