"""scGPT checkpoint folders: load (official model-zoo layout, flash-attn or torch key names), save, build a fresh
model, and write random checkpoints in released shapes (stand-ins for real weights in tests and timing)."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Iterable, Mapping

import torch

from .._io import atomic_folder
from ..config import default_device, resolve_checkpoint_dir, resolve_device
from ..errors import CheckpointError, CheckpointNotFound
from .model import SPECIAL_TOKENS, ScFM
from .scgpt import _model_kwargs, _normalise_state_dict, _read_json, import_transformer_model


# --------------------------------------------------------------------------------------------- load / save
def _hash_files(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def default_precision(device: str | torch.device) -> str:
    """Precision new models use on ``device``: ``fp32`` everywhere.

    bf16 autocast is offered (``precision="bf16"``) but not the default on GPUs: its effect on the benchmark's
    AUPRC has not been measured on a GPU yet (``benchmarks/gpu_probe.py`` measures its feature error).
    """
    return "fp32"


def load_checkpoint(path: str | os.PathLike, device: str | torch.device | None = None, precision: str | None = None) -> ScFM:
    """Load an scGPT checkpoint folder in the official layout into scgpt's ``TransformerModel``.

    Accepts flash-attn ``Wqkv`` key names (renamed to torch's ``in_proj_*``), ``module.`` prefixes, a
    ``model_state_dict`` wrapper, and weights stored in fp32 or in fp16 / bf16 (``save_checkpoint(storage="fp16")``:
    cast to fp32 on loading, so compute runs in ``precision`` whatever the storage). Appends ``<pad>``, ``<cls>``, ``<eoc>`` to the vocabulary if missing. Optional
    heads (MVC decoder, explicit zero-probability head) are enabled when their weights are present.

    Args:
        path: folder with ``args.json``, ``vocab.json``, ``best_model.pt``.
        device: torch device; default ``cuda`` when available, else ``cpu`` (see ``config.default_device``).
        precision: ``fp32``, ``tf32``, ``bf16`` or ``fp16`` (see ``ScFM.precision``); default ``default_precision(device)``.
    Raises:
        FileNotFoundError: the folder or one of the three files is missing (the message names it).
        ValueError: unsupported configuration (pre-norm, non-continuous value encoder), or any core weight missing
            from or mis-shaped in ``best_model.pt`` (only ``cls_decoder.*`` may be absent) — never silently dropped.
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        raise CheckpointNotFound(f"Checkpoint folder '{path}' not found; expected a folder in the official scGPT "
                                 "layout (args.json, vocab.json, best_model.pt)")
    files = {name: path / name for name in ("args.json", "vocab.json", "best_model.pt")}
    for name, f in files.items():
        if not f.is_file():
            raise CheckpointNotFound(
                f"Checkpoint folder '{path}' lacks {name}; expected the official scGPT layout "
                "(args.json, vocab.json, best_model.pt)"
            )
    args, vocab = _read_json(files["args.json"]), _read_json(files["vocab.json"])
    if not isinstance(args, dict):
        raise CheckpointError(f"{files['args.json']}: expected a JSON object of model arguments, found {type(args).__name__}")
    try:
        vocab = {str(k): int(v) for k, v in vocab.items()}
    except (AttributeError, TypeError, ValueError):
        raise CheckpointError(f"{files['vocab.json']}: expected a JSON object {{token: integer index}}") from None
    for tok in SPECIAL_TOKENS:
        if tok not in vocab:
            vocab[tok] = len(vocab)
    if sorted(vocab.values()) != list(range(len(vocab))):
        raise CheckpointError(f"{files['vocab.json']}: token indices must be exactly 0..{len(vocab) - 1}")

    try:
        raw = torch.load(files["best_model.pt"], map_location="cpu", weights_only=True)
    except Exception as e:  # truncated zip, not a torch file, or a pickle that weights_only refuses
        raise CheckpointError(f"{files['best_model.pt']} ({files['best_model.pt'].stat().st_size} bytes) cannot be read "
                              f"as a torch state dict: truncated, corrupt or not a checkpoint "
                              f"({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
    if not isinstance(raw, Mapping) or not all(isinstance(v, (torch.Tensor, Mapping)) for v in raw.values()):
        raise CheckpointError(f"{files['best_model.pt']}: expected a state dict {{parameter name: tensor}}, "
                              f"found {type(raw).__name__}")
    state = _normalise_state_dict(raw)
    # fp16/bf16-stored weights (``save_checkpoint(storage="fp16")``) come back as fp32 for compute
    state = {k: v.float() if torch.is_tensor(v) and v.dtype in _HALF_DTYPES else v for k, v in state.items()}
    kw = _model_kwargs(args)
    kw["do_mvc"] = any(k.startswith("mvc_decoder.") for k in state)
    kw["explicit_zero_prob"] = any(k.startswith("decoder.zero_logit.") for k in state)
    if any(k.startswith(("dsbn.", "batch_encoder.", "bn.")) for k in state):
        raise CheckpointError(f"{files['best_model.pt']}: batch-aware checkpoints (DSBN / batch encoder) are not supported")

    TransformerModel = import_transformer_model()
    model = TransformerModel(ntoken=len(vocab), vocab=vocab, **kw)
    expected = model.state_dict()
    problems = []
    for key, tensor in expected.items():
        if key.startswith("cls_decoder."):
            continue
        if key not in state:
            problems.append(f"missing {key}")
        elif tuple(state[key].shape) != tuple(tensor.shape):
            problems.append(f"{key}: shape {tuple(state[key].shape)} != expected {tuple(tensor.shape)}")
    if problems:
        raise CheckpointError(f"{files['best_model.pt']} does not match args.json/vocab.json ({len(vocab)} tokens with "
                              "the special ones): " + "; ".join(problems[:10]))
    model.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=False)
    torch.backends.mha.set_fastpath_enabled(False)  # CPU fast path is slower and differs from the gradient path
    dev = torch.device(device or default_device())
    model.to(dev).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return ScFM(model=model, vocab=vocab, args=args, device=dev, checkpoint_id=_hash_files(files.values()), path=path,
                precision=precision or default_precision(dev))


def save_checkpoint(
    model: torch.nn.Module, vocab: Mapping[str, int], args: Mapping, path: str | os.PathLike, flash_attn_names: bool = True,
    extra_files: Mapping[str, str] | None = None, storage: str = "fp32",
) -> Path:
    """Write a checkpoint folder in the official scGPT layout (atomically: temp folder, then rename).

    Args:
        model: a scgpt ``TransformerModel``.
        vocab: token → index (0..n-1), special tokens included.
        args: ``args.json`` content (official key names: ``embsize``, ``nheads``, ``d_hid``, ``nlayers``, ...).
        flash_attn_names: store attention weights as ``self_attn.Wqkv.*``, as the released checkpoints do.
        extra_files: file name → text written into the same folder (model card, training summary).
        storage: ``fp32`` (default) or ``fp16``: the dtype of the floating-point tensors in ``best_model.pt``. fp16
            halves the file (2 bytes per parameter; relative rounding ≤ 2⁻¹¹ ≈ 4.9e-4 per weight); ``load_checkpoint``
            casts back to fp32. ``args.json`` then records ``"weights_storage": "fp16"``.
    Returns: the folder path.
    Raises: ParameterError for another ``storage``; CheckpointError when a weight overflows fp16 (|w| > 65504).
    """
    path = Path(path)
    state = _storage_state({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, storage)
    if flash_attn_names:
        state = {k.replace("self_attn.in_proj_weight", "self_attn.Wqkv.weight")
                  .replace("self_attn.in_proj_bias", "self_attn.Wqkv.bias"): v for k, v in state.items()}
    args = dict(args, weights_storage="fp16") if storage == "fp16" else dict(args)
    with atomic_folder(path) as tmp:
        (tmp / "args.json").write_text(json.dumps(dict(args), indent=2))
        (tmp / "vocab.json").write_text(json.dumps(dict(vocab)))
        torch.save(state, tmp / "best_model.pt")
        for name, text in (extra_files or {}).items():  # e.g. MODEL_CARD.md, written in the same atomic folder
            (tmp / name).write_text(text)
    return path


_HALF_DTYPES = (torch.float16, torch.bfloat16)
STORAGES = ("fp32", "fp16")  # dtypes ``save_checkpoint`` stores weights in


def _storage_state(state: Mapping[str, torch.Tensor], storage: str) -> dict[str, torch.Tensor]:
    """``state`` with its floating-point tensors in the ``storage`` dtype (fp32 or fp16); others unchanged.

    Raises: ParameterError for an unknown storage; CheckpointError naming the first tensor that overflows fp16.
    """
    from ..errors import ParameterError

    if storage not in STORAGES:
        raise ParameterError(f"checkpoint storage {storage!r}; expected one of {list(STORAGES)}")
    dtype = torch.float16 if storage == "fp16" else torch.float32
    out = {}
    for key, value in state.items():
        if torch.is_tensor(value) and value.is_floating_point():
            cast = value.to(dtype)
            if not torch.isfinite(cast).all() and torch.isfinite(value).all():
                raise CheckpointError(f"weight {key} (max |w| = {value.abs().max().item():.4g}) overflows {storage} "
                                      f"(largest value 65504); store this checkpoint in fp32")
            value = cast
        out[key] = value
    return out


def convert_checkpoint(src: str | os.PathLike, out: str | os.PathLike, storage: str = "fp16") -> Path:
    """Copy the checkpoint folder ``src`` to ``out`` with ``best_model.pt`` stored in ``storage`` (fp16 or fp32).

    Every other file (model card, ``gene_counts.tsv``, training summary) is copied unchanged; ``args.json`` gains
    ``"weights_storage": "fp16"`` (or loses it for fp32). Key names and layout stay as in ``src``. Written atomically.

    Raises: CheckpointNotFound when ``src`` lacks a layout file; ParameterError / CheckpointError as
        ``save_checkpoint``.
    """
    import shutil

    src, out = Path(src).expanduser(), Path(out)
    for name in ("args.json", "vocab.json", "best_model.pt"):
        if not (src / name).is_file():
            raise CheckpointNotFound(f"Checkpoint folder '{src}' lacks {name}; expected the official scGPT layout "
                                     "(args.json, vocab.json, best_model.pt)")
    state = _storage_state(torch.load(src / "best_model.pt", map_location="cpu", weights_only=True), storage)
    args = {k: v for k, v in _read_json(src / "args.json").items() if k != "weights_storage"}
    if storage == "fp16":
        args["weights_storage"] = "fp16"
    with atomic_folder(out) as tmp:
        for f in src.iterdir():
            if f.is_file() and f.name not in ("args.json", "best_model.pt"):
                shutil.copy2(f, tmp / f.name)
        (tmp / "args.json").write_text(json.dumps(args, indent=2))
        torch.save(state, tmp / "best_model.pt")
    return out


def build_model(vocab: Mapping[str, int], args: Mapping) -> torch.nn.Module:
    """A freshly initialised scgpt ``TransformerModel`` for ``args`` (official ``args.json`` keys) and ``vocab``."""
    TransformerModel = import_transformer_model()
    torch.backends.mha.set_fastpath_enabled(False)
    return TransformerModel(ntoken=len(vocab), vocab=dict(vocab), **_model_kwargs(args))


# --------------------------------------------------------------------------------- random checkpoints (stand-ins)
# Model shapes of released scGPT checkpoints (args.json keys), and of the bundled compact model (width 64, ``ugrn
# pretrain``'s default, on the broad corpus since 2026-12-07; width 128 on the original corpus 2026-12-06 → 07). scGPT_human:
# whole-human pretraining, 60,697 tokens (the census gene list + 3 specials), 12 layers, width 512, 8 heads,
# d_hid 512, MVC head, post-norm, max_seq_len 1200 (scGPT model zoo, Cui et al. 2024).
CHECKPOINT_SHAPES: dict[str, dict] = {
    "scGPT_human": dict(embsize=512, nheads=8, d_hid=512, nlayers=12, n_layers_cls=3, dropout=0.2, pad_token="<pad>",
                        pad_value=-2, mask_value=-1, n_bins=51, input_style="binned", input_emb_style="continuous",
                        max_seq_len=1200, MVC=True, fast_transformer=True),
    "compact": dict(embsize=64, nheads=4, d_hid=128, nlayers=2, n_layers_cls=3, dropout=0.0, pad_token="<pad>",
                    pad_value=-2, mask_value=-1, n_bins=51, input_style="binned", input_emb_style="continuous",
                    max_seq_len=1200, MVC=False, fast_transformer=False, pre_norm=False),
}


def census_vocab_path() -> Path:
    """``scgpt/tokenizer/default_census_vocab.json`` of the installed scgpt package: scGPT_human's 60,694 genes.

    Raises: ImportError when scgpt is not installed; FileNotFoundError when the file is not in the package.
    """
    spec = importlib.util.find_spec("scgpt")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("scgpt is not installed: run `pip install --no-deps scgpt==0.2.4`")
    path = Path(list(spec.submodule_search_locations)[0]) / "tokenizer" / "default_census_vocab.json"
    if not path.is_file():
        raise FileNotFoundError(f"scgpt's census vocabulary not found at {path}")
    return path


def random_checkpoint(
    out: str | os.PathLike,
    like: str = "scGPT_human",
    vocab: Mapping[str, int] | str | os.PathLike | None = None,
    n_genes: int | None = None,
    seed: int = 0,
    **overrides,
) -> Path:
    """Write a randomly initialised checkpoint in an official scGPT shape: the stand-in for real weights in tests
    and timing (same layout, shapes, key names and cost; meaningless predictions).

    The folder has the official layout (``args.json``, ``vocab.json``, ``best_model.pt`` with flash-attn
    ``self_attn.Wqkv.*`` names, as released checkpoints) and loads with ``load_checkpoint``.

    Args:
        out: folder to write (atomically; replaced if it exists).
        like: a key of ``CHECKPOINT_SHAPES``: ``scGPT_human`` (default) or ``compact``.
        vocab: ``{gene: index}`` or a vocab.json path; default for ``scGPT_human`` scgpt's census vocabulary
            (60,694 genes → 60,697 tokens with ``<pad>``, ``<cls>``, ``<eoc>``), for ``compact`` the bundled
            compact checkpoint's vocabulary.
        n_genes: keep only the first ``n_genes`` genes of the vocabulary (small test checkpoints).
        seed: torch seed of the initialisation (torch's default initialisers, scgpt's uniform ±0.1 gene embeddings).
        overrides: ``args.json`` entries replacing the shape's (e.g. ``nlayers=4``, ``embsize=256``, ``nheads=4``).
    Returns: the folder path.
    Raises: ValueError for an unknown ``like`` or ``embsize`` not divisible by ``nheads``.
    """
    if like not in CHECKPOINT_SHAPES:
        raise ValueError(f"unknown checkpoint shape {like!r}; expected one of {sorted(CHECKPOINT_SHAPES)}")
    args = {**CHECKPOINT_SHAPES[like], **{k: v for k, v in overrides.items() if v is not None}, "like": like, "seed": seed}
    if args["embsize"] % args["nheads"]:
        raise ValueError(f"embsize {args['embsize']} is not divisible by nheads {args['nheads']}")
    if vocab is None:
        from ..config import DEFAULT_CHECKPOINT_DIR

        vocab = census_vocab_path() if like == "scGPT_human" else DEFAULT_CHECKPOINT_DIR / "vocab.json"
    if not isinstance(vocab, Mapping):
        vocab = json.loads(Path(vocab).read_text())
    genes = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1]) if t not in SPECIAL_TOKENS]
    if n_genes is not None:
        genes = genes[: int(n_genes)]
    full = {g: i for i, g in enumerate(genes)}
    for tok in SPECIAL_TOKENS:
        full[tok] = len(full)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(full, args)
    return save_checkpoint(model.eval(), full, args, out, flash_attn_names=True)


@functools.lru_cache(maxsize=4)
def _load_model(path: str, device: str, precision: str | None) -> ScFM:
    return load_checkpoint(path, device, precision)


def load_model(checkpoint=None, device=None, precision: str | None = None) -> ScFM:
    """Load (once per process) a checkpoint folder in the official scGPT layout; default
    (``config.default_checkpoint_dir``): ``$UGRN_APP_CHECKPOINT`` when set, else the bundled compact model.

    ``precision``: ``fp32``, ``tf32``, ``bf16`` or ``fp16`` (``ScFM.precision``); default ``scfm.default_precision``.
    """
    return _load_model(str(resolve_checkpoint_dir(checkpoint)), resolve_device(device), precision)
