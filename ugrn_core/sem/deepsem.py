"""DeepSEM (Shu et al., Nat. Comput. Sci. 2021): a β-VAE whose latent passes through a linear structural-equation layer.

Generative model (InfoSEM Eq. 4, DeepSEM Eq. 2–3), row-vector form for a batch of cells Z (B, P):
the encoder maps each gene's value x_ij to (μ_ij, log σ²_ij) with one small MLP shared by all genes; both are
multiplied by (I − A) (the noise of the SEM: ε = Z (I − A)); a sample ε̃ is drawn, mapped back with (I − A)⁻¹ and
decoded per gene by a second shared MLP. ``A[i, k]`` is the effect of gene i (regulator, row) on gene k (target,
column), as in the InfoSEM paper (``a_ik``: "interaction effect from gene i to gene k"); the diagonal is fixed at 0.

Loss (minimised; DeepSEM ``main.py``): reconstruction MSE (mean over entries; in cell-type-specific mode only over
non-zero entries) + β · KL[q(ε|x) ‖ N(0, I)] (mean over entries) + the adjacency prior term, which for DeepSEM is
α · mean|A| (a Laplace(0, σ_a) prior, α ∝ 1/σ_a) and for InfoSEM is supplied by an ``AdjacencyPrior``
(``ugrn_core.sem.infosem``).

Settings and their sources (``SEMConfig``; DeepSEM repository HantaoShu/DeepSEM commit 89c41a3, ``main.py``,
``src/Model.py``, ``Hyperparameter.MD``):
- hidden 128, one latent per gene, batch 64, RMSprop lr 1e-4 for the networks and 0.2 × lr for the adjacency;
  StepLR γ 0.95 every epoch on the networks' optimiser only (the adjacency's learning rate is not decayed: the
  released ``src/DeepSEM_cell_type_*_GRN_model.py`` attach no scheduler to it); epochs alternate K1 = 1 network
  epoch and K2 = 2 adjacency epochs (``main.py``);
- A initialised to 1/(P − 1) + U(0, 2e-4) with a zero diagonal; linear layers Xavier-normal with zero biases
  (``src/Model.py``);
- cell-type-specific ChIP ground truth: α 1, β 0.1, 150 epochs, MSE on non-zero entries with genes standardised by
  the mean/std of their non-zero values and clipped at ±10 (α 0.1 and β 0.01 for hESC and mHSC-E); non-specific /
  STRING: α 100, β 1, 90 epochs, plain z-scores (``Hyperparameter.MD``). ``SEMConfig.for_ground_truth`` returns
  these.
- The edge score is |A| averaged over an ensemble of ``n_runs`` fits (DeepSEM's README recommends 10).
Deviations, stated: the KL is the analytic KL to a standard normal (DeepSEM uses a learned one-component Gaussian
mixture prior with a Monte-Carlo KL); no input dropout; genes with zero variance (or, in non-zero mode, fewer than
two non-zero cells) are kept with all-zero standardised values, so they cannot make A NaN.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass, replace
from typing import Callable

import numpy as np
import torch
from torch import nn

ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SEMConfig:
    """Hyper-parameters of a DeepSEM / InfoSEM fit (defaults: DeepSEM's cell-type-specific preset).

    Attributes:
        alpha: weight of the sparsity (Laplace) term on A, ≥ 0 (∝ 1/σ_a).
        beta: weight of the KL term, ≥ 0.
        epochs: training epochs, ≥ 1 (networks and adjacency alternate K1:K2 epochs).
        hidden: hidden units of the shared per-gene encoder and decoder MLPs.
        batch_size: cells per step.
        lr: RMSprop learning rate of the networks; the adjacency uses ``lr_adj_factor`` × lr.
        lr_adj_factor: 0.2 in DeepSEM.
        gamma: per-epoch StepLR decay of the networks' learning rate.
        adj_gamma: per-epoch decay of the adjacency's learning rate (DeepSEM: 1.0, none).
        k1, k2: network and adjacency epochs per cycle.
        nonzero_only: cell-type-specific mode (MSE on non-zero entries, non-zero standardisation).
        n_runs: ensemble size; the score is the mean |A| over runs (seeds seed, seed+1, ...).
    """

    alpha: float = 1.0
    beta: float = 0.01
    epochs: int = 150
    hidden: int = 128
    batch_size: int = 64
    lr: float = 1e-4
    lr_adj_factor: float = 0.2
    gamma: float = 0.95
    adj_gamma: float = 1.0
    k1: int = 1
    k2: int = 2
    nonzero_only: bool = True
    n_runs: int = 1

    @classmethod
    def for_ground_truth(cls, network: str | None, cell: str | None = None, **overrides) -> "SEMConfig":
        """DeepSEM's published preset for a BEELINE ground truth (see the module docstring), then ``overrides``.

        ``network`` "Specific" → cell-type-specific preset (α 1, β 0.1; α 0.1, β 0.01 for hESC and mHSC-E); anything
        else (Non-Specific, STRING, Lofgof, None) → the non-specific preset (α 100, β 1, 90 epochs, z-scores).
        """
        if network == "Specific":
            low = cell in ("hESC", "mHSC-E")
            base = cls(alpha=0.1 if low else 1.0, beta=0.01 if low else 0.1, epochs=150, nonzero_only=True)
        else:
            base = cls(alpha=100.0, beta=1.0, epochs=90, nonzero_only=False)
        return replace(base, **overrides)

    def to_dict(self) -> dict:
        return asdict(self)


def standardise(X: np.ndarray, nonzero_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """Standardise expression per gene as DeepSEM does.

    Args:
        X: float (N cells, P genes), log-scale expression.
        nonzero_only: True: centre/scale by the mean/std of each gene's non-zero values, keep zeros at 0 and return
            the non-zero mask; False: plain z-scores and an all-True mask.

    Returns:
        (Xs float32 (N, P) clipped to ±10, mask bool (N, P)). Genes with zero spread (or < 2 non-zero values in
        non-zero mode) get all-zero values instead of NaN.

    Raises:
        ValueError: X not 2-D or not finite.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or not np.isfinite(X).all():
        raise ValueError(f"expression must be a finite 2-D cells × genes array; got shape {X.shape}, "
                         f"{int((~np.isfinite(X)).sum()) if X.ndim == 2 else '?'} non-finite values")
    if nonzero_only:
        mask = X != 0
        cnt = mask.sum(0)
        mean = np.where(cnt > 0, (X * mask).sum(0) / np.maximum(cnt, 1), 0.0)
        var = np.where(cnt > 1, (((X - mean) * mask) ** 2).sum(0) / np.maximum(cnt - 1, 1), 0.0)
        std = np.sqrt(var)
        ok = std > 1e-8
        Xs = np.where(mask & ok, (X - mean) / np.where(ok, std, 1.0), 0.0)
    else:
        mask = np.ones_like(X, dtype=bool)
        std = X.std(0)
        ok = std > 1e-8
        Xs = np.where(ok, (X - X.mean(0)) / np.where(ok, std, 1.0), 0.0)
    return np.clip(Xs, -10, 10).astype(np.float32), mask


class AdjacencyPrior(nn.Module):
    """DeepSEM's adjacency: a free P × P matrix with zero diagonal and a Laplace(0, σ_a) prior (α · mean|A|).

    Subclasses (``ugrn_core.sem.infosem``) change how A is parameterised and its prior. Contract:
    ``adjacency() -> (P, P)`` with a zero diagonal; ``prior_loss(alpha) -> scalar`` (negative log prior divided by P²,
    the normalisation of DeepSEM's mean|A|); ``terms(alpha) -> dict`` of named scalar parts of that loss.
    """

    def __init__(self, n_genes: int, generator: torch.Generator):
        super().__init__()
        P = n_genes
        init = torch.full((P, P), 1.0 / max(P - 1, 1)) + torch.rand(P, P, generator=generator) * 2e-4
        self.register_buffer("offdiag", 1.0 - torch.eye(P))
        self.A = nn.Parameter(init * self.offdiag)

    def adjacency(self) -> torch.Tensor:
        return self.A * self.offdiag

    def terms(self, alpha: float) -> dict[str, torch.Tensor]:
        return {"sparsity": alpha * self.adjacency().abs().mean()}

    def prior_loss(self, alpha: float) -> torch.Tensor:
        return sum(self.terms(alpha).values())


class SEMVAE(nn.Module):
    """The DeepSEM network: shared per-gene encoder/decoder MLPs (1 → hidden → hidden → ·, tanh) around (I − A);
    weights drawn from ``generator`` (Xavier-normal, zero biases), so a fit's seed fixes its initialisation."""

    def __init__(self, hidden: int, adjacency: AdjacencyPrior, generator: torch.Generator | None = None):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                     nn.Linear(hidden, 2))
        self.decoder = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                     nn.Linear(hidden, 1))
        self.adj = adjacency
        for m in (*self.encoder, *self.decoder):  # DeepSEM src/Model.py: Xavier-normal weights, zero biases
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight, generator=generator)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """x float (B, P) → (reconstruction (B, P), μ (B, P), log σ² (B, P)) of the SEM noise ε."""
        B, P = x.shape
        I = torch.eye(P, dtype=x.dtype, device=x.device)
        A = self.adj.adjacency()
        m = I - A
        h = self.encoder(x.reshape(-1, 1)).reshape(B, P, 2)
        mu, logvar = h[..., 0] @ m, h[..., 1] @ m
        eps = torch.randn(mu.shape, generator=generator, device=x.device, dtype=x.dtype)
        e = mu + eps * torch.exp(0.5 * logvar)
        z = torch.linalg.solve(m, e, left=False)  # z (I − A) = ε  →  z = ε (I − A)⁻¹
        out = self.decoder(z.reshape(-1, 1)).reshape(B, P)
        return out, mu, logvar


@dataclass
class SEMFit:
    """Outcome of ``fit_sem``.

    Attributes:
        adjacency: float64 (P, P), mean over runs of the learned A (signed; row = regulator, column = target).
        abs_adjacency: float64 (P, P), mean over runs of |A| (the edge score).
        history: per run, per epoch dict of mean loss terms (recon, kl, and the prior's terms).
        seconds: wall time of the whole fit.
        config: the SEMConfig as a dict.
    """

    adjacency: np.ndarray
    abs_adjacency: np.ndarray
    history: list
    seconds: float
    config: dict


def fit_sem(X: np.ndarray, config: SEMConfig = SEMConfig(), make_prior: Callable[[int, torch.Generator], AdjacencyPrior]
            | None = None, seed: int = 0, progress: ProgressFn | None = None, desc: str = "SEM fit") -> SEMFit:
    """Fit DeepSEM (or InfoSEM, through ``make_prior``) to an expression matrix.

    Args:
        X: float (N cells, P genes), log-scale expression (standardised here, see ``standardise``); N ≥ 2, P ≥ 2.
        config: hyper-parameters.
        make_prior: ``(P, torch.Generator) -> AdjacencyPrior``; default DeepSEM's Laplace(0) prior.
        seed: seed of run 0 (run r uses seed + r); controls initialisation, batching and the VAE noise.
        progress: ``progress(done, total, message)`` once per epoch.

    Returns:
        SEMFit. Training runs on CPU in float32 with the current torch thread settings.

    Raises:
        ValueError: too few cells or genes, or non-finite expression; FloatingPointError if the loss becomes NaN.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 2:
        raise ValueError(f"DeepSEM needs a cells × genes matrix with ≥ 2 cells and ≥ 2 genes; got shape {X.shape}")
    Xs, mask = standardise(X, config.nonzero_only)
    xt, mt = torch.from_numpy(Xs), torch.from_numpy(mask.astype(np.float32))
    N, P = Xs.shape
    make_prior = make_prior or AdjacencyPrior
    t0 = time.perf_counter()
    adj_sum, abs_sum, histories = np.zeros((P, P)), np.zeros((P, P)), []
    total = config.n_runs * config.epochs
    for run in range(config.n_runs):
        g = torch.Generator().manual_seed(int(seed) + run)
        model = SEMVAE(config.hidden, make_prior(P, g), g)
        adj_params = list(model.adj.parameters())
        adj_ids = {id(p) for p in adj_params}
        net_params = [p for p in model.parameters() if id(p) not in adj_ids]
        opt_net = torch.optim.RMSprop(net_params, lr=config.lr)
        groups = getattr(model.adj, "param_groups", None)
        opt_adj = torch.optim.RMSprop(groups(config.lr * config.lr_adj_factor) if groups else adj_params,
                                      lr=config.lr * config.lr_adj_factor)
        scheds = [torch.optim.lr_scheduler.StepLR(o, step_size=1, gamma=g_) for o, g_ in
                  ((opt_net, config.gamma), (opt_adj, config.adj_gamma))]
        history = []
        for epoch in range(config.epochs):
            train_adj = epoch % (config.k1 + config.k2) >= config.k1
            opt = opt_adj if train_adj else opt_net
            for p_ in net_params:  # DeepSEM freezes the other group; skipping its weight gradients also saves time
                p_.requires_grad_(not train_adj)
            for p_ in adj_params:
                p_.requires_grad_(train_adj)
            sums: dict[str, float] = {}
            order = torch.randperm(N, generator=g)
            n_batches = 0
            for start in range(0, N, config.batch_size):
                idx = order[start:start + config.batch_size]
                if len(idx) < 2 and N >= 2:
                    continue
                terms = loss_terms(model, xt[idx], mt[idx], config, g)
                loss = sum(terms.values())
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"{desc}: loss became {loss.item()} at epoch {epoch} (run {run}); "
                                             f"terms {({k: float(v) for k, v in terms.items()})}")
                model.zero_grad(set_to_none=True)  # both groups: no stale network gradients from adjacency epochs
                loss.backward()
                opt.step()
                n_batches += 1
                for k, v in terms.items():
                    sums[k] = sums.get(k, 0.0) + float(v.detach())
            with warnings.catch_warnings():  # the networks' rate decays every epoch, stepped or not, as in DeepSEM
                warnings.simplefilter("ignore", UserWarning)
                for s in scheds:
                    s.step()
            history.append({k: v / max(n_batches, 1) for k, v in sums.items()})
            if progress:
                progress(run * config.epochs + epoch + 1, total, f"{desc} run {run + 1}/{config.n_runs} epoch {epoch + 1}")
        with torch.no_grad():
            A = model.adj.adjacency().double().numpy()
        adj_sum += A
        abs_sum += np.abs(A)
        histories.append(history)
    return SEMFit(adj_sum / config.n_runs, abs_sum / config.n_runs, histories, time.perf_counter() - t0,
                  config.to_dict())


def loss_terms(model: SEMVAE, x: torch.Tensor, mask: torch.Tensor, config: SEMConfig,
               generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """The minimised loss of one batch, by term: ``recon`` (masked MSE), ``kl`` (β · mean KL) and the prior's terms.

    All terms are finite scalars for finite input; their sum is the negative ELBO (InfoSEM Eq. 14/15) up to constants
    and the per-entry normalisation described in the module docstring.
    """
    out, mu, logvar = model(x, generator)
    recon = ((out - x) ** 2 * mask).sum() / mask.sum().clamp_min(1.0)
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).mean()
    return {"recon": recon, "kl": config.beta * kl, **model.adj.terms(config.alpha)}


def edge_scores(abs_adjacency: np.ndarray, genes, pairs) -> np.ndarray:
    """Look up |A| for TF→target pairs: float64 (len(pairs),).

    Args:
        abs_adjacency: (P, P), row = regulator, column = target, in ``genes`` order.
        genes: the P gene symbols.
        pairs: DataFrame with ``tf`` and ``target`` columns.

    Raises:
        KeyError: a pair gene is not among ``genes`` (names the first few).
    """
    pos = {g: i for i, g in enumerate(genes)}
    missing = sorted(set(pairs["tf"]).union(pairs["target"]) - set(pos))
    if missing:
        raise KeyError(f"genes not in the fitted expression matrix: {missing[:10]}")
    i = pairs["tf"].map(pos).to_numpy()
    k = pairs["target"].map(pos).to_numpy()
    return np.asarray(abs_adjacency, dtype=np.float64)[i, k]


