"""The projector training engine: checks, held-out split, and one loop fitting several projectors at once
(binary cross-entropy, Adam; early stopping on held-out BCE when ``TrainOptions.val_fraction`` > 0)."""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import torch
from torch import nn

from ..scfm import threads
from .options import DEFAULT_OPTIONS, TrainOptions
from .projector import Projector, TrainedProjector, _StackedProjectors

ProgressFn = Callable[[int, int, str], None]

#: Version of the training engine's numerics, part of the benchmark's cell keys (``bench.suite``): 2 = every
#: operation per projector and per-projector dropout streams (a projector no longer depends on those beside it).
TRAINING_VERSION = 2


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
    ``Projector(D_k)``), sees the same mini-batches (one ``torch.randperm`` per epoch from a generator seeded with
    ``seed``) and draws its dropout masks from its own generator seeded with ``seed``. Problems with the same number
    of trained-on pairs and the same feature width are trained in one loop (``_StackedProjectors``: one optimiser,
    a summed loss whose gradient w.r.t. each projector's weights is that projector's own). Every operation runs
    projector by projector, so the loop saves nothing on CPU (``benchmarks/projector_speed.py``, 2026-12-06: 9
    projectors 3.2 s one after another, 3.4 s together; batched products were faster but rounded a projector
    differently with the number K beside it). A projector's weights
    depend only on its own problem, ``seed`` and ``options``, not on the other problems: they equal ``fit_projector``
    on that problem alone bit for bit (``tests/test_translator.py``), so a benchmark row reproduces whichever
    methods are fitted beside it.

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
    groups: dict[tuple[int, int], list[int]] = {}
    for k, p in enumerate(prepared):
        groups.setdefault(p.X.shape, []).append(k)
    for idx in groups.values():
        with threads.single_thread():  # the same weights whatever the thread count (``threads``)
            group = _fit_group([prepared[k] for k in idx], seed, options, progress, desc)
        for k, tp in zip(idx, group):
            out[k] = tp
    return out


def _fit_group(prepared: list[_Problem], seed: int, options: TrainOptions, progress, desc) -> list[TrainedProjector]:
    """``fit_projectors`` for problems with the same number of trained-on pairs and feature width (one shared batch
    order, no padding)."""
    K = len(prepared)

    def stack(field: str):  # (K, n, D) standardised
        return torch.as_tensor(np.stack([(getattr(p, field) - p.mean) / p.std for p in prepared]).astype(np.float32))

    Xs = stack("X")
    yt = torch.as_tensor(np.stack([p.y for p in prepared]))
    early = prepared[0].Xv is not None
    Xvs = stack("Xv") if early else None
    yvt = torch.as_tensor(np.stack([p.yv for p in prepared])) if early else None
    singles = []
    for p in prepared:
        torch.manual_seed(seed)
        singles.append(Projector(p.X.shape[1]))
    model = _StackedProjectors(singles, dropout=options.dropout,
                               generators=[torch.Generator().manual_seed(seed) for _ in prepared])
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=options.lr, weight_decay=options.weight_decay)

    def losses(logits, y):  # (K,) mean BCE per problem (sigmoid + BCE, Eq. 2, numerically stable); problem by
        # problem, so vectorised and scalar-tail kernels split each problem's elements alike whatever K is
        return torch.stack([nn.functional.binary_cross_entropy_with_logits(lk, yk) for lk, yk in zip(logits, y)])

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
