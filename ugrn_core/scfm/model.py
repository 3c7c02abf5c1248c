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
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from . import threads
from .planning import _halve_batch, _tf32, activation_bytes_per_row, gpu_batch_size

SPECIAL_TOKENS = ("<pad>", "<cls>", "<eoc>")
# model arguments that fix the weights' shapes and meaning: checkpoints equal in these (and in vocabulary) can load
# each other's weights and share one random-init twin
ARCH_KEYS = ("embsize", "nheads", "d_hid", "nlayers", "n_bins", "input_emb_style", "max_seq_len")
ProgressFn = Callable[[int, int, str], None]

# precision → autocast dtype (None: float32 arithmetic; "tf32" lets CUDA matrix products use TensorFloat-32)
PRECISIONS = {"fp32": None, "tf32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
CPU_BATCH = 4  # rows per model call on CPU (measured best on 2 cores, see ScFM.probe_batch_size)
#: ``ScFM.seconds_per_row``: timed calibration calls per kind (median kept), and forward batches per worker thread in
#: one forward calibration call.
CALIBRATION_REPEATS = 3
CALIBRATION_FORWARD_BATCHES = 3


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
        """Measured wall seconds per probe row on this device: ``forward`` (one virtual cell, VVP/Pert),
        ``backward`` (one Jacobian row, GDT) or ``columns`` (one Jacobian column, ``jacobian_columns``), for a
        context of ``n_genes`` genes, as a probe run sees it: on CPU row batches run side by side on the configured
        threads (``threads.map_batches``), so the calibration does too; column batches run one at a time.

        A short calibration: one untimed warm-up, then ``CALIBRATION_REPEATS`` timed calls (the median is kept: one
        short call varies by up to ±30 % between runs) over ``n_genes`` genes drawn from the vocabulary (the cost
        depends on N, not on which genes): ``probe_batch_size(kind)`` rows per worker thread for Jacobian rows,
        ``CALIBRATION_FORWARD_BATCHES`` times that for forward rows, whose call also runs one unperturbed reference
        row alone (timed apart, median of as many calls, and subtracted: a probe run pays it once, not per batch;
        counting it as a row overestimated VVP by 7–39 % on the seven TFs+500 sets). Results are kept per (kind, N,
        precision, threads) for the life of this object.

        Returns: positive float seconds per row.
        """
        if kind not in ("forward", "backward", "columns"):
            raise ValueError(f"kind must be 'forward', 'backward' or 'columns', got {kind!r}")
        n_cal = min(max(2, int(n_genes)), len(self.genes))
        workers = torch.get_num_threads() if self.device.type == "cpu" else 1
        key = (kind, n_cal, self.precision, workers)
        if key not in self._row_seconds:
            ids = self.token_ids(self.genes[:: max(1, len(self.genes) // n_cal)][:n_cal])
            rows = self.probe_batch_size("forward" if kind == "forward" else "backward", n_cal) * workers
            if kind == "forward":
                rows *= CALIBRATION_FORWARD_BATCHES
            if kind == "columns":  # one batch: column batches run one at a time (``jacobian_block``)
                from .jacobian_block import COLUMN_BATCH as rows
            idx = np.arange(rows) % n_cal
            base = np.full(n_cal, 20.0)
            run = {"forward": lambda: self.perturb(ids, base, idx, [30.0]),
                   "backward": lambda: self.jacobian(ids, 20.0, targets=idx),
                   "columns": lambda: self.jacobian_columns(ids, 20.0, sources=idx)}[kind]
            run()  # warm-up: kernels, allocator, caches
            seconds = _median_seconds(run, CALIBRATION_REPEATS)
            if kind == "forward":  # the reference row ``perturb`` runs alone before its batches
                src, vals = self._src(ids, 1), torch.as_tensor(base[None], dtype=torch.float32, device=self.device)

                def reference():
                    with self._threads(), torch.no_grad():
                        self._forward(src, vals).cpu()  # .cpu(): waits for a GPU, as perturb's copy does

                seconds = max(seconds - _median_seconds(reference, CALIBRATION_REPEATS), 0.5 * seconds)
            self._row_seconds[key] = max(seconds / rows, 1e-9)
        return self._row_seconds[key]

    def estimate_seconds(self, forward_rows: int, backward_rows: int, n_genes: int, column_rows: int = 0) -> float:
        """Wall-time estimate (s) for ``forward_rows`` virtual cells, ``backward_rows`` Jacobian rows and
        ``column_rows`` Jacobian columns over a context of ``n_genes`` genes: rows × measured seconds per row
        (``seconds_per_row``)."""
        total = 0.0
        for rows, kind in ((forward_rows, "forward"), (backward_rows, "backward"), (column_rows, "columns")):
            if rows:
                total += rows * self.seconds_per_row(kind, n_genes)
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

        def grad_rows(src, x0, tgt):  # one backward pass: Jacobian rows of targets tgt
            x = x0.expand(len(tgt), n).clone().requires_grad_(True)
            with torch.enable_grad(), (_tf32() if self.precision == "tf32" else contextlib.nullcontext()):
                rec = self._forward(src, x)
                rec.gather(1, tgt[:, None]).sum().backward()
            return x.grad.float().cpu()  # float32 result even for a float64 model

        return self._jacobian_batches(token_ids, base_value, targets, grad_rows, "backward", batch_size, progress,
                                      "Jacobian rows")

    def jacobian_columns(
        self,
        token_ids: np.ndarray,
        base_value: float | np.ndarray,
        sources: np.ndarray | None = None,
        progress: ProgressFn | None = None,
    ) -> np.ndarray:
        """Jacobian columns of the reconstruction at a virtual cell, transposed: ``C[k, j] = ∂M(x)_j / ∂x_{sources[k]}``
        (``jacobian(...)[:, sources].T``; UGRN Eq. 9), every target j at once per source, by forward-mode autodiff
        (``jacobian_block``: one cell, vmapped one-hot tangents). K sources cost about K Jacobian rows' time instead of
        the N rows of the full Jacobian. Exact; equal to ``jacobian`` up to float32 round-off.

        Args:
            token_ids: int64 (N,) context genes.
            base_value: scalar virtual base value in bin space, or float (N,) cell.
            sources: int (K,) source positions (default: all N).
        Returns: float32 (K, N), rows = source genes, columns = target genes.
        """
        from .jacobian_block import jacobian_block

        sources = np.arange(len(token_ids)) if sources is None else np.asarray(sources, dtype=np.int64)
        return jacobian_block(self, token_ids, base_value, sources, [], progress, "Jacobian columns")[0]

    def _jacobian_batches(self, token_ids, base_value, index, one_batch, kind, batch_size, progress, label):
        """``one_batch(src, x0, idx)`` over chunks of ``index`` (int64 positions), stacked float32 (len(index), N):
        batches side by side on CPU threads (``threads``), one at a time on an accelerator (halved when out of
        memory). ``x0`` is the cell (N,) of ``base_value`` in the model's dtype."""
        n = len(token_ids)
        dtype = self.model.encoder.embedding.weight.dtype
        x0 = torch.as_tensor(np.broadcast_to(np.asarray(base_value, dtype=np.float64), (n,)).copy(), dtype=dtype,
                             device=self.device)
        out = torch.empty((len(index), n), dtype=torch.float32)
        batch_size = batch_size or self.probe_batch_size(kind, n)

        def run(start: int, size: int, src) -> torch.Tensor:
            return one_batch(src[:size], x0, torch.as_tensor(index[start : start + size], device=self.device))

        with self._threads() as workers:
            if self.device.type == "cpu":  # batches side by side, each on one thread (``threads``)
                starts = range(0, len(index), batch_size)
                src = self._src(token_ids, min(batch_size, max(len(index), 1)))

                def done(k):
                    if progress:
                        progress(min(starts[k] + batch_size, len(index)), len(index), label)

                sizes = [min(batch_size, len(index) - s) for s in starts]
                results = threads.map_batches(lambda a: run(a[0], a[1], src), list(zip(starts, sizes)), workers, done)
                for start, rows in zip(starts, results):
                    out[start : start + len(rows)] = rows
                return out.numpy()

            start = 0
            while start < len(index):  # accelerator: one batch at a time, halved when out of memory
                size = min(batch_size, len(index) - start)
                try:
                    rows = run(start, size, self._src(token_ids, size))
                except torch.OutOfMemoryError:
                    rows = None  # halved below, once the failed batch's tensors are released with the exception
                if rows is None:
                    batch_size = _halve_batch(batch_size)
                    continue
                out[start : start + len(rows)] = rows
                start += len(rows)
                if progress:
                    progress(start, len(index), label)
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


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))
