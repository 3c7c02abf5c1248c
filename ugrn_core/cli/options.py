"""Argument types and option groups shared by several ``ugrn`` commands (projector training flags, bounded numbers)."""

from __future__ import annotations

import argparse

from tqdm.auto import tqdm

from ..errors import ParameterError


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


class TqdmProgress:
    """``progress(done, total, message)`` callback that drives one tqdm bar per kind of work (message prefix)."""

    def __init__(self, disable: bool = False):
        self.bars: dict[str, tqdm] = {}
        self.disable = disable

    def __call__(self, done: int, total: int, message: str) -> None:
        kind = message.split(":")[0].split(" base value")[0]
        bar = self.bars.get(kind)
        if bar is None or bar.total != total or done < bar.n:
            if bar is not None:
                bar.close()
            bar = self.bars[kind] = tqdm(total=total, desc=kind, leave=False, disable=self.disable)
        bar.set_postfix_str(message[len(kind):].strip(": "), refresh=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
            self.bars.pop(kind, None)


def seed_list(text) -> list[int]:
    """Seeds from ``--seeds``: comma-separated integers and ranges, e.g. "0,1,2" or "0-9" (empty → [])."""
    out: list[int] = []
    for item in (t.strip() for t in str(text or "").split(",") if t.strip()):
        lo, _, hi = item.partition("-")
        try:
            out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
        except ValueError:
            raise ParameterError(f"--seeds: expected integers or ranges like 0-9, got {item!r}") from None
    return out
