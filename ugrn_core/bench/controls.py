"""Controls that expose shortcuts in the cross-dataset benchmark: an untrained twin of the checkpoint, shuffled
training labels and the unseen-gene view.

- Random-init twin: the same scGPT architecture (``args.json``) and vocabulary, freshly initialised with a fixed seed
  and never trained. Whatever a translator reaches on the twin's probes comes from the probing procedure, gene
  identity and the label structure, not from pretraining; real − twin is the part pretraining contributes.
- Shuffled labels: the translator trained on permuted training labels (the label–feature link destroyed, the label
  frequencies kept). It should land at the positive rate.
- Unseen-gene view: test pairs whose TF and target token never occur in the training pairs (the paper's claim of
  "inference on unseen genes", Sec. 4.4), so no gene-level memory of the training network can help.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CheckpointError

TWIN_SEED = 20260521  # fixed seed of the random-init twin (any fixed value; recorded in the twin's args.json)


def make_twin(checkpoint: str | os.PathLike, out: str | os.PathLike, seed: int = TWIN_SEED) -> Path:
    """Write an untrained twin of the scGPT checkpoint folder ``checkpoint`` to folder ``out`` (official layout).

    The twin has the same ``args.json`` model arguments and the same ``vocab.json``; its weights come from scgpt's
    ``TransformerModel`` initialisation under ``torch.manual_seed(seed)`` (deterministic: the same seed writes the
    same weights). ``args.json`` records ``twin_of`` (the source folder's name) and ``twin_seed``, and drops the
    source's training provenance (``init_checkpoint_id``; ``pretrain_steps`` is 0), so a twin depends only on the
    architecture, vocabulary, folder name and seed: a longer-trained checkpoint in the same folder keeps its twin.
    Written atomically.
    Its ``checkpoint_id`` (a content hash) differs from the source's, so its probes are cached separately.
    A source stored in fp16 (``args.json`` ``weights_storage``) gets a twin stored in fp16 too (same weight rounding).

    Raises: FileNotFoundError when ``checkpoint`` lacks args.json / vocab.json.
    """
    import torch

    from ..scfm.checkpoint import build_model, save_checkpoint
    from ..scfm.model import SPECIAL_TOKENS

    src = Path(checkpoint)
    for name in ("args.json", "vocab.json"):
        if not (src / name).is_file():
            raise FileNotFoundError(f"checkpoint folder '{src}' lacks {name}; cannot build its random-init twin")
    args = json.loads((src / "args.json").read_text())
    vocab = {str(k): int(v) for k, v in json.loads((src / "vocab.json").read_text()).items()}
    for tok in SPECIAL_TOKENS:  # same order as scfm.load_checkpoint
        if tok not in vocab:
            vocab[tok] = len(vocab)
    torch.manual_seed(seed)
    model = build_model(vocab, args)
    # training provenance of the source (continued pretraining) is not the twin's: drop it, so that checkpoints of one
    # architecture and vocabulary in a folder of the same name share one twin (and its cached probes)
    twin_args = dict({k: v for k, v in args.items() if k != "init_checkpoint_id"}, twin_of=str(src.name),
                     twin_seed=int(seed), pretrain_steps=0)
    twin_args.pop("weights_storage", None)  # written back by save_checkpoint when the source is stored in fp16
    return save_checkpoint(model, vocab, twin_args, out, storage=str(args.get("weights_storage", "fp32")))


def shuffle_labels(pairs: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A copy of training ``pairs`` [tf, target, label] with the ``label`` column permuted (``default_rng(seed)``).

    Same positive count, same pairs; the TF/target ↔ label link is destroyed.
    """
    out = pairs.copy()
    out["label"] = np.random.default_rng(seed).permutation(out["label"].to_numpy())
    return out


def unseen_gene_mask(tf_tokens, target_tokens, train_tokens: set) -> np.ndarray:
    """Bool (P,): True where neither the TF's nor the target's vocabulary token occurs (as TF or as target) in the
    training pairs. ``train_tokens``: the set of tokens of every gene in the training pairs."""
    tf_tokens, target_tokens = list(tf_tokens), list(target_tokens)
    return np.fromiter((a not in train_tokens and b not in train_tokens for a, b in zip(tf_tokens, target_tokens)),
                       dtype=bool, count=len(tf_tokens))


def load_twin(fm, folder: str | os.PathLike | None = None, seed: int = TWIN_SEED, device=None):
    """The random-init twin of loaded checkpoint ``fm`` (``scfm.ScFM`` with a ``path``) as an ``ScFM``.

    ``folder``: where the twin checkpoint lives or is written (default ``<cache dir>/twins/<checkpoint_id>-<seed>``);
    an existing folder is reused when its ``args.json`` records the same ``twin_seed``. Writing it holds a lock
    (``fcntl.flock`` beside the folder), so processes started together write it once.
    Raises: ValueError when ``fm`` was not loaded from a folder.
    """
    from ..config import cache_dir
    from ..scfm.checkpoint import load_checkpoint

    if fm.path is None:
        raise CheckpointError("the random-init twin needs a checkpoint loaded from a folder (ScFM.path is None)")
    from .._io import lock_file

    folder = Path(folder) if folder is not None else cache_dir() / "twins" / f"{fm.checkpoint_id}-{seed}"
    args_file = folder / "args.json"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with lock_file(folder.parent / f".{folder.name}.lock"):  # two processes: one writes, the other waits
        if not (args_file.is_file() and json.loads(args_file.read_text()).get("twin_seed") == int(seed)):
            make_twin(fm.path, folder, seed)
    return load_checkpoint(folder, device or fm.device, fm.precision)
