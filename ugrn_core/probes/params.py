"""Probe parameters and feature normalisation: the virtual values VVP and GDT use (``ProbeParams``: base value v0,
target values, GDT base values; bins 0..50 of scGPT's input space) and the per-context rescaling of a probe array
before pair features are gathered (``normalise_probe``). Recorded in every cache entry, translator and result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ParameterError

#: Feature normalisations within a context (``normalise_probe``): "none" = raw probe values (the paper's);
#: the default is ``ProbeParams.feature_norm``.
FEATURE_NORMS = ("none", "context-size", "context-z", "context-rank")


@dataclass(frozen=True)
class ProbeParams:
    """Virtual-cell parameters (bin space, 0..50): the one record of every probe parameter (cache keys, translators,
    results). Which method reads which field, its CLI flag and help are declared in the method's file
    (``MethodSpec.probe_options``: VVP's v0 and target values, GDT's base values); the defaults stay here, below the
    registry, so that every layer can build a default record.

    Attributes:
        v0: VVP virtual base value given to every context gene (Eq. 8).
        target_values: the source gene's VVP target values T (8 in the paper); v0 itself would give zeros.
        base_values: GDT virtual base values V, ordered (Eq. 9; 8 in the paper).
        feature_norm: how the pairwise probe arrays (VVP, GDT, Pert) are normalised within their context before
            pair features are gathered, one of ``FEATURE_NORMS`` (``normalise_probe``); it does not change the
            probes themselves, so it is not part of their cache key. Default "context-z": on the paper protocol it
            raised Ens AUPRC by +0.017 ± 0.001 over raw features ("none", the paper's), paired over 5 seeds
            (``benchmarks/results/levers.md``).
    """

    v0: float = 25.0
    target_values: tuple[float, ...] = (0.0, 5.0, 10.0, 15.0, 35.0, 40.0, 45.0, 50.0)
    base_values: tuple[float, ...] = (5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0)
    feature_norm: str = "context-z"

    #: Virtual values live in scGPT's bin space: 0 (not expressed) .. 50 (top bin of the 51 used in pretraining).
    VALUE_RANGE = (0.0, 50.0)

    def __post_init__(self):
        lo, hi = self.VALUE_RANGE
        for name, values in (("v0", (self.v0,)), ("target_values", self.target_values), ("base_values", self.base_values)):
            if len(values) == 0:
                raise ParameterError(f"{name}: no value given; expected at least one virtual value in {lo:g}..{hi:g}")
            bad = [v for v in values if not (np.isfinite(v) and lo <= v <= hi)]
            if bad:
                raise ParameterError(f"{name}: {', '.join(f'{v:g}' for v in bad)} outside the virtual-value range "
                                     f"{lo:g}..{hi:g} (scGPT's expression bins; 0 = not expressed)")
        if self.feature_norm not in FEATURE_NORMS:
            raise ParameterError(f"feature_norm: {self.feature_norm!r} is not a feature normalisation; expected one "
                                 f"of {', '.join(FEATURE_NORMS)}")

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict | None) -> "ProbeParams":
        """Parameters from a dict (missing keys take the defaults). Raises ParameterError for non-numbers or
        values outside 0..50, and for an unknown ``feature_norm``."""
        d = dict(d or {})
        try:
            v0 = float(d.get("v0", cls.v0))
            target_values = tuple(float(x) for x in d.get("target_values", cls.target_values))
            base_values = tuple(float(x) for x in d.get("base_values", cls.base_values))
        except (TypeError, ValueError) as e:
            raise ParameterError(f"probe parameters {d}: expected numbers in 0..50 ({e})") from None
        return cls(v0=v0, target_values=target_values, base_values=base_values,
                   feature_norm=str(d.get("feature_norm", cls.feature_norm)))


def normalise_probe(P: np.ndarray, mode: str, reference: tuple | None = None) -> np.ndarray:
    """A pairwise probe array normalised within its context, so that contexts of different sizes give features on
    one scale.

    Args:
        P: float (K, N, N) probe array ``P[k, source, target]`` over the N context genes (VVP R[t, i, j], Eq. 8;
            GDT ∂M_j/∂x_i, Eq. 9; Pert, Eq. 6). The diagonal (a gene on itself) is never a pair and is ignored.
        mode: one of ``FEATURE_NORMS``:
            - "none": P unchanged (the paper's raw features);
            - "context-size": P · N. Responses shrink about as 1/N (one of N attention keys moves); after the
              translator's own standardisation by the training features this equals the 1/N context scaling
              P · N / N_train, so N_train need not be known;
            - "context-z": each slice k standardised over the N(N−1) off-diagonal entries (every ordered candidate
              pair of the context): (P[k] − mean_k) / std_k (std 0 → 1);
            - "context-rank": each slice k rank-transformed over those entries to normal scores
              Φ⁻¹((rank − 0.5) / (N(N−1))) (ties share their mean rank), robust to heavy tails.
        reference: for "context-z" only: (means (K,), stds (K,)) to standardise with instead of P's own statistics
            (a background context, ``DatasetProbes.normalised_probe``).
    Returns: float32 (K, N, N); the diagonal is 0 for "context-z" and "context-rank".
    Raises: ParameterError for an unknown mode or an array that is not (K, N, N).
    """
    from scipy.special import ndtri
    from scipy.stats import rankdata

    if mode not in FEATURE_NORMS:
        raise ParameterError(f"feature_norm: {mode!r} is not a feature normalisation; expected one of "
                             f"{', '.join(FEATURE_NORMS)}")
    P = np.asarray(P, dtype=np.float32)
    if P.ndim != 3 or P.shape[1] != P.shape[2]:
        raise ParameterError(f"probe array has shape {P.shape}; expected (K, N, N)")
    n = P.shape[1]
    if mode == "none":
        return P
    if mode == "context-size":
        return P * np.float32(n)
    off = ~np.eye(n, dtype=bool)
    out = np.zeros_like(P)
    for k in range(P.shape[0]):
        v = P[k][off].astype(np.float64)
        if mode == "context-z":
            mu, sd = (v.mean(), v.std()) if reference is None else (reference[0][k], reference[1][k])
            z = (v - mu) / (sd if sd > 0 else 1.0)
        else:
            z = ndtri((rankdata(v) - 0.5) / len(v)) if len(v) else v
        out[k][off] = z
    return out
