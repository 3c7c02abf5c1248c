"""InfoSEM (Cui et al., ICML 2025): DeepSEM with informative priors on the adjacency A.

- InfoSEM-B (paper Eq. 9, ELBO Eq. 14): a_ik ~ Laplace([h_i, h_k] wᵀ, σ_a), w ~ N(0, σ_w² I); A and w by MAP.
  The prior mean is computed as h_i·w₁ + h_k·w₂ (``prior_mean``), O(P·d) instead of O(P²·d).
- InfoSEM-BC (Eqs. 10–13, ELBO Eq. 15): A = Aᵉ ⊙ σ(Aˡ) with Aᵉ under the Eq. 9 prior and a low-rank logit
  Aˡ = Aˡ_a Aˡ_b (P × h by h × P, h = 128 or the TF count if smaller) whose entries have a Gaussian prior
  N(logit 0.95, σ_l²) at known positives, N(logit 0.05, σ_l²) at known negatives and a flat prior elsewhere.
  Known edges must come from the training split only (the caller passes them; ``LabelPrior`` stores exactly those).

Scaling (our choice; the paper gives none): every log-prior term is divided by P², the normalisation of DeepSEM's
α·mean|A|, so the Laplace term is α·mean|A − M| (α ∝ 1/σ_a, DeepSEM's value), the weight prior is
‖w‖² / (2 σ_w² P²) and the label prior Σ_known (aˡ − μ)² / (2 σ_l² P²). Gene embeddings are standardised per dimension
and divided by √d (``normalise_embeddings``) so ``[h_i, h_k] wᵀ`` has the scale ‖w‖/√2 whatever the embedding.
The prior mean has an intercept b (``M = b + h_i·w₁ + h_k·w₂``; b under the same N(0, σ_w²) prior as w, i.e. the
weight of a constant embedding dimension): standardised embeddings sum to zero over genes, so without it the gradient
of Σ|a_ik − M_ik| on w vanishes while every a_ik lies above M, which is where DeepSEM's initialisation puts them
all; measured before the intercept was added, InfoSEM-B's A stayed bit-identical to DeepSEM's (the paper's BioBERT
embeddings are not centred, so their mean plays this part there). b starts at 1/(P − 1), the level of DeepSEM's
initial A (started at 0 it trails A, which rises during the fit, and the tie persists); w starts at 0; Aᵉ starts at
DeepSEM's A initialisation divided by σ(0) = 0.5 so that A starts where DeepSEM's does; Aˡ factors start at
N(0, 0.1²). Optimiser: the adjacency RMSprop (0.2 × lr) for Aᵉ, w and b; the logit factors get
``logit_lr_factor`` × lr (default 10 × the network lr), because at DeepSEM's adjacency rate a logit could move by
only ≈ 0.04 in a whole fit and the label prior would have no effect (our choice).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from torch import nn

from .deepsem import AdjacencyPrior

LOGIT_POS, LOGIT_NEG = math.log(0.95 / 0.05), math.log(0.05 / 0.95)
PRIOR_FORM = "intercept"  # part of the fit cache key: fits made before the intercept are not reused


def normalise_embeddings(H: np.ndarray) -> np.ndarray:
    """Standardise gene embeddings per dimension (constant dimensions → 0) and divide by √d: float32 (P, d).

    Raises: ValueError when H is not 2-D or not finite.
    """
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or not np.isfinite(H).all():
        raise ValueError(f"gene embeddings must be a finite (genes, dim) array, got shape {H.shape}")
    sd = H.std(0)
    Hs = np.where(sd > 1e-12, (H - H.mean(0)) / np.where(sd > 1e-12, sd, 1.0), 0.0)
    return (Hs / math.sqrt(H.shape[1])).astype(np.float32)


def prior_mean(H: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """Eq. 9 prior mean M[i, k] = [h_i, h_k] wᵀ = h_i·w₁ + h_k·w₂, float (P, P); H (P, d), w₁, w₂ (d,)."""
    return (H @ w1)[:, None] + (H @ w2)[None, :]


class LabelPrior:
    """Known edges for InfoSEM-BC's logit prior (Eq. 13), from the training split only.

    Args:
        genes: the P genes of the fitted matrix (order of A's rows and columns).
        pairs: DataFrame [tf, target, label] of *training* pairs (label 1 positive, 0 negative); pairs whose genes are
            not in ``genes`` are ignored; duplicated pairs keep the last label.
        sigma_l: prior standard deviation of a known logit, > 0.

    Attributes: rows, cols int64 (K,), target float32 (K,) (logit 0.95 or logit 0.05), sigma_l, n_pos, n_neg.
    Raises: ValueError for a missing column, labels other than 0/1, or sigma_l ≤ 0.
    """

    def __init__(self, genes, pairs: pd.DataFrame, sigma_l: float):
        missing = {"tf", "target", "label"} - set(pairs.columns)
        if missing:
            raise ValueError(f"known-edge pairs lack columns {sorted(missing)}; expected tf, target, label")
        if not sigma_l > 0:
            raise ValueError(f"sigma_l must be > 0, got {sigma_l!r}")
        lab = pairs["label"].to_numpy()
        if not np.isin(lab, (0, 1)).all():
            raise ValueError("known-edge labels must be 0/1")
        pos = {g: i for i, g in enumerate(genes)}
        keep = pairs["tf"].isin(pos) & pairs["target"].isin(pos) & (pairs["tf"] != pairs["target"])
        p = pairs.loc[keep].drop_duplicates(["tf", "target"], keep="last")
        self.rows = p["tf"].map(pos).to_numpy(np.int64)
        self.cols = p["target"].map(pos).to_numpy(np.int64)
        y = p["label"].to_numpy()
        self.target = np.where(y == 1, LOGIT_POS, LOGIT_NEG).astype(np.float32)
        self.sigma_l = float(sigma_l)
        self.n_pos, self.n_neg = int((y == 1).sum()), int((y == 0).sum())
        self.pairs = set(zip(p["tf"], p["target"]))


class InfoSEMPrior(AdjacencyPrior):
    """Adjacency of InfoSEM-B (``labels=None``) or InfoSEM-BC (``labels`` given); see the module docstring.

    Args:
        n_genes: P.
        generator: torch generator for the initialisation.
        embeddings: float (P, d) gene embeddings H, already normalised (``normalise_embeddings``).
        sigma_w: prior standard deviation of w, > 0.
        labels: ``LabelPrior`` or None.
        rank: rank h of Aˡ (BC only), ≥ 1.
        logit_lr: learning rate of the logit factors (used through ``param_groups``).
    """

    def __init__(self, n_genes: int, generator: torch.Generator, embeddings: np.ndarray, sigma_w: float,
                 labels: LabelPrior | None = None, rank: int = 128, logit_lr: float = 1e-3):
        super().__init__(n_genes, generator)
        H = torch.as_tensor(np.asarray(embeddings, dtype=np.float32))
        if H.shape[0] != n_genes:
            raise ValueError(f"embeddings have {H.shape[0]} rows for {n_genes} genes")
        if not sigma_w > 0:
            raise ValueError(f"sigma_w must be > 0, got {sigma_w!r}")
        self.register_buffer("H", H)
        self.sigma_w = float(sigma_w)
        d = H.shape[1]
        self.w1 = nn.Parameter(torch.zeros(d))
        self.w2 = nn.Parameter(torch.zeros(d))
        self.b = nn.Parameter(torch.tensor(1.0 / max(n_genes - 1, 1)))  # where DeepSEM's A starts
        self.labels = labels
        self.logit_lr = logit_lr
        if labels is not None:
            with torch.no_grad():
                self.A.mul_(2.0)  # σ(Aˡ ≈ 0) = 0.5: A = Aᵉ ⊙ σ(Aˡ) starts at DeepSEM's initial A
            self.La = nn.Parameter(torch.randn(n_genes, rank, generator=generator) * 0.1)
            self.Lb = nn.Parameter(torch.randn(rank, n_genes, generator=generator) * 0.1)
            self.register_buffer("rows", torch.as_tensor(labels.rows))
            self.register_buffer("cols", torch.as_tensor(labels.cols))
            self.register_buffer("ltarget", torch.as_tensor(labels.target))

    def param_groups(self, adj_lr: float) -> list[dict]:
        """Optimiser groups: Aᵉ, w and b at the adjacency rate, the logit factors at ``logit_lr``."""
        groups = [{"params": [self.A, self.w1, self.w2, self.b], "lr": adj_lr}]
        if self.labels is not None:
            groups.append({"params": [self.La, self.Lb], "lr": self.logit_lr})
        return groups

    def effect(self) -> torch.Tensor:
        """Aᵉ (InfoSEM-B: A itself), zero diagonal, (P, P)."""
        return self.A * self.offdiag

    def logits(self) -> torch.Tensor:
        """Aˡ = Aˡ_a Aˡ_b (P, P); raises AttributeError for InfoSEM-B."""
        return self.La @ self.Lb

    def adjacency(self) -> torch.Tensor:
        if self.labels is None:
            return self.effect()
        return self.effect() * torch.sigmoid(self.logits())

    def mean(self) -> torch.Tensor:
        """The Eq. 9 prior mean of Aᵉ plus the intercept b, (P, P), zero diagonal."""
        return (prior_mean(self.H, self.w1, self.w2) + self.b) * self.offdiag

    def terms(self, alpha: float) -> dict[str, torch.Tensor]:
        P2 = float(self.offdiag.shape[0]) ** 2
        out = {"laplace": alpha * (self.effect() - self.mean()).abs().mean(),
               "w_prior": (self.w1.square().sum() + self.w2.square().sum() + self.b.square())
               / (2 * self.sigma_w ** 2 * P2)}
        if self.labels is not None:
            L = self.logits()[self.rows, self.cols]  # Aˡ at the known pairs (one P×h×P product beats a K×h gather)
            out["label_prior"] = ((L - self.ltarget) ** 2).sum() / (2 * self.labels.sigma_l ** 2 * P2)
        return out


def make_infosem_prior(embeddings: np.ndarray, sigma_w: float, labels: LabelPrior | None = None, rank: int = 128,
                       logit_lr: float = 1e-3):
    """A ``make_prior`` for ``deepsem.fit_sem``: ``(P, generator) -> InfoSEMPrior`` (embeddings normalised here)."""
    H = normalise_embeddings(embeddings)

    def make(n_genes: int, generator: torch.Generator) -> InfoSEMPrior:
        return InfoSEMPrior(n_genes, generator, H, sigma_w, labels, rank, logit_lr)

    return make
