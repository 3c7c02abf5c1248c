"""The UGRN translator: a small MLP projector from pair features to a regulation probability (UGRN Eq. 5).

Architecture and training follow the paper (Sec. 4.2): hidden layers 128 → 64 with ReLU, a sigmoid output,
binary cross-entropy (Eq. 2), Adam (lr 1e-3), batch 128, 50 epochs. Features are standardised with the
training pairs' mean and standard deviation (stored with the projector), because probe features from different
methods live on very different scales.

Regularisation (``TrainOptions``; not in the paper, which reports none): weight decay (Adam's L2 term), dropout
after each hidden layer, and early stopping on a stratified held-out fraction of the training pairs (the
projector with the lowest held-out BCE is kept; training stops after ``patience`` epochs without improvement).
The options a translator was trained with are saved with it. Which methods have projectors and how an ensemble combines them is declared
in the method registry (``ugrn_core.methods``); a translator remembers the checkpoint it was trained with.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import torch
from torch import nn

from . import methods as registry
from . import threads
from ._io import atomic_folder
from .errors import CheckpointError, CheckpointNotFound, DataError, ParameterError
from .features import DatasetProbes, ProbeParams

ProgressFn = Callable[[int, int, str], None]
DEFAULT_METHODS = ("VVP", "GDT", "Emb")  # projectors trained by default (CLI ``ugrn train``, app Train page)


@dataclass(frozen=True)
class TrainOptions:
    """How a projector is trained (recorded in every saved translator).

    Attributes:
        epochs: maximum passes over the training pairs (paper: 50).
        batch_size: pairs per Adam step (paper: 128).
        lr: Adam learning rate (paper: 1e-3).
        weight_decay: Adam L2 penalty on the weights (0 = none, the paper's).
        dropout: dropout probability after each hidden ReLU during training, in [0, 1) (0 = none).
        val_fraction: fraction of the training pairs held out (stratified by label, drawn with the seed) for early
            stopping, in [0, 0.5]; 0 = no held-out pairs, train all ``epochs`` (the paper's).
        patience: with held-out pairs, stop after this many epochs without a lower held-out BCE (≥ 1).
    """

    epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    dropout: float = 0.0
    val_fraction: float = 0.0
    patience: int = 5

    def __post_init__(self):
        checks = {"epochs": self.epochs >= 1, "batch_size": self.batch_size >= 1, "lr": self.lr > 0,
                  "weight_decay": self.weight_decay >= 0, "dropout": 0 <= self.dropout < 1,
                  "val_fraction": 0 <= self.val_fraction <= 0.5, "patience": self.patience >= 1}
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ParameterError(f"translator options {', '.join(f'{k}={getattr(self, k)!r}' for k in bad)} out of "
                                 "range; expected epochs, batch_size, patience ≥ 1, lr > 0, weight_decay ≥ 0, "
                                 "dropout in [0, 1), val_fraction in [0, 0.5]")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> "TrainOptions":
        """Options from a dict (missing keys take the paper's values, i.e. ``TrainOptions()``'s defaults).

        Raises: ParameterError for unknown keys or values out of range."""
        d = dict(d or {})
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ParameterError(f"unknown translator options {sorted(unknown)}; expected some of "
                                 f"{list(cls.__dataclass_fields__)}")
        types = {"epochs": int, "batch_size": int, "patience": int}
        return cls(**{k: types.get(k, float)(v) for k, v in d.items()})


#: The paper's training (Sec. 4.2): no weight decay, no dropout, no early stopping, 50 epochs. Translators saved
#: before options were recorded were trained this way.
PAPER_OPTIONS = TrainOptions()
#: Regularised training: early stopping on 15 % held-out training pairs (patience 5, at most 50 epochs), Adam weight
#: decay 1e-4, dropout 0.2. Without it the projector memorises its training pairs (training BCE reaches 0.000); with
#: it, Table 1 Ens AUPRC rose by 0.005–0.008 on four checkpoints (5 seeds each, ``benchmarks/results/levers.md`` and
#: ``levers_arch.md``, issue 13).
REGULARISED_OPTIONS = TrainOptions(weight_decay=1e-4, dropout=0.2, val_fraction=0.15, patience=5)
#: What ``Translator.fit``, ``ugrn train`` and ``ugrn benchmark`` use when no options are given (since 2026-12-06;
#: ``PAPER_OPTIONS`` before). Pass ``PAPER_OPTIONS`` (CLI: ``--weight-decay 0 --dropout 0 --val-fraction 0``) for the
#: paper's training.
DEFAULT_OPTIONS = REGULARISED_OPTIONS


class Projector(nn.Module):
    """MLP ``D → 128 → 64 → 1`` with ReLU (and optional dropout after each ReLU while training); ``forward`` returns
    logits (B,), apply a sigmoid for probabilities. Dropout has no weights, so the saved state is the same with or
    without it."""

    def __init__(self, in_dim: int, hidden: tuple[int, int] = (128, 64), dropout: float = 0.0):
        super().__init__()
        self.in_dim = in_dim
        self.net = nn.Sequential(nn.Linear(in_dim, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], hidden[1]), nn.ReLU(),
                                 nn.Linear(hidden[1], 1))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lin1, act1, lin2, act2, out = self.net
        h = self.dropout(act1(lin1(x)))
        h = self.dropout(act2(lin2(h)))
        return out(h).squeeze(-1)


@dataclass
class TrainedProjector:
    """A fitted projector with its feature standardisation (``mean``, ``std``: float32 (D,)).

    ``history``: mean training BCE per epoch run; ``val_history``: held-out BCE per epoch (empty without early
    stopping); ``best_epoch``: the 1-based epoch whose weights were kept (None when not recorded)."""

    model: Projector
    mean: np.ndarray
    std: np.ndarray
    history: list[float] = field(default_factory=list)
    val_history: list[float] = field(default_factory=list)
    best_epoch: int | None = None

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Logits float64 (P,) for features float (P, D). Raises ValueError on a dimension mismatch."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.model.in_dim:
            raise ValueError(f"features have shape {X.shape}; this projector expects (P, {self.model.in_dim})")
        with torch.no_grad(), threads.single_thread():  # same logits whatever the thread count (``threads``)
            return self.model(torch.as_tensor((X - self.mean) / self.std)).double().numpy()


class _StackedProjectors(nn.Module):
    """K ``Projector``s trained side by side as one module: weights stacked along a leading axis, each projector's
    input zero-padded to the widest ``in_dim``. ``forward`` maps float (K, B, D_max) to logits (K, B). Every
    projector keeps its own parameters (the padded input columns meet zero weights that receive zero gradient), so
    training the stack with an element-wise optimiser (Adam) is training each projector on its own."""

    def __init__(self, projectors: list[Projector], dropout: float = 0.0):
        super().__init__()
        d_max = max(p.in_dim for p in projectors)
        self.in_dims = [p.in_dim for p in projectors]
        ws, bs = [], []
        for i in (0, 2, 4):  # the three nn.Linear layers of Projector.net
            w = [p.net[i].weight.detach().T for p in projectors]  # (in, out) each
            if i == 0:
                w = [torch.cat([x, x.new_zeros(d_max - x.shape[0], x.shape[1])]) for x in w]
            ws.append(nn.Parameter(torch.stack(w)))
            bs.append(nn.Parameter(torch.stack([p.net[i].bias.detach() for p in projectors]).unsqueeze(1)))
        self.w1, self.w2, self.w3 = ws
        self.b1, self.b2, self.b3 = bs
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dropout(torch.relu(torch.baddbmm(self.b1, x, self.w1)))
        h = self.dropout(torch.relu(torch.baddbmm(self.b2, h, self.w2)))
        return torch.baddbmm(self.b3, h, self.w3).squeeze(-1)

    def state_of(self, k: int) -> dict[str, torch.Tensor]:
        """Projector ``k``'s weights as a ``Projector`` state dict (copies)."""
        d = self.in_dims[k]
        return {"net.0.weight": self.w1[k, :d].T.clone(), "net.0.bias": self.b1[k, 0].clone(),
                "net.2.weight": self.w2[k].T.clone(), "net.2.bias": self.b2[k, 0].clone(),
                "net.4.weight": self.w3[k].T.clone(), "net.4.bias": self.b3[k, 0].clone()}


class _Problem(NamedTuple):
    """One projector's training data after checks and the held-out split: trained-on features ``X`` float32 (n, D)
    and labels ``y`` (n,), held-out ``Xv``/``yv`` (None without early stopping), standardisation ``mean``/``std``."""

    X: np.ndarray
    y: np.ndarray
    Xv: np.ndarray | None
    yv: np.ndarray | None
    mean: np.ndarray
    std: np.ndarray


def _check_problem(X, y, what: str):
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"{what}: features must be a 2-D array (pairs × features), got shape {X.shape}")
    if len(X) != len(y):
        raise ValueError(f"{what}: {len(X)} feature rows but {len(y)} labels")
    if not np.isfinite(X).all():
        raise ValueError(f"{what}: features contain NaN or infinite values")
    if len(np.unique(y)) < 2:
        raise ValueError(f"{what}: training pairs need both positives and negatives")
    return X, y


def fit_projector(X: np.ndarray, y: np.ndarray, epochs: int | None = None, batch_size: int | None = None,
                  lr: float | None = None, seed: int = 0, progress: ProgressFn | None = None, desc: str = "projector",
                  options: TrainOptions | None = None) -> TrainedProjector:
    """Train a projector with BCE (UGRN Eq. 2) on features ``X`` float (P, D) and labels ``y`` (P,) in {0, 1}.

    ``options`` (default ``DEFAULT_OPTIONS``) sets epochs, batch size, learning rate, weight decay, dropout and early
    stopping; ``epochs``, ``batch_size``, ``lr`` given explicitly override it. With ``options.val_fraction`` > 0 a
    stratified held-out part of the pairs (drawn with ``seed``) is not trained on; after each epoch its BCE is
    measured (dropout off), the weights with the lowest held-out BCE are kept, and training stops after
    ``options.patience`` epochs without improvement. The standardisation uses the trained-on pairs only.
    Deterministic for a seed (CPU). ``history`` holds the mean training loss per epoch run.
    One problem of ``fit_projectors``, which trains several at once.
    Raises: ValueError for mismatched lengths, non-finite features, a single class, or too few pairs of a class to
    hold some out.
    """
    options = options or DEFAULT_OPTIONS
    over = {k: v for k, v in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr)) if v is not None}
    if over:
        options = TrainOptions(**{**options.to_dict(), **over})
    return fit_projectors([(X, y)], seed=seed, options=options, progress=progress, desc=desc)[0]


def fit_projectors(problems, seed: int = 0, options: TrainOptions | None = None, progress: ProgressFn | None = None,
                   desc: str = "projectors") -> list[TrainedProjector]:
    """Train one projector per problem ``(X float (P, D_k), y (P,) in {0, 1})``, all in one loop (``fit_projector``
    for each problem's semantics: UGRN Eq. 2, the paper's MLP and Adam, ``options``).

    Each projector is initialised exactly as ``fit_projector`` would (``torch.manual_seed(seed)`` then
    ``Projector(D_k)``) and sees the same mini-batches (one ``torch.randperm`` per epoch from a generator seeded with
    ``seed``; problems with equal numbers of trained-on pairs share it). They are trained as one stacked module
    (``_StackedProjectors``: batched matrix products, a summed loss whose gradient w.r.t. each projector's weights is
    that projector's own), so one optimiser step serves every problem: on CPU the paper's small MLP spends its time
    in per-step overhead, and K projectors cost about as much as one (``benchmarks/projector_speed.py``). Results
    equal separate training up to float rounding (``tests/test_translator.py``). Problems with different numbers of
    trained-on pairs are trained in separate groups.

    Returns: ``TrainedProjector`` per problem, in order.
    Raises: ValueError naming the problem (index) for mismatched lengths, non-finite features, a single class, or too
    few pairs of a class to hold some out.
    """
    options = options or DEFAULT_OPTIONS
    prepared = []
    for k, (X, y) in enumerate(problems):
        what = desc if len(problems) == 1 else f"{desc} (problem {k})"
        X, y = _check_problem(X, y, what)
        Xv = yv = None
        if options.val_fraction > 0:
            from sklearn.model_selection import train_test_split

            try:
                X, Xv, y, yv = train_test_split(X, y, test_size=options.val_fraction, stratify=y, random_state=seed)
            except ValueError as e:
                raise ValueError(f"{what}: cannot hold out {options.val_fraction:g} of {len(y)} training pairs "
                                 f"stratified by label for early stopping: {e}") from None
        mean, std = X.mean(0), X.std(0)
        std = np.where(std > 1e-8, std, 1.0).astype(np.float32)
        prepared.append(_Problem(X, y, Xv, yv, mean.astype(np.float32), std))
    out: list[TrainedProjector | None] = [None] * len(prepared)
    groups: dict[int, list[int]] = {}
    for k, p in enumerate(prepared):
        groups.setdefault(len(p.X), []).append(k)
    for idx in groups.values():
        with threads.single_thread():  # the same weights whatever the thread count (``threads``)
            group = _fit_group([prepared[k] for k in idx], seed, options, progress, desc)
        for k, tp in zip(idx, group):
            out[k] = tp
    return out


def _fit_group(prepared: list[_Problem], seed: int, options: TrainOptions, progress, desc) -> list[TrainedProjector]:
    """``fit_projectors`` for problems with the same number of trained-on pairs (one shared batch order)."""
    K = len(prepared)
    d_max = max(p.X.shape[1] for p in prepared)

    def stack(field: str):  # (K, n, d_max) standardised, zero-padded
        arrays = [getattr(p, field) for p in prepared]
        out = np.zeros((K, len(arrays[0]), d_max), dtype=np.float32)
        for k, (a, p) in enumerate(zip(arrays, prepared)):
            out[k, :, : a.shape[1]] = (a - p.mean) / p.std
        return torch.as_tensor(out)

    Xs = stack("X")
    yt = torch.as_tensor(np.stack([p.y for p in prepared]))
    early = prepared[0].Xv is not None
    Xvs = stack("Xv") if early else None
    yvt = torch.as_tensor(np.stack([p.yv for p in prepared])) if early else None
    singles = []
    for p in prepared:
        torch.manual_seed(seed)
        singles.append(Projector(p.X.shape[1]))
    model = _StackedProjectors(singles, dropout=options.dropout)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=options.lr, weight_decay=options.weight_decay)

    def losses(logits, y):  # (K,) mean BCE per problem (sigmoid + BCE, Eq. 2, numerically stable)
        return nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none").mean(1)

    n = Xs.shape[1]
    history = [[] for _ in range(K)]
    val_history = [[] for _ in range(K)]
    best_state = [None] * K
    best_epoch, best_val = [options.epochs] * K, [float("inf")] * K
    running = [True] * K
    for epoch in range(options.epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = torch.zeros(K, dtype=torch.float64)
        for start in range(0, n, options.batch_size):
            i = perm[start : start + options.batch_size]
            per = losses(model(Xs[:, i]), yt[:, i])
            opt.zero_grad()
            per.sum().backward()
            opt.step()
            total += per.detach().double() * len(i)
        msg = f"{desc}: epoch {epoch + 1}/{options.epochs}"
        for k in range(K):
            if running[k]:
                history[k].append(float(total[k]) / n)
        if early:
            model.eval()
            with torch.no_grad():
                val = losses(model(Xvs), yvt)
            for k in range(K):
                if not running[k]:
                    continue
                val_history[k].append(float(val[k]))
                if val_history[k][-1] < best_val[k]:
                    best_val[k], best_epoch[k], best_state[k] = val_history[k][-1], epoch + 1, model.state_of(k)
                if epoch + 1 - best_epoch[k] >= options.patience:
                    running[k] = False
        if K == 1:
            msg += f", loss {history[0][-1]:.3f}" + (f", held-out {val_history[0][-1]:.3f}" if early else "")
        if progress:
            progress(epoch + 1, options.epochs, msg)
        if not any(running):
            break
    out = []
    for k, p in enumerate(prepared):
        proj = Projector(p.X.shape[1], dropout=options.dropout)
        proj.load_state_dict(best_state[k] if best_state[k] is not None else model.state_of(k))
        proj.eval()
        out.append(TrainedProjector(proj, p.mean, p.std, history[k], val_history[k], best_epoch[k]))
    return out


@dataclass
class Translator:
    """Projectors for several methods trained on one labelled dataset, plus what is needed to reuse them.

    Attributes:
        projectors: method name → ``TrainedProjector`` (VVP, GDT, Emb, Pert as trained).
        params: the probe parameters the features were computed with (must match at prediction time).
        trained_on: training dataset name; ``checkpoint_id``: the foundation model used; ``n_train``: pairs.
        n_context: context genes of the training gene set (None for translators saved before it was recorded).
        checkpoint: folder name of that checkpoint (e.g. "scgpt_compact"); d_model: its embedding size.
        norm_reference: with ``feature_norm`` "context-z": the training context's statistics per probe,
            ``((probe, means (K,), stds (K,)), ...)`` (``DatasetProbes.norm_statistics``); short gene lists probed in a
            background context are standardised with them. None otherwise or for translators saved before it.
        options: the ``TrainOptions`` the projectors were trained with (``PAPER_OPTIONS`` for translators saved
            before options were recorded).
        context_genes: vocabulary tokens of the training context (``context_genes.txt`` beside the projectors; None
            for translators saved before it was recorded): the default background for short gene lists
            (``background.from_translator``).
    """

    projectors: dict[str, TrainedProjector]
    params: ProbeParams
    trained_on: str
    checkpoint_id: str
    n_train: dict[str, int] = field(default_factory=dict)
    n_context: int | None = None
    checkpoint: str | None = None
    d_model: int | None = None
    options: TrainOptions = PAPER_OPTIONS
    context_genes: tuple[str, ...] | None = None
    norm_reference: tuple | None = None

    @classmethod
    def fit(cls, probes: DatasetProbes, pairs, methods=DEFAULT_METHODS, epochs: int | None = None, seed: int = 0,
            progress: ProgressFn | None = None, options: TrainOptions | None = None) -> "Translator":
        """Train one projector per trainable method (``projectors_needed``: an ensemble brings its members) on the
        labelled ``pairs`` (DataFrame tf, target, label 0/1) of ``probes.dataset``, with BCE (Eq. 2, ``fit_projectors``).

        ``options``: ``TrainOptions`` (default ``DEFAULT_OPTIONS``); ``epochs`` given explicitly overrides its epochs.
        The pair features are gathered with ``probes.params`` (virtual values and ``feature_norm``), which the
        translator keeps, so prediction gathers them the same way.
        Methods that need expression are skipped with a warning when the dataset has none.
        Raises: ValueError for an unknown method, or when no method can be trained.
        """
        return cls.fit_many([(probes, pairs, methods)], epochs=epochs, seed=seed, progress=progress, options=options)[0]

    @classmethod
    def fit_many(cls, jobs, epochs: int | None = None, seed: int = 0, progress: ProgressFn | None = None,
                 options: TrainOptions | None = None, skip_untrainable: bool = False) -> list["Translator | None"]:
        """``fit`` for several ``(probes, pairs, methods)`` jobs with one seed and ``options``, every projector of
        every job trained in one loop (``fit_projectors``; e.g. the benchmark's translators on the checkpoint, on its
        random-init twin and on shuffled labels, which share their training pairs and seed). Each translator equals
        the one ``fit`` would give for its job, up to float rounding.

        ``skip_untrainable``: a job with no trainable method (all need expression its dataset lacks) gives None
        instead of raising. Returns one ``Translator`` (or None) per job, in order.
        Raises: ValueError for an unknown method, or (without ``skip_untrainable``) when a job has no trainable method.
        """
        options = options or DEFAULT_OPTIONS
        if epochs is not None:
            options = TrainOptions(**{**options.to_dict(), "epochs": int(epochs)})
        problems, where, n_train = [], [], [{} for _ in jobs]
        for j, (probes, pairs, methods) in enumerate(jobs):
            ds = probes.dataset
            for m in projectors_needed(methods):
                spec = registry.get(m)
                if spec.needs_expression and not ds.has_expression:
                    warnings.warn(f"{m} needs expression and {ds.name} has none: not trained")
                    continue
                problems.append((spec.features(probes, pairs, progress), pairs["label"].to_numpy()))
                where.append((j, m))
                n_train[j][m] = len(pairs)
            if not n_train[j] and not skip_untrainable:
                raise DataError(f"no translator could be trained on {ds.name} for methods {list(methods)}")
        names = sorted({m for _, m in where})
        fitted = fit_projectors(problems, seed=seed, options=options, progress=progress,
                                desc=f"training {', '.join(names)}")
        projectors: list[dict] = [{} for _ in jobs]
        for (j, m), tp in zip(where, fitted):
            projectors[j][m] = tp
        out = []
        for j, (probes, pairs, methods) in enumerate(jobs):
            if not projectors[j]:
                out.append(None)
                continue
            fm = probes.fm
            reference = None
            if probes.params.feature_norm == "context-z" and not probes.restricted:
                # the training context's "context-z" statistics: a background context (short gene lists) standardises
                # its few scored pairs with these (background.Background.norm_reference)
                specs = [registry.get(m) for m in projectors[j]]
                owners = {s.probe for s in specs if s.context_dependent and s.probe and not s.needs_expression}
                reference = tuple((p, *probes.norm_statistics(p, progress)) for p in sorted(owners)) or None
            out.append(cls(projectors[j], probes.params, probes.dataset.name, fm.checkpoint_id, n_train[j],
                           len(probes.tokens), checkpoint=Path(fm.path).name if fm.path else None, d_model=fm.d_model,
                           options=options, context_genes=tuple(probes.tokens), norm_reference=reference))
        return out

    def check_model(self, fm) -> None:
        """Raise CheckpointError (a ValueError) when foundation model ``fm`` (``scfm.ScFM``) is not the checkpoint this
        translator was trained with; the message names both and says how to train a translator for ``fm``."""
        if fm.checkpoint_id == self.checkpoint_id:
            return
        ours = f"checkpoint {self.checkpoint or 'unnamed'} (id {self.checkpoint_id}" + (
            f", d_model {self.d_model})" if self.d_model else ")")
        path = fm.path or "<checkpoint folder>"
        theirs = f"{Path(fm.path).name if fm.path else 'unnamed'} (id {fm.checkpoint_id}, d_model {fm.d_model})"
        dataset = self.trained_on if self.trained_on.count("/") == 2 else "STRING/hESC/500"
        raise CheckpointError(f"translator was trained with {ours}; this model is {theirs}. Its projectors read that "
                         f"model's features only. Train one for it: ugrn train --checkpoint {path} --dataset {dataset} "
                         f"--out my_translator")

    #: Context sizes within this factor of the training context count as comparable (see ``context_warning``).
    CONTEXT_FACTOR = 2.0

    def context_warning(self, n_context: int) -> str | None:
        """A warning when a gene set's context size is far from the one this translator was trained on, else None.

        VVP, GDT and Pert responses shrink roughly as 1/N with the number N of context genes (one of N attention keys
        moves); measured with the bundled model, the mean |VVP response| is 0.07 at N = 554, 0.60 at N = 50 and
        2.0 at N = 10. A projector trained at one N therefore extrapolates at a very different N. Emb does not
        depend on the context. Returns a message when the ratio is outside [1/CONTEXT_FACTOR, CONTEXT_FACTOR] and
        the translator has a context-dependent projector.
        """
        dependent = [m for m in self.projectors if registry.get(m).context_dependent]
        if not self.n_context or not dependent or n_context <= 0:
            return None
        ratio = n_context / self.n_context
        if 1 / self.CONTEXT_FACTOR <= ratio <= self.CONTEXT_FACTOR:
            return None
        return (
            f"the context has {n_context} genes but the translator was trained on {self.trained_on} with "
            f"{self.n_context}: {', '.join(dependent)} features scale roughly as 1/(context genes), so these scores "
            f"are extrapolated. Use a gene set of comparable size (e.g. add the genes of a similar dataset), a "
            f"translator trained on one, or Emb, which does not depend on the context."
        )

    @property
    def methods(self) -> list[str]:
        """Methods this translator scores: its projectors, plus every ensemble whose members all have one."""
        have = set(self.projectors)
        return list(self.projectors) + [s.name for s in registry.all_specs() if s.members and set(s.members) <= have]

    def logits(self, method: str, features: dict[str, np.ndarray]) -> np.ndarray:
        """Logits float64 (P,) of ``method``'s projector from ``features`` (method → float (P, D) array).

        Raises: KeyError when there is no projector for ``method`` (ensembles are scored by their method module).
        """
        if method not in self.projectors:
            raise KeyError(f"translator has no projector for {method!r}; it has {list(self.projectors)}")
        return self.projectors[method].logits(features[method])

    def predict(self, method: str, features: dict[str, np.ndarray]) -> np.ndarray:
        """Regulation probabilities sigmoid(logits) in [0, 1], float64 (P,) (UGRN Eq. 5)."""
        return registry.sigmoid(self.logits(method, features))

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``meta.json`` and ``projectors.pt`` to folder ``path`` atomically."""
        path = Path(path)
        with atomic_folder(path) as tmp:
            meta = {"trained_on": self.trained_on, "checkpoint_id": self.checkpoint_id, "checkpoint": self.checkpoint,
                    "d_model": self.d_model, "params": self.params.to_dict(),
                    "n_train": self.n_train, "n_context": self.n_context, "methods": self.methods,
                    "train_options": self.options.to_dict(),
                    "norm_reference": ([[p, list(mu), list(sd)] for p, mu, sd in self.norm_reference]
                                       if self.norm_reference else None),
                    "projectors": {m: {"in_dim": p.model.in_dim, "final_loss": p.history[-1] if p.history else None,
                                       "epochs_run": len(p.history) or None, "best_epoch": p.best_epoch,
                                       "best_val_loss": min(p.val_history) if p.val_history else None}
                                   for m, p in self.projectors.items()}}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
            torch.save({m: {"state": p.model.state_dict(), "mean": torch.as_tensor(p.mean), "std": torch.as_tensor(p.std)}
                        for m, p in self.projectors.items()}, tmp / "projectors.pt")
            if self.context_genes:
                (tmp / "context_genes.txt").write_text("\n".join(self.context_genes) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Translator":
        """Load a folder written by ``save``. A translator saved before ``feature_norm`` and ``train_options`` were
        recorded was trained on raw features with the paper's options; it loads as such (``feature_norm`` "none",
        ``PAPER_OPTIONS``), whatever today's defaults are.

        Raises: CheckpointNotFound (a FileNotFoundError) naming the missing file; CheckpointError (a ValueError) for
        an unreadable meta.json or projectors.pt."""
        path = Path(path)
        for f in ("meta.json", "projectors.pt"):
            if not (path / f).is_file():
                raise CheckpointNotFound(f"translator folder '{path}' lacks {f}; expected a folder written by "
                                         "`ugrn train` or the Train page (meta.json, projectors.pt)")
        try:
            meta = json.loads((path / "meta.json").read_bytes().decode("utf-8"))
            missing = [k for k in ("params", "trained_on", "checkpoint_id", "projectors") if k not in meta]
        except (UnicodeDecodeError, ValueError, TypeError) as e:
            raise CheckpointError(f"{path / 'meta.json'}: not a translator description ({type(e).__name__}: {e})") from None
        if missing:
            raise CheckpointError(f"{path / 'meta.json'} lacks {missing}; expected a file written by Translator.save")
        try:
            blobs = torch.load(path / "projectors.pt", map_location="cpu", weights_only=True)
            projectors = {}
            for m, b in blobs.items():
                model = Projector(meta["projectors"][m]["in_dim"])
                model.load_state_dict(b["state"])
                model.eval()
                info = meta["projectors"][m]
                projectors[m] = TrainedProjector(model, b["mean"].numpy(), b["std"].numpy(),
                                                 best_epoch=info.get("best_epoch") if isinstance(info, dict) else None)
        except Exception as e:  # truncated file, refused pickle, missing or mis-shaped weights
            raise CheckpointError(f"{path / 'projectors.pt'} cannot be loaded as this translator's projectors: "
                                  f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}") from None
        try:
            params = ProbeParams.from_dict({"feature_norm": "none", **(meta["params"] or {})})
            options = TrainOptions.from_dict(meta.get("train_options"))
        except (ValueError, TypeError) as e:
            raise CheckpointError(f"{path / 'meta.json'}: unreadable probe parameters or training options: {e}") from None
        genes_file = path / "context_genes.txt"
        context_genes = tuple(genes_file.read_text().split()) if genes_file.is_file() else None
        try:
            reference = tuple((str(p), tuple(map(float, mu)), tuple(map(float, sd)))
                              for p, mu, sd in (meta.get("norm_reference") or ())) or None
        except (ValueError, TypeError) as e:
            raise CheckpointError(f"{path / 'meta.json'}: unreadable norm_reference: {e}") from None
        return cls(projectors, params, meta["trained_on"], meta["checkpoint_id"], meta.get("n_train", {}),
                   meta.get("n_context"), meta.get("checkpoint"), meta.get("d_model"), options, context_genes or None,
                   reference)


def projectors_needed(methods) -> list[str]:
    """The projectors to train for ``methods`` (names, any case): the trainable ones, plus the members of ensembles,
    in registry order. Raises ValueError for an unknown method."""
    need, todo = set(), list(methods)
    while todo:
        spec = registry.get(todo.pop())
        todo += [m for m in spec.members if m not in need]
        if spec.trainable:
            need.add(spec.name)
    return [m for m in registry.names() if m in need]
