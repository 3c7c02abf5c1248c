"""The scGPT import shim: scgpt's ``TransformerModel`` imported without the rest of the scgpt package (installed
``--no-deps``: its tokenizer needs the dead torchtext), official ``args.json`` keys mapped to the model's keywords,
and checkpoint state dicts normalised (flash-attn ``Wqkv`` names → torch's ``in_proj_*``, ``module.`` prefixes)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import types
import warnings
from pathlib import Path
from typing import Mapping

import torch

from ..errors import CheckpointError

_PRIVATE_PKG = "_ugrn_scgpt_model"

# args.json key → TransformerModel keyword (official scGPT naming on the left).
_ARG_MAP = {
    "embsize": "d_model",
    "nheads": "nhead",
    "d_hid": "d_hid",
    "nlayers": "nlayers",
    "n_layers_cls": "nlayers_cls",
    "dropout": "dropout",
    "pad_token": "pad_token",
    "pad_value": "pad_value",
    "n_bins": "n_input_bins",
    "input_emb_style": "input_emb_style",
    "MVC": "do_mvc",
    "explicit_zero_prob": "explicit_zero_prob",
}


def import_transformer_model() -> type:
    """Return scgpt's ``TransformerModel`` class without executing ``scgpt/__init__.py``.

    ``import scgpt`` fails with modern torch (its tokenizer imports the dead torchtext). The model code in
    ``scgpt/model/model.py`` (with siblings ``dsbn.py``, ``grad_reverse.py``) needs only torch, numpy and tqdm,
    so we register a private package whose ``__path__`` is the installed ``scgpt/model/`` folder and import
    ``model.py`` as its submodule. The "flash_attn is not installed" warning is expected and silenced.

    Raises:
        ImportError: scgpt is not installed (install it with ``pip install --no-deps scgpt==0.2.4``).
    """
    name = f"{_PRIVATE_PKG}.model"
    if name in sys.modules:
        return sys.modules[name].TransformerModel
    spec = importlib.util.find_spec("scgpt")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("scgpt is not installed: run `pip install --no-deps scgpt==0.2.4`")
    model_dir = Path(list(spec.submodule_search_locations)[0]) / "model"
    pkg = types.ModuleType(_PRIVATE_PKG)
    pkg.__path__ = [str(model_dir)]
    sys.modules[_PRIVATE_PKG] = pkg
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="flash_attn is not installed")
        module = importlib.import_module(name)
    return module.TransformerModel


def _model_kwargs(args: Mapping) -> dict:
    """Translate official ``args.json`` entries into ``TransformerModel`` keyword arguments."""
    if args.get("pre_norm", False):
        raise CheckpointError(
            "args.json has pre_norm=true: pre-norm scGPT checkpoints are not reproduced by torch's encoder layers "
            "without flash-attn; only post-norm checkpoints (all released scGPT models) are supported"
        )
    kw = {dst: args[src] for src, dst in _ARG_MAP.items() if src in args}
    missing = [k for k in ("embsize", "nheads", "d_hid", "nlayers") if k not in args]
    if missing:
        raise CheckpointError(f"args.json lacks required model arguments {missing}; expected the official scGPT "
                              "keys embsize, nheads, d_hid, nlayers")
    kw.setdefault("pad_token", "<pad>")
    kw.setdefault("pad_value", -2)
    kw.setdefault("input_emb_style", "continuous")
    if kw["input_emb_style"] != "continuous":
        raise CheckpointError(
            f"args.json input_emb_style={kw['input_emb_style']!r}: virtual-value probing needs the 'continuous' "
            "value encoder (float inputs with gradients)"
        )
    kw["use_fast_transformer"] = False
    return kw


def _read_json(path: Path):
    """Parsed JSON of a checkpoint file. Raises CheckpointError naming the file and the parse error."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckpointError(f"{path}: not valid UTF-8 JSON ({type(e).__name__}: {e})") from None


def _normalise_state_dict(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Unwrap ``model_state_dict``, strip ``module.`` prefixes and rename flash-attn ``Wqkv`` to torch names."""
    if "model_state_dict" in state and isinstance(state["model_state_dict"], Mapping):
        state = state["model_state_dict"]
    out = {}
    for key, value in state.items():
        key = key.removeprefix("module.")
        key = key.replace("self_attn.Wqkv.weight", "self_attn.in_proj_weight")
        key = key.replace("self_attn.Wqkv.bias", "self_attn.in_proj_bias")
        out[key] = value
    return out
