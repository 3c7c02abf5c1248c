"""GPU batch and precision planning for probe queries: rows per model call from free device memory, TF32 scope,
halving the batch after an out-of-memory error."""

from __future__ import annotations

import contextlib
import warnings

import torch


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
