"""How projectors are trained: ``TrainOptions`` (the paper's settings and the regularised default)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import ParameterError



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
