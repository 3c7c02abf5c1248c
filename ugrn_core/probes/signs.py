"""Signed edges from the probes: does a TF activate (+1) or repress (−1) its target, read off the frozen model?

Both probes measure how the model's reconstruction of the target gene j responds to the source (TF) gene i's input
value, in reconstruction units per expression bin (scGPT's input space, 0..50):

- **VVP slope** (UGRN Eq. 8). The VVP probe holds ``R[t, i, j] = M(v0·1^{i←t})_j − M(v0·1)_j`` for the target
  values t ∈ T (every context gene at the virtual base value v0, only the source moved to t). The slope is the
  least-squares slope of R against t over the points T ∪ {v0}, where R(v0) = 0 by definition:

      slope_ij = Σ_t (t − t̄) · R[t, i, j] / Σ_t (t − t̄)²,   t over T ∪ {v0},  t̄ their mean

  (the R − R̄ of the textbook formula is not needed: Σ_t (t − t̄) = 0). A target whose reconstruction rises with the
  TF's value has slope > 0 (activation), one that falls has slope < 0 (repression).
- **GDT mean** (UGRN Eq. 9). The GDT probe holds the Jacobian ``G[v, i, j] = ∂M(x)_j / ∂x_i`` at the virtual cells
  x = v·1 for the base values v ∈ V; its mean over V is the average local slope:

      slope_ij = (1/|V|) Σ_v ∂M(x)_j / ∂x_i |_{x = v·1}

The sign of an edge is ``sign(slope)``: +1, −1, or 0 where the slope is exactly 0 or not finite. Both read the *raw*
probe arrays (``DatasetProbes.probe``), never the normalised ones: the "context-z" feature normalisation subtracts a
mean and would move the zero.

What the sign can and cannot mean: the probes are expression-free (virtual cells), so a sign says what the frozen
model learned about the two genes in its pretraining corpus, not what the user's cells show. On simulated data whose
signs are drawn at random by the simulator the model cannot know them (expect ~50 % accuracy); the measured
accuracies are in ``docs/signs.md`` and ``benchmarks/results/signs.md``. For expression, ``pearson_r`` gives the
sign of the co-expression across the dataset's cells.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError

#: Probes whose arrays carry an edge sign (the table builder's sign source).
SIGN_PROBES = ("VVP", "GDT")


def sign_probe(method: str) -> str | None:
    """The sign-carrying probe a method reads (its spec's ``probe``: VVP and |VVP| read "VVP", GDT and |GDT| "GDT"),
    or None (Ens, Emb, translator-free peers)."""
    from .. import methods as registry

    probe = registry.get(method).probe
    return probe if probe in SIGN_PROBES else None


def vvp_slope(R: np.ndarray, target_values: Sequence[float], v0: float | None = None) -> np.ndarray:
    """Least-squares slope of VVP responses against the source's target value (UGRN Eq. 8), vectorised.

    Args:
        R: float (T, ...) responses ``R[t, ...]``, one row per target value: a probe array (T, S, S) indexed
            [t, source, target] or its gathered pairs (T, P).
        target_values: the T target values t (bin space), in the order of R's rows.
        v0: the VVP base value; when given, the point (v0, 0) joins the fit (R(v0) = 0 by Eq. 8's definition).
    Returns: float64 R.shape[1:] slopes, reconstruction units per bin:
        ``Σ_t (t − t̄) R_t / Σ_t (t − t̄)²`` over T (∪ {v0}).
    Raises: ParameterError when R's first axis does not match the target values or the values do not vary.
    """
    R = np.asarray(R, dtype=np.float64)
    t = np.asarray(target_values, dtype=np.float64)
    if R.ndim < 1 or R.shape[0] != len(t):
        raise ParameterError(f"VVP responses have {R.shape[0] if R.ndim else 0} rows but {len(t)} target values were "
                             "given; expected one row per target value (R[t, source, target], UGRN Eq. 8)")
    if v0 is not None:
        t = np.append(t, float(v0))  # R(v0) = 0: it adds to the mean of t and to Σ(t − t̄)², not to Σ(t − t̄)·R
    tc = t - t.mean()
    ss = float((tc ** 2).sum())
    if not ss > 0:
        raise ParameterError(f"target values {list(t)} do not vary: no slope can be fitted")
    return np.tensordot(tc[: R.shape[0]], R, axes=1) / ss


def gdt_mean(G: np.ndarray) -> np.ndarray:
    """Mean Jacobian over the GDT base values (UGRN Eq. 9): float64 G.shape[1:] from G float (V, ...) indexed
    [v, source, target] (or gathered pairs (V, P)); reconstruction units per bin."""
    G = np.asarray(G, dtype=np.float64)
    if G.ndim < 1 or G.shape[0] == 0:
        raise ParameterError(f"GDT array has shape {G.shape}; expected (V, ...) with at least one base value")
    return G.mean(0)


def sign_of(x: np.ndarray) -> np.ndarray:
    """int8 sign of ``x``: +1, −1, or 0 where x is 0 or not finite (NaN, inf)."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(np.isfinite(x), np.sign(x), 0).astype(np.int8)


def probe_slopes(probes, probe: str, tf_index: np.ndarray, target_index: np.ndarray, progress=None) -> np.ndarray:
    """Signed slopes (float64, (P,)) of probe ``probe`` ("VVP" or "GDT") for pairs given as indices into the probe
    arrays (``DatasetProbes.probe_index``): one gather from the cached raw array, no model call per pair."""
    if probe not in SIGN_PROBES:
        raise ParameterError(f"probe {probe!r} carries no edge sign; expected one of {', '.join(SIGN_PROBES)}")
    P = probes.probe(probe, progress)  # raw (K, S, S) [k, source, target], computed once and cached
    gathered = P[:, tf_index, target_index]  # (K, P)
    if probe == "VVP":
        return vvp_slope(gathered, probes.params.target_values, probes.params.v0)
    return gdt_mean(gathered)


def edge_signs(probes, pairs: pd.DataFrame, which: Sequence[str] = SIGN_PROBES, progress=None) -> pd.DataFrame:
    """Sign and signed slope of each TF → target pair from the model's probes.

    Args:
        probes: ``features.DatasetProbes`` of the dataset (its VVP / GDT arrays are computed and cached when absent).
        pairs: DataFrame with columns ``tf`` and ``target`` (gene symbols of the dataset, in the context).
        which: probes to read, from ``SIGN_PROBES``.
    Returns: DataFrame [tf, target, <probe>_slope (float64), <probe>_sign (int8 +1/−1/0) for each probe], pairs' order.
        VVP_slope is the least-squares slope of Eq. 8's responses over the target values (and v0); GDT_slope the mean
        of Eq. 9's Jacobian over the base values (module docstring). Both in reconstruction units per bin.
    Raises: DataError for missing columns; KeyError naming a gene outside the context; ParameterError for an
        unknown probe.
    """
    missing = {"tf", "target"} - set(pairs.columns)
    if missing:
        raise DataError(f"pairs lack column(s) {sorted(missing)}; expected a DataFrame with columns tf, target")
    i, j = probes.probe_index(pairs["tf"]), probes.probe_index(pairs["target"])
    out = pd.DataFrame({"tf": pairs["tf"].to_numpy(), "target": pairs["target"].to_numpy()})
    for probe in which:
        slope = probe_slopes(probes, probe, i, j, progress)
        out[f"{probe}_slope"] = slope
        out[f"{probe}_sign"] = sign_of(slope)
    return out


def method_signs(probes, pairs: pd.DataFrame, method: str, progress=None) -> np.ndarray | None:
    """int8 (P,) edge signs for a network predicted by ``method``, or None when the method gives no sign.

    VVP and |VVP| read the VVP slope, GDT and |GDT| the GDT mean (``sign_probe``); other methods (Ens,
    Emb, translator-free peers) return None, so the table's weight stays the unsigned score."""
    probe = sign_probe(method)
    if probe is None:
        return None
    return edge_signs(probes, pairs, (probe,), progress)[f"{probe}_sign"].to_numpy()


def pearson_r(X: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Signed Pearson correlation corr(X[:, i_p], X[:, j_p]) per pair: float64 (P,) in [−1, 1]; 0 where a gene has
    zero variance. X: float (cells, genes) expression."""
    X = np.asarray(X, dtype=np.float64)
    Z = X - X.mean(0)
    sd = np.sqrt((Z ** 2).sum(0))
    Z = np.divide(Z, sd, out=np.zeros_like(Z), where=sd > 0)
    return np.einsum("cp,cp->p", Z[:, i], Z[:, j])


def dataset_pearson_r(ds, pairs: pd.DataFrame) -> np.ndarray:
    """Signed Pearson r (float64, (P,)) of each TF → target pair across dataset ``ds``'s cells (its ``X``).

    Raises: DataError when ``ds`` has no expression or a pair gene has no expression column."""
    from ..methods.pearson import expression_matrix

    X, col = expression_matrix(ds)
    tf, tg = pairs["tf"].astype(str).str.upper(), pairs["target"].astype(str).str.upper()
    absent = sorted(set(tf[~tf.isin(col)]) | set(tg[~tg.isin(col)]))
    if absent:
        raise DataError(f"{ds.name}: {len(absent)} pair genes have no expression column (first: "
                        f"{', '.join(absent[:5])})")
    return pearson_r(X, tf.map(col).to_numpy(np.int64), tg.map(col).to_numpy(np.int64))


def sign_accuracy(predicted: np.ndarray, truth: np.ndarray) -> dict:
    """Agreement of predicted and true signs, with an exact two-sided binomial test against 0.5.

    Pairs where either sign is 0 are left out. Returns dict: n (pairs compared), correct, accuracy (NaN for n = 0),
    p (binomial p-value vs 0.5; NaN for n = 0), n_zero (pairs left out for a 0 prediction).
    """
    from scipy.stats import binomtest

    predicted, truth = np.asarray(predicted), np.asarray(truth)
    if predicted.shape != truth.shape:
        raise ParameterError(f"{predicted.shape[0]} predicted signs but {truth.shape[0]} true signs; expected one "
                             "of each per edge")
    keep = (predicted != 0) & (truth != 0)
    n = int(keep.sum())
    k = int((np.sign(predicted[keep]) == np.sign(truth[keep])).sum())
    return {"n": n, "correct": k, "accuracy": k / n if n else float("nan"),
            "p": float(binomtest(k, n, 0.5).pvalue) if n else float("nan"),
            "n_zero": int(((predicted == 0) & (truth != 0)).sum())}
