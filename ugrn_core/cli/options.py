"""Argument types and option groups shared by several ``ugrn`` commands (projector training flags, bounded numbers)."""

from __future__ import annotations

import argparse


def _train_option_args(p):
    """Add the projector-training flags (all but ``--epochs``) to parser ``p``; returns their argument group."""
    from ..translator.options import DEFAULT_OPTIONS as d

    g = p.add_argument_group("projector training (unset = translator.DEFAULT_OPTIONS, recorded in meta.json; "
                             "--weight-decay 0 --dropout 0 --val-fraction 0 = the UGRN paper's training)")
    g.add_argument("--weight-decay", type=_number(float, 0), default=None,
                   help=f"Adam L2 weight decay (default {d.weight_decay:g})")
    g.add_argument("--dropout", type=_number(float, 0), default=None,
                   help=f"dropout after each hidden layer, [0, 1) (default {d.dropout:g})")
    g.add_argument("--val-fraction", type=_number(float, 0), default=None,
                   help=f"held-out fraction of training pairs for early stopping, 0 = none (default {d.val_fraction:g})")
    g.add_argument("--patience", type=_number(int, 1), default=None,
                   help=f"early-stopping patience in epochs (default {d.patience})")
    return g


def _train_options(args):
    """``translator.TrainOptions`` from ``ugrn train``'s / ``ugrn benchmark``'s flags (unset flags keep
    ``translator.DEFAULT_OPTIONS``). Raises ParameterError for values out of range."""
    from ..translator.options import DEFAULT_OPTIONS, TrainOptions

    d = DEFAULT_OPTIONS.to_dict()
    for k in ("epochs", "weight_decay", "dropout", "val_fraction", "patience"):
        if getattr(args, k, None) is not None:
            d[k] = getattr(args, k)
    return TrainOptions.from_dict(d)


def _number(kind, lo, lo_open=False):
    """An argparse type: ``kind`` (int/float) that is finite and ≥ ``lo`` (> ``lo`` when ``lo_open``)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if value != value or value in (float("inf"), float("-inf")) or value < lo or (lo_open and value == lo):
            raise argparse.ArgumentTypeError(f"{text} is out of range; expected a number {'>' if lo_open else '≥'} {lo:g}")
        return value

    parse.__name__ = kind.__name__
    return parse
