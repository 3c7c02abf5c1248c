"""RegDiffusion (Zhu & Slonim 2024, "Improved gene regulatory network inference from single-cell data with
dissipative dynamics", J. Comput. Biol.; package ``regdiffusion`` 0.2.3): a diffusion model whose denoiser holds a
learnable gene × gene adjacency; after training, the adjacency (rows = regulators, columns = targets, scaled by the
package's "regulatory norm") scores the edge i → j. A peer run within each test dataset on its own expression, no
labels.

Settings: the package's defaults (T 5000 diffusion steps, 1000 training steps, hidden dims 16-16-16, batch 128,
sparse-loss coefficient 0.25, adjacency dropout 0.3), ``device`` = CUDA when torch sees one, else CPU, seed 0. Input:
the dataset's expression as given (BEELINE's files are already log-normalised, which is what RegDiffusion expects).
Cost: about 3–6 min per 1k-gene dataset on 2 CPU cores (notes/libraries.md); the adjacency is cached on disk per
expression matrix and seed, so the four networks of one cell type share one run. The package's training logs go to
a temporary folder, never the working directory.

Requires the optional extra ``peers`` (``pip install regdiffusion==0.2.3``); without it scoring raises an error that
names the install command.
"""

from __future__ import annotations

import contextlib
import io
import tempfile

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ._peer_matrix import cached_peer_matrix, expression_fingerprint, peer_scores, sorted_expression
from .base import Family, MethodSpec, ScoringContext

SETTINGS = {"n_steps": 1000, "T": 5000, "hidden_dims": [16, 16, 16], "batch_size": 128, "seed": 0}


def regdiffusion_adjacency(X: np.ndarray, seed: int = 0, device: str | None = None, n_steps: int = 1000) -> np.ndarray:
    """RegDiffusion adjacency float64 (genes, genes): entry [i, j] scores gene i → gene j (diagonal 0).

    Args:
        X: expression float (cells, genes), log-normalised.
        seed: RegDiffusion's seed (torch and its batch sampler).
        device: "cpu" or "cuda"; default CUDA when available.
        n_steps: training steps (the package's default 1000).
    Raises:
        ParameterError: regdiffusion is not installed (names the install command), or X is not 2-D with ≥ 2 genes.
    """
    try:
        import regdiffusion as rd
    except ImportError:
        raise ParameterError("RegDiffusion needs the optional package regdiffusion: "
                             "pip install regdiffusion==0.2.3 (or the project's extra: pip install '.[peers]')") from None
    import torch

    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ParameterError(f"RegDiffusion: expression of shape {X.shape}; expected (cells, genes) with ≥ 2 genes")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    # its logs go to a temporary folder; its per-step tqdm bar (one line per step in a log) is silenced
    with tempfile.TemporaryDirectory(prefix="ugrn-regdiffusion-") as logs, contextlib.redirect_stderr(io.StringIO()):
        trainer = rd.RegDiffusionTrainer(X, device=device, n_steps=n_steps, seed=seed,
                                         logger=rd.LightLogger(result_dir=logs))
        trainer.train()
        A = np.asarray(trainer.get_adj(), dtype=np.float64)
    np.fill_diagonal(A, 0.0)
    return A


def _cached_matrix(ds, seed: int = 0) -> tuple[np.ndarray, dict]:
    """RegDiffusion adjacency float64 (n_genes, n_genes) of dataset ``ds`` (disk-cached) and gene → row/column."""
    X, col = sorted_expression(ds)
    genes = list(col)
    A = cached_peer_matrix(
        "RegDiffusion", (SETTINGS, seed, genes, *expression_fingerprint(X)),
        lambda: regdiffusion_adjacency(X, seed=seed, n_steps=SETTINGS["n_steps"]),
        {"dataset": ds.name, "n_cells": int(X.shape[0]), "n_genes": len(genes), "seed": seed, **SETTINGS})
    return A, col


def _score(ctx: ScoringContext, pairs: pd.DataFrame) -> np.ndarray:
    def load():
        A, col = _cached_matrix(ctx.dataset, SETTINGS["seed"])  # fixed seed: a deterministic peer
        return A, col, col  # regulators and targets share the gene axis

    return peer_scores(ctx, pairs, "regdiffusion", load)


SPEC = MethodSpec(
    name="RegDiffusion",
    family=Family.EXPRESSION_UNSUPERVISED,
    description="peer: RegDiffusion diffusion-model adjacency learnt on the dataset's expression",
    reference="Zhu & Slonim 2024 (regdiffusion 0.2.3 defaults)",
    needs_expression=True,
    score=_score,
    order=820.0,
    roles=("summary column", "deep expression peer"),
)
