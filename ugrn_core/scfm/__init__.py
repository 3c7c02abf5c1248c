"""The single-cell foundation model side: scGPT checkpoints, virtual-cell queries, their planning, binning, the
gene vocabulary and pretraining.

- ``scgpt``: the scGPT import shim; ``model``: ``ScFM``, the frozen model answering virtual-cell queries;
- ``threads``: CPU batches side by side, one torch thread each (results independent of the thread count);
- ``checkpoint``: load / save checkpoint folders (official layout; weights stored in fp32 or fp16), fresh and
  random models;
- ``planning``: rows per call and precision on a GPU; ``binning``: scGPT's per-cell value bins;
- ``vocab``: dataset genes → checkpoint tokens (orthologs); ``pretrain``: pretrain a compact scGPT.

The names below are the package's public face (``from ugrn_core.scfm import load_checkpoint``).
"""

from .binning import bin_values
from .checkpoint import (CHECKPOINT_SHAPES, STORAGES, build_model, census_vocab_path, convert_checkpoint,
                         default_precision, load_checkpoint, random_checkpoint, save_checkpoint)
from .model import ARCH_KEYS, CPU_BATCH, PRECISIONS, SPECIAL_TOKENS, ScFM
from .scgpt import import_transformer_model
from .planning import activation_bytes_per_row, gpu_batch_size

__all__ = ["ARCH_KEYS", "CHECKPOINT_SHAPES", "CPU_BATCH", "PRECISIONS", "SPECIAL_TOKENS", "STORAGES", "ScFM",
           "activation_bytes_per_row", "bin_values", "build_model", "census_vocab_path", "convert_checkpoint",
           "default_precision",
           "gpu_batch_size", "import_transformer_model", "load_checkpoint", "random_checkpoint", "save_checkpoint"]
