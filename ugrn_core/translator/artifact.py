"""The UGRN translator (the class users call: fit, save, load, predict): a small MLP projector from pair features to a regulation probability (UGRN Eq. 5).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .. import methods as registry
from .._io import atomic_folder
from ..config import resolve_translator_dir
from ..errors import CheckpointError, CheckpointNotFound, DataError
from ..probes.features import DatasetProbes
from ..probes.params import ProbeParams
from .options import DEFAULT_OPTIONS, PAPER_OPTIONS, TrainOptions
from .projector import Projector, TrainedProjector
from .training import fit_projectors

ProgressFn = Callable[[int, int, str], None]
#: projectors trained by default (CLI ``ugrn train``, app Train page): registry specs with ``default_trained``
DEFAULT_METHODS = tuple(registry.names(default_trained=True))


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


def load_translator(path=None) -> Translator:
    """A saved translator folder; default (``config.default_translator_dir``): ``$UGRN_APP_TRANSLATOR`` when set,
    else the bundled one trained on STRING/hESC/500."""
    return Translator.load(resolve_translator_dir(path))
