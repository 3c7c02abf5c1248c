"""The UGRN translator: a small MLP projector from pair features to a regulation probability (UGRN Eq. 5).

Architecture and training follow the paper (Sec. 4.2): hidden layers 128 → 64 with ReLU, a sigmoid output,
binary cross-entropy (Eq. 2), Adam (lr 1e-3), batch 128, 50 epochs. Features are standardised with the
training pairs' mean and standard deviation (stored with the projector), because probe features from different
methods live on very different scales. Which methods have projectors and how an ensemble combines them is declared
in the method registry (``ugrn_core.methods``); a translator remembers the checkpoint it was trained with.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from . import methods as registry
from ._io import atomic_folder
from .errors import CheckpointError, CheckpointNotFound, DataError
from .features import DatasetProbes, ProbeParams

ProgressFn = Callable[[int, int, str], None]
DEFAULT_METHODS = ("VVP", "GDT", "Emb")  # projectors trained by default (CLI ``ugrn train``, app Train page)


class Projector(nn.Module):
    """MLP ``D → 128 → 64 → 1`` with ReLU; ``forward`` returns logits (B,), apply a sigmoid for probabilities."""

    def __init__(self, in_dim: int, hidden: tuple[int, int] = (128, 64)):
        super().__init__()
        self.in_dim = in_dim
        self.net = nn.Sequential(nn.Linear(in_dim, hidden[0]), nn.ReLU(), nn.Linear(hidden[0], hidden[1]), nn.ReLU(),
                                 nn.Linear(hidden[1], 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


@dataclass
class TrainedProjector:
    """A fitted projector with its feature standardisation (``mean``, ``std``: float32 (D,))."""

    model: Projector
    mean: np.ndarray
    std: np.ndarray
    history: list[float] = field(default_factory=list)

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Logits float64 (P,) for features float (P, D). Raises ValueError on a dimension mismatch."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.model.in_dim:
            raise ValueError(f"features have shape {X.shape}; this projector expects (P, {self.model.in_dim})")
        with torch.no_grad():
            return self.model(torch.as_tensor((X - self.mean) / self.std)).double().numpy()


def fit_projector(X: np.ndarray, y: np.ndarray, epochs: int = 50, batch_size: int = 128, lr: float = 1e-3,
                  seed: int = 0, progress: ProgressFn | None = None, desc: str = "projector") -> TrainedProjector:
    """Train a projector with BCE on features ``X`` float (P, D) and labels ``y`` (P,) in {0, 1}.

    Deterministic for a seed (CPU). ``history`` holds the mean training loss per epoch.
    Raises: ValueError for mismatched lengths, non-finite features or a single class.
    """
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    if len(X) != len(y):
        raise ValueError(f"{len(X)} feature rows but {len(y)} labels")
    if not np.isfinite(X).all():
        raise ValueError("features contain NaN or infinite values")
    if len(np.unique(y)) < 2:
        raise ValueError("training pairs need both positives and negatives")
    mean, std = X.mean(0), X.std(0)
    std = np.where(std > 1e-8, std, 1.0).astype(np.float32)
    Xs = torch.as_tensor((X - mean) / std)
    yt = torch.as_tensor(y)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = Projector(X.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.BCEWithLogitsLoss()  # sigmoid + BCE (Eq. 2), numerically stable
    history = []
    for epoch in range(epochs):
        perm = torch.randperm(len(Xs), generator=gen)
        total = 0.0
        for start in range(0, len(perm), batch_size):
            idx = perm[start : start + batch_size]
            loss = loss_fn(model(Xs[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        history.append(total / len(Xs))
        if progress:
            progress(epoch + 1, epochs, f"{desc}: epoch {epoch + 1}/{epochs}, loss {history[-1]:.3f}")
    model.eval()
    return TrainedProjector(model, mean.astype(np.float32), std, history)


@dataclass
class Translator:
    """Projectors for several methods trained on one labelled dataset, plus what is needed to reuse them.

    Attributes:
        projectors: method name → ``TrainedProjector`` (VVP, GDT, Emb, Pert as trained).
        params: the probe parameters the features were computed with (must match at prediction time).
        trained_on: training dataset name; ``checkpoint_id``: the foundation model used; ``n_train``: pairs.
        n_context: context genes of the training gene set (None for translators saved before it was recorded).
        checkpoint: folder name of that checkpoint (e.g. "scgpt_compact"); d_model: its embedding size.
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
    context_genes: tuple[str, ...] | None = None

    @classmethod
    def fit(cls, probes: DatasetProbes, pairs, methods=DEFAULT_METHODS, epochs: int = 50, seed: int = 0,
            progress: ProgressFn | None = None) -> "Translator":
        """Train one projector per trainable method (``projectors_needed``: an ensemble brings its members) on the
        labelled ``pairs`` (DataFrame tf, target, label 0/1) of ``probes.dataset``, with BCE (Eq. 2, ``fit_projector``).

        Methods that need expression are skipped with a warning when the dataset has none.
        Raises: ValueError for an unknown method, or when no method can be trained.
        """
        ds = probes.dataset
        projectors, n_train = {}, {}
        for m in projectors_needed(methods):
            spec = registry.get(m)
            if spec.needs_expression and not ds.has_expression:
                warnings.warn(f"{m} needs expression and {ds.name} has none: not trained")
                continue
            X = spec.features(probes, pairs, progress)
            projectors[m] = fit_projector(X, pairs["label"].to_numpy(), epochs=epochs, seed=seed, progress=progress,
                                          desc=f"training {m}")
            n_train[m] = len(pairs)
        if not projectors:
            raise DataError(f"no translator could be trained on {ds.name} for methods {list(methods)}")
        fm = probes.fm
        return cls(projectors, probes.params, ds.name, fm.checkpoint_id, n_train, len(probes.tokens),
                   checkpoint=Path(fm.path).name if fm.path else None, d_model=fm.d_model,
                   context_genes=tuple(probes.tokens))

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
                    "projectors": {m: {"in_dim": p.model.in_dim, "final_loss": p.history[-1] if p.history else None}
                                   for m, p in self.projectors.items()}}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
            torch.save({m: {"state": p.model.state_dict(), "mean": torch.as_tensor(p.mean), "std": torch.as_tensor(p.std)}
                        for m, p in self.projectors.items()}, tmp / "projectors.pt")
            if self.context_genes:
                (tmp / "context_genes.txt").write_text("\n".join(self.context_genes) + "\n")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Translator":
        """Load a folder written by ``save``.

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
                projectors[m] = TrainedProjector(model, b["mean"].numpy(), b["std"].numpy())
        except Exception as e:  # truncated file, refused pickle, missing or mis-shaped weights
            raise CheckpointError(f"{path / 'projectors.pt'} cannot be loaded as this translator's projectors: "
                                  f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}") from None
        genes_file = path / "context_genes.txt"
        context_genes = tuple(genes_file.read_text().split()) if genes_file.is_file() else None
        return cls(projectors, ProbeParams.from_dict(meta["params"]), meta["trained_on"], meta["checkpoint_id"],
                   meta.get("n_train", {}), meta.get("n_context"), meta.get("checkpoint"), meta.get("d_model"),
                   context_genes or None)


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
