"""The frozen single-cell foundation model: scGPT checkpoints and virtual-cell queries.

A checkpoint is a folder in the official scGPT model-zoo layout (e.g. ``scGPT_human``):

- ``args.json``: training arguments (``embsize``, ``nheads``, ``d_hid``, ``nlayers``, ``pad_token``, ``pad_value``, ...);
- ``vocab.json``: flat ``{token: index}``;
- ``best_model.pt``: a plain state dict (or one wrapped in ``model_state_dict``), attention weights named as
  flash-attn saved them (``self_attn.Wqkv.*``) or as torch names them (``self_attn.in_proj_*``).

The network itself is scgpt's own ``TransformerModel`` (scgpt 0.2.4, installed ``--no-deps``); this module only
loads it, keeps it frozen in eval mode and queries it with *virtual cells*: every context gene gets a value chosen
by us instead of a measured, binned expression (UGRN paper, Sec. 3.3). Values are in scGPT's input space, the
per-cell bins 0..50 used in pretraining (0 = not expressed); the ``<cls>`` position always gets ``pad_value``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import json
import os
import sys
import time
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import torch

from . import threads
from ._io import atomic_folder
from .config import default_device
from .errors import CheckpointError, CheckpointNotFound

SPECIAL_TOKENS = ("<pad>", "<cls>", "<eoc>")
# model arguments that fix the weights' shapes and meaning: checkpoints equal in these (and in vocabulary) can load
# each other's weights and share one random-init twin
ARCH_KEYS = ("embsize", "nheads", "d_hid", "nlayers", "n_bins", "input_emb_style", "max_seq_len")
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
ProgressFn = Callable[[int, int, str], None]

# precision → autocast dtype (None: float32 arithmetic; "tf32" lets CUDA matrix products use TensorFloat-32)
PRECISIONS = {"fp32": None, "tf32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
CPU_BATCH = 4  # rows per model call on CPU (measured best on 2 cores, see ScFM.probe_batch_size)


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


@dataclass
class ScFM:
    """A frozen scGPT model with its vocabulary, ready for virtual-cell queries.

    Attributes:
        model: scgpt ``TransformerModel`` in eval mode with ``requires_grad=False`` on every parameter.
        vocab: token → index, including ``<pad>``, ``<cls>``, ``<eoc>``.
        args: the checkpoint's ``args.json`` (with defaults filled in).
        device: torch device the model lives on.
        checkpoint_id: short content hash of the weights and vocabulary (16 hex chars), used as the cache key.
        path: the checkpoint folder, when loaded from disk.
        precision: ``fp32`` (plain float32), ``tf32`` (float32 with TensorFloat-32 matrix products on CUDA; the same
            as fp32 on CPU), ``bf16`` or ``fp16`` (mixed precision: ``torch.autocast`` around every model call;
            matrix products and attention in 16-bit, layer norms, softmax statistics and the returned features in
            float32). Probes in any precision but fp32 are cached apart from fp32 ones.
    """

    model: torch.nn.Module
    vocab: dict[str, int]
    args: dict
    device: torch.device
    checkpoint_id: str
    path: Path | None = None
    precision: str = "fp32"
    _genes: list[str] | None = field(default=None, repr=False)
    _row_seconds: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision {self.precision!r} is not one of {sorted(PRECISIONS)}")

    # ----------------------------------------------------------------- basics
    @property
    def n_layers(self) -> int:
        return len(self.model.transformer_encoder.layers)

    @property
    def d_model(self) -> int:
        return int(self.model.d_model)

    @property
    def max_seq_len(self) -> int:
        """Longest context the checkpoint was trained with, ``<cls>`` included (``args.json`` ``max_seq_len``)."""
        return int(self.args.get("max_seq_len", 1200))

    @property
    def cls_value(self) -> float:
        return float(self.args.get("pad_value", -2))

    @property
    def genes(self) -> list[str]:
        """Vocabulary tokens that are genes (special tokens removed), in index order."""
        if self._genes is None:
            inv = sorted(self.vocab.items(), key=lambda kv: kv[1])
            self._genes = [t for t, _ in inv if t not in SPECIAL_TOKENS]
        return self._genes

    def probe_batch_size(self, kind: str = "forward", n_genes: int | None = None) -> int:
        """Rows per model call when probing: ``forward`` (no-grad rows) or ``backward`` (Jacobian rows).

        On CPU small batches are fastest: the attention kernel's working set (B·heads·N² floats) then stays in
        cache; measured on 2 cores with the bundled model, batch 4 gives 2.4× the forward rows/s of batch 64 and
        1.6× the Jacobian rows/s of batch 32 (N = 560). On a GPU the batch is sized from the free device memory
        (``torch.cuda.mem_get_info``) and the activation memory one row needs at this context length
        (``activation_bytes_per_row``, ``gpu_batch_size``).

        Args:
            kind: ``forward`` or ``backward``.
            n_genes: context genes N (``<cls>`` is added); default ``max_seq_len - 1``.
        """
        if kind not in ("forward", "backward"):
            raise ValueError(f"kind must be 'forward' or 'backward', got {kind!r}")
        if self.device.type != "cuda":
            return CPU_BATCH
        free, _ = torch.cuda.mem_get_info(self.device)
        layer = self.model.transformer_encoder.layers[0]
        per_row = activation_bytes_per_row(
            (n_genes or self.max_seq_len - 1) + 1, self.n_layers, layer.self_attn.num_heads, self.d_model,
            layer.linear1.out_features, kind=kind, precision=self.precision,
        )
        return gpu_batch_size(free, per_row, kind=kind)

    def autocast(self):
        """Context manager for model calls in ``self.precision``: a no-op for ``fp32``, TensorFloat-32 CUDA matrix
        products for ``tf32`` (forward and backward), ``torch.autocast`` for ``bf16`` / ``fp16``."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        if self.precision == "tf32":
            return _tf32()
        return torch.autocast(self.device.type, dtype=PRECISIONS[self.precision])

    def _threads(self):
        """Context for one probe call: on CPU torch intra-op threads = 1 (``threads.single_thread``: results
        independent of the thread count), yielding the pool size for ``threads.map_batches``; elsewhere a no-op
        yielding 1 (CUDA behaviour unchanged)."""
        if self.device.type == "cpu":
            return threads.single_thread()
        return contextlib.nullcontext(1)

    def seconds_per_row(self, kind: str, n_genes: int) -> float:
        """Measured wall seconds per probe row on this device: ``forward`` (one virtual cell, VVP/Pert) or
        ``backward`` (one Jacobian row, GDT), for a context of ``n_genes`` genes.

        A short calibration: one untimed warm-up batch, then one timed batch of ``probe_batch_size(kind)`` rows
        over ``n_genes`` genes drawn from the vocabulary (the cost depends on N, not on which genes). Results are
        kept per (kind, N rounded up to a multiple of 32, precision) for the life of this object.

        Returns: positive float seconds per row.
        """
        n_cal = max(32, -(-int(n_genes) // 32) * 32)
        n_cal = min(n_cal, len(self.genes))
        key = (kind, n_cal, self.precision)
        if key not in self._row_seconds:
            ids = self.token_ids(self.genes[:: max(1, len(self.genes) // n_cal)][:n_cal])
            batch = self.probe_batch_size(kind, n_cal)
            run = (lambda: self.perturb(ids, np.full(n_cal, 20.0), np.arange(batch) % n_cal, [30.0])) if kind == "forward" \
                else (lambda: self.jacobian(ids, 20.0, targets=np.arange(batch) % n_cal))
            run()  # warm-up: kernels, allocator, caches
            t = time.perf_counter()
            run()
            # perturb also runs one reference row; count it
            rows = batch + (1 if kind == "forward" else 0)
            self._row_seconds[key] = max((time.perf_counter() - t) / rows, 1e-9)
        return self._row_seconds[key]

    def estimate_seconds(self, forward_rows: int, backward_rows: int, n_genes: int) -> float:
        """Wall-time estimate (s) for ``forward_rows`` virtual cells and ``backward_rows`` Jacobian rows over a
        context of ``n_genes`` genes: calibrated rows × measured seconds per row (``seconds_per_row``)."""
        total = 0.0
        if forward_rows:
            total += forward_rows * self.seconds_per_row("forward", n_genes)
        if backward_rows:
            total += backward_rows * self.seconds_per_row("backward", n_genes)
        return float(total)

    def token_ids(self, tokens: Sequence[str]) -> np.ndarray:
        """Vocabulary indices of ``tokens`` as int64 array of shape (N,). Raises KeyError naming unknown tokens."""
        unknown = [t for t in tokens if t not in self.vocab]
        if unknown:
            raise KeyError(f"{len(unknown)} tokens not in the checkpoint vocabulary, e.g. {unknown[:10]}")
        return np.asarray([self.vocab[t] for t in tokens], dtype=np.int64)

    def _src(self, token_ids: np.ndarray | torch.Tensor, batch: int) -> torch.Tensor:
        ids = torch.as_tensor(np.asarray(token_ids), dtype=torch.long, device=self.device)
        if ids.ndim != 1:
            raise ValueError(f"token_ids must be 1-D (N,), got shape {tuple(ids.shape)}")
        if ids.numel() + 1 > self.max_seq_len:
            warnings.warn(
                f"context of {ids.numel()} genes (+<cls>) exceeds the checkpoint's max_seq_len {self.max_seq_len}; "
                "the model has no positional encoding so this runs, but it is outside what it was trained on"
            )
        cls = torch.full((1,), self.vocab["<cls>"], dtype=torch.long, device=self.device)
        return torch.cat([cls, ids]).unsqueeze(0).expand(batch, -1)

    def _forward(self, src: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Reconstruction (B, N) for gene values (B, N); prepends the ``<cls>`` value and drops its output."""
        values = values.to(self.model.encoder.embedding.weight.dtype)
        cls = torch.full((values.shape[0], 1), self.cls_value, dtype=values.dtype, device=values.device)
        with self.autocast():
            out = self.model(src, torch.cat([cls, values], dim=1), None)["mlm_output"]
        return out[:, 1:] if self.precision == "fp32" else out[:, 1:].float()

    # ---------------------------------------------------------------- queries
    def embeddings(self, token_ids: np.ndarray) -> np.ndarray:
        """Gene token embeddings E[g] from the vocabulary table (UGRN Eq. 7 uses E[g_i] + E[g_j]).

        Returns: float32 array (N, d_model), the raw ``encoder.embedding`` rows (before its LayerNorm).
        """
        ids = torch.as_tensor(np.asarray(token_ids), dtype=torch.long, device=self.device)
        return self.model.encoder.embedding.weight[ids].detach().float().cpu().numpy()

    @torch.no_grad()
    def reconstruct(self, token_ids: np.ndarray, values: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Reconstructed expression M(x) for cells ``values`` over context genes ``token_ids``.

        Args:
            token_ids: int64 (N,) vocabulary indices of the context genes.
            values: float (B, N) or (N,) input values in scGPT's bin space (0..50; 0 = not expressed).
        Returns: float32 (B, N) (or (N,)) expression-decoder predictions ``mlm_output`` without the CLS column.
        """
        vals = np.asarray(values, dtype=np.float32)
        single = vals.ndim == 1
        vals = np.atleast_2d(vals)
        if vals.shape[1] != len(token_ids):
            raise ValueError(f"values has {vals.shape[1]} genes but token_ids has {len(token_ids)}")
        batch_size = batch_size or self.probe_batch_size("forward", len(token_ids))
        with self._threads() as workers:
            src = self._src(token_ids, min(batch_size, len(vals)))  # built here: its warning comes from this thread

            def rows(start: int) -> np.ndarray:
                v = torch.as_tensor(vals[start : start + batch_size], device=self.device)
                with torch.no_grad():
                    return self._forward(src[: len(v)], v).float().cpu().numpy()

            res = np.concatenate(threads.map_batches(rows, range(0, len(vals), batch_size), workers))
        return res[0] if single else res

    @torch.no_grad()
    def perturb(
        self,
        token_ids: np.ndarray,
        base: np.ndarray,
        sources: np.ndarray,
        new_values: Sequence[float],
        batch_size: int | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """Response of every context gene when one source gene at a time is set to each of ``new_values``.

        ``R[t, s, j] = M(base^{sources[s] ← new_values[t]})_j − M(base)_j`` — the common core of the Pert feature
        (UGRN Eq. 6, base = mean cell, new value 0), Origin-Pert (Eq. 3) and VVP (Eq. 8, base = v0·1).
        One forward row per (source, new value) serves every target gene; rows are batched.

        Args:
            token_ids: int64 (N,) context genes.
            base: float (N,) the unperturbed cell in bin space.
            sources: int (S,) positions (0..N-1) of the source genes in the context.
            new_values: T values in bin space.
            batch_size: rows per model call (default ``probe_batch_size("forward", N)``: 4 on CPU, sized from free
                memory on a GPU; halved and retried if the device runs out of memory).
        Returns: float32 array (T, S, N).
        """
        base_t = torch.as_tensor(np.asarray(base, dtype=np.float32), device=self.device)
        n = base_t.numel()
        sources = np.asarray(sources, dtype=np.int64)
        rows = [(t, s) for t in range(len(new_values)) for s in range(len(sources))]
        batch_size = batch_size or self.probe_batch_size("forward", n)
        out = torch.empty((len(new_values), len(sources), n), dtype=torch.float32)
        new_t = torch.as_tensor(np.asarray(new_values, dtype=np.float32), device=self.device)

        with self._threads() as workers:
            ref = self._forward(self._src(token_ids, 1), base_t[None])[0]

            def response(chunk):  # one model call: (len(chunk), N) responses, float32 on the CPU
                ti = torch.as_tensor([r[0] for r in chunk])
                si = torch.as_tensor([r[1] for r in chunk])
                vals = base_t.expand(len(chunk), n).clone()
                vals[torch.arange(len(chunk)), torch.as_tensor(sources[si.numpy()], device=self.device)] = \
                    new_t[ti.to(self.device)]
                with torch.no_grad():
                    return ti, si, (self._forward(src[: len(chunk)], vals) - ref).float().cpu()

            if self.device.type == "cpu":  # batches side by side, each on one thread (``threads``)
                chunks = [rows[k : k + batch_size] for k in range(0, len(rows), batch_size)]
                src = self._src(token_ids, min(batch_size, max(len(rows), 1)))
                ends = np.cumsum([len(c) for c in chunks])

                def done(k):
                    if progress:
                        progress(int(ends[k]), len(rows), "perturbation rows")

                for ti, si, resp in threads.map_batches(response, chunks, workers, done):
                    out[ti, si] = resp
                return out.numpy()

            start = 0
            while start < len(rows):  # accelerator: one batch at a time, halved when out of memory
                chunk = rows[start : start + batch_size]
                src = self._src(token_ids, len(chunk))
                try:
                    ti, si, resp = response(chunk)
                except torch.OutOfMemoryError:
                    batch_size = _halve_batch(batch_size)
                    continue
                out[ti, si] = resp
                start += len(chunk)
                if progress:
                    progress(start, len(rows), "perturbation rows")
        return out.numpy()

    def vvp(
        self,
        token_ids: np.ndarray,
        v0: float,
        target_values: Sequence[float],
        sources: np.ndarray | None = None,
        batch_size: int | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """Virtual Value Perturbation responses (UGRN Eq. 8).

        Every context gene sits at the virtual base value ``v0``; source gene i moves to target value t;
        ``R[t, s, j] = M(v0·1^{i←t})_j − M(v0·1)_j``. No expression data involved.

        Returns: float32 (T, S, N); S = len(sources) (default: every context gene).
        """
        sources = np.arange(len(token_ids)) if sources is None else np.asarray(sources)
        base = np.full(len(token_ids), float(v0), dtype=np.float32)
        return self.perturb(token_ids, base, sources, target_values, batch_size=batch_size, progress=progress)

    def jacobian(
        self,
        token_ids: np.ndarray,
        base_value: float | np.ndarray,
        targets: np.ndarray | None = None,
        batch_size: int | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """Jacobian of the reconstruction at a virtual cell: ``J[k, i] = ∂M(x)_{targets[k]} / ∂x_i`` (UGRN Eq. 9).

        ``x`` is ``base_value·1`` (a scalar virtual base value) or a given (N,) cell. Computed by batched reverse-mode
        autograd: the cell is replicated B times, row b back-propagates target b, so one backward pass yields B full
        Jacobian rows; rows are chunked over targets. Exact (no finite differences).

        Args:
            token_ids: int64 (N,) context genes.
            base_value: scalar virtual base value in bin space, or float (N,) cell.
            targets: int (K,) target positions (default: all N, giving the full N×N Jacobian).
            batch_size: Jacobian rows per backward pass (default ``probe_batch_size("backward", N)``: 4 on CPU, sized
                from free memory on a GPU; halved and retried if the device runs out of memory).
        Returns: float32 (K, N), rows = target genes, columns = source genes.
        """
        n = len(token_ids)
        targets = np.arange(n) if targets is None else np.asarray(targets, dtype=np.int64)
        dtype = self.model.encoder.embedding.weight.dtype
        x0 = torch.as_tensor(np.broadcast_to(np.asarray(base_value, dtype=np.float64), (n,)).copy(), dtype=dtype, device=self.device)
        out = torch.empty((len(targets), n), dtype=torch.float32)
        batch_size = batch_size or self.probe_batch_size("backward", n)

        def grad_rows(start: int) -> torch.Tensor:  # one backward pass: Jacobian rows start.. of at most batch_size
            tgt = torch.as_tensor(targets[start : start + batch_size], device=self.device)
            x = x0.expand(len(tgt), n).clone().requires_grad_(True)
            with torch.enable_grad(), (_tf32() if self.precision == "tf32" else contextlib.nullcontext()):
                rec = self._forward(src[: len(tgt)], x)
                rec.gather(1, tgt[:, None]).sum().backward()
            return x.grad.float().cpu()  # float32 result even for a float64 model

        with self._threads() as workers:
            if self.device.type == "cpu":  # batches side by side, each on one thread (``threads``)
                starts = range(0, len(targets), batch_size)
                src = self._src(token_ids, min(batch_size, max(len(targets), 1)))

                def done(k):
                    if progress:
                        progress(min(starts[k] + batch_size, len(targets)), len(targets), "Jacobian rows")

                for start, rows in zip(starts, threads.map_batches(grad_rows, starts, workers, done)):
                    out[start : start + len(rows)] = rows
                return out.numpy()

            start = 0
            while start < len(targets):  # accelerator: one batch at a time, halved when out of memory
                src = self._src(token_ids, min(batch_size, len(targets) - start))
                try:
                    rows = grad_rows(start)
                except torch.OutOfMemoryError:
                    rows = None  # halved below, once the failed batch's tensors are released with the exception
                if rows is None:
                    batch_size = _halve_batch(batch_size)
                    continue
                out[start : start + len(rows)] = rows
                start += len(rows)
                if progress:
                    progress(start, len(targets), "Jacobian rows")
        return out.numpy()

    @torch.no_grad()
    def attention(self, token_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Attention weights summed over layers (UGRN Eq. 4, Origin-Attn), heads averaged, ``<cls>`` removed.

        Each encoder layer's input is captured with a forward pre-hook and its self-attention recomputed with
        ``need_weights=True``; this equals the attention the layer used (eval mode, no dropout).

        Returns: float32 (N, N) with ``A[q, k]`` = summed weight with which gene q (query) attends to gene k (key).
        """
        with self._threads():  # one row: no pool, but one intra-op thread on CPU (``threads``)
            return self._attention(token_ids, values)

    def _attention(self, token_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
        inputs: list[torch.Tensor] = []
        hooks = [
            layer.register_forward_pre_hook(lambda mod, args, kwargs: inputs.append(args[0]), with_kwargs=True)
            for layer in self.model.transformer_encoder.layers
        ]
        try:
            self.reconstruct(token_ids, np.asarray(values, dtype=np.float32)[None])
        finally:
            for h in hooks:
                h.remove()
        total = None
        for layer, h in zip(self.model.transformer_encoder.layers, inputs):
            _, w = layer.self_attn(h, h, h, need_weights=True, average_attn_weights=True)
            total = w[0] if total is None else total + w[0]
        return total[1:, 1:].float().cpu().numpy()


@contextlib.contextmanager
def _tf32():
    """Let CUDA matrix products and cuDNN use TensorFloat-32 inside the block (torch's flags are global; restored)."""
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def _halve_batch(batch_size: int) -> int:
    """Next batch size after a CUDA out-of-memory error; re-raises when already at one row."""
    if batch_size <= 1:
        raise torch.OutOfMemoryError("one probe row does not fit in the device's free memory")
    torch.cuda.empty_cache()
    warnings.warn(f"device out of memory at {batch_size} rows per call; retrying with {batch_size // 2}")
    return batch_size // 2


# Elements kept per token and layer (multiples of d_model and d_hid) and per head and layer (multiples of N), used by
# activation_bytes_per_row. Backward (a Jacobian row keeps every layer's saved tensors until its backward pass):
# in-projection input + q, k, v + attention output + out-projection input + two layer-norm inputs + residual ≈ 10·d,
# feed-forward input/activation ≈ 2·d_hid; a fused attention kernel (flash / memory-efficient SDPA) keeps no N×N
# matrix, the math kernel keeps scores and probabilities (2·heads·N²). Forward (no grad): one layer's transients
# (≈ 6·d + 2·d_hid per token; 2·heads·N² without a fused kernel), the encoder input and output.
_BWD_D, _BWD_H, _FWD_D, _FWD_H = 10.0, 2.0, 6.0, 2.0
_BYTES = {"fp32": 4.0, "tf32": 4.0, "bf16": 3.0, "fp16": 3.0}  # mixed precision keeps 16-bit copies next to float32 ones


def activation_bytes_per_row(
    n_tokens: int,
    n_layers: int,
    n_heads: int,
    d_model: int,
    d_hid: int,
    kind: str = "backward",
    precision: str = "fp32",
    fused_attention: bool = True,
) -> float:
    """Device memory (bytes) that one probe row needs, from the model shape and the context length.

    ``bytes · [L · N · (c_d · d_model + c_h · d_hid) + L_eff · heads · N² · c_a]`` where L = ``n_layers`` for a
    Jacobian row (every layer's saved activations live until the backward pass) and 1 for a forward row (one
    layer's transients at a time), ``c_a`` = 0 with a fused attention kernel (flash / memory-efficient
    scaled-dot-product attention, which keeps no N×N matrix) and 2 without one (scores and probabilities).
    An estimate from counting the saved tensors of torch's ``TransformerEncoderLayer``; ``gpu_batch_size``
    applies a safety factor.

    Args:
        n_tokens: sequence length (context genes + ``<cls>``).
        n_layers, n_heads, d_model, d_hid: the checkpoint's ``nlayers``, ``nheads``, ``embsize``, ``d_hid``.
        kind: ``forward`` or ``backward``.
        precision: ``fp32``, ``tf32``, ``bf16`` or ``fp16``.
        fused_attention: whether SDPA runs a fused kernel (true on CUDA for these head sizes).
    Returns: bytes (float, > 0).
    Raises: ValueError for an unknown kind or precision, or a non-positive size.
    """
    if kind not in ("forward", "backward"):
        raise ValueError(f"kind must be 'forward' or 'backward', got {kind!r}")
    if precision not in _BYTES:
        raise ValueError(f"precision {precision!r} is not one of {sorted(_BYTES)}")
    if min(n_tokens, n_layers, n_heads, d_model, d_hid) <= 0:
        raise ValueError("model sizes and context length must be positive")
    if kind == "backward":
        per_token = n_layers * (_BWD_D * d_model + _BWD_H * d_hid)
        attn = 0.0 if fused_attention else n_layers * n_heads * n_tokens * 2.0
    else:
        per_token = _FWD_D * d_model + _FWD_H * d_hid + 2 * d_model
        attn = 0.0 if fused_attention else n_heads * n_tokens * 2.0
    return _BYTES[precision] * n_tokens * (per_token + attn)


def gpu_batch_size(free_bytes: float, bytes_per_row: float, kind: str = "forward", safety: float = 0.5,
                   max_rows: int | None = None) -> int:
    """Rows per model call that fit in ``safety`` × ``free_bytes`` of device memory.

    Rounded down to a multiple of 8 (tensor-core friendly) when at least 8, at least 1, at most ``max_rows``
    (default 256 forward / 128 backward rows: larger batches no longer raise throughput once the device is full).

    Args:
        free_bytes: free device memory (``torch.cuda.mem_get_info()[0]``).
        bytes_per_row: ``activation_bytes_per_row`` for the model and context.
        kind: ``forward`` or ``backward`` (only sets the default cap).
        safety: share of free memory to use (0 < safety ≤ 1); the rest covers the allocator's fragmentation,
            the weights' autocast copies and the estimate's error.
    Returns: int ≥ 1.
    """
    if not 0 < safety <= 1:
        raise ValueError(f"safety must be in (0, 1], got {safety}")
    if bytes_per_row <= 0:
        raise ValueError(f"bytes_per_row must be positive, got {bytes_per_row}")
    cap = max_rows or (256 if kind == "forward" else 128)
    rows = int(safety * max(free_bytes, 0) // bytes_per_row)
    if rows >= 8:
        rows -= rows % 8
    return int(min(max(rows, 1), cap))


def bin_values(x: np.ndarray, n_bins: int = 51) -> np.ndarray:
    """scGPT per-cell value binning: each cell's non-zero values → quantile bins 1..n_bins-1; zeros (and negatives) → 0.

    Rank-based (ties share a bin), so any monotone transform of the input (counts, log1p, FPKM) gives the same bins.

    Args:
        x: float (cells, genes) expression, or (genes,) for one cell.
    Returns: float32 array of the same shape with values in {0, 1, ..., n_bins-1}.
    """
    x = np.asarray(x, dtype=np.float64)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    out = np.zeros(x.shape, dtype=np.float32)
    for i, row in enumerate(x):
        nz = row > 0
        k = int(nz.sum())
        if k == 0:
            continue
        vals = row[nz]
        # rank with ties → max rank (1..k); bin = ceil(rank / k * (n_bins-1))
        order = np.sort(vals)
        rank = np.searchsorted(order, vals, side="right")
        out[i, nz] = np.ceil(rank / k * (n_bins - 1))
    return out[0] if single else out


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

    Accepts flash-attn ``Wqkv`` key names (renamed to torch's ``in_proj_*``), ``module.`` prefixes and a
    ``model_state_dict`` wrapper. Appends ``<pad>``, ``<cls>``, ``<eoc>`` to the vocabulary if missing. Optional
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
    extra_files: Mapping[str, str] | None = None,
) -> Path:
    """Write a checkpoint folder in the official scGPT layout (atomically: temp folder, then rename).

    Args:
        model: a scgpt ``TransformerModel``.
        vocab: token → index (0..n-1), special tokens included.
        args: ``args.json`` content (official key names: ``embsize``, ``nheads``, ``d_hid``, ``nlayers``, ...).
        flash_attn_names: store attention weights as ``self_attn.Wqkv.*``, as the released checkpoints do.
        extra_files: file name → text written into the same folder (model card, training summary).
    Returns: the folder path.
    """
    path = Path(path)
    state = {}
    for key, value in model.state_dict().items():
        if flash_attn_names:
            key = key.replace("self_attn.in_proj_weight", "self_attn.Wqkv.weight")
            key = key.replace("self_attn.in_proj_bias", "self_attn.Wqkv.bias")
        state[key] = value.detach().cpu().clone()
    with atomic_folder(path) as tmp:
        (tmp / "args.json").write_text(json.dumps(dict(args), indent=2))
        (tmp / "vocab.json").write_text(json.dumps(dict(vocab)))
        torch.save(state, tmp / "best_model.pt")
        for name, text in (extra_files or {}).items():  # e.g. MODEL_CARD.md, written in the same atomic folder
            (tmp / name).write_text(text)
    return path


def build_model(vocab: Mapping[str, int], args: Mapping) -> torch.nn.Module:
    """A freshly initialised scgpt ``TransformerModel`` for ``args`` (official ``args.json`` keys) and ``vocab``."""
    TransformerModel = import_transformer_model()
    torch.backends.mha.set_fastpath_enabled(False)
    return TransformerModel(ntoken=len(vocab), vocab=dict(vocab), **_model_kwargs(args))


# --------------------------------------------------------------------------------- random checkpoints (stand-ins)
# Model shapes of released scGPT checkpoints (args.json keys), and of the bundled compact model (width 128 since
# 2026-12-06; 64 before, which is still ``ugrn pretrain``'s default). scGPT_human:
# whole-human pretraining, 60,697 tokens (the census gene list + 3 specials), 12 layers, width 512, 8 heads,
# d_hid 512, MVC head, post-norm, max_seq_len 1200 (scGPT model zoo, Cui et al. 2024).
CHECKPOINT_SHAPES: dict[str, dict] = {
    "scGPT_human": dict(embsize=512, nheads=8, d_hid=512, nlayers=12, n_layers_cls=3, dropout=0.2, pad_token="<pad>",
                        pad_value=-2, mask_value=-1, n_bins=51, input_style="binned", input_emb_style="continuous",
                        max_seq_len=1200, MVC=True, fast_transformer=True),
    "compact": dict(embsize=128, nheads=4, d_hid=256, nlayers=2, n_layers_cls=3, dropout=0.0, pad_token="<pad>",
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
        from .config import DEFAULT_CHECKPOINT_DIR

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
