"""Jacobian columns (forward mode) and rows (reverse mode) of the reconstruction at one virtual cell, side by side on
the CPU threads: what a GDT block needs (``probes.blocks``, issue 28; UGRN Eq. 9).

Columns: the cell is computed once and B one-hot tangents e_s are pushed through it together (``torch.func.vmap``
over ``torch.func.jvp``): one batch yields ``∂M(x)_j / ∂x_s`` for every target j and B sources s. torch's forward-mode
levels are process-wide, so one column batch runs at a time (``_FORWARD_AD``); row batches (``ScFM.jacobian``'s own
reverse-mode batches, the same values) run beside it on the other threads. Attention runs with torch's math kernel in
the column batches (the fused CPU kernel has no forward-mode derivative). Every batch runs on one torch intra-op
thread (``threads``), so results do not depend on the thread count.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import torch

from . import threads
from .planning import _tf32

COLUMN_BATCH = 16  # columns per batch (shared cell, vmapped tangents): measured best on 2 CPU cores, N = 554
_FORWARD_AD = threading.Lock()


def _columns(fm, src1, x0, s):
    """float32 (B, N): Jacobian columns of sources ``s`` (int64 tensor (B,)) at cell ``x0`` (N,), [source, target]."""
    from torch.func import jvp, vmap
    from torch.nn.attention import SDPBackend, sdpa_kernel

    n = x0.numel()
    tangent = torch.zeros(len(s), 1, n, dtype=x0.dtype, device=x0.device)
    tangent[torch.arange(len(s), device=x0.device), 0, s] = 1.0
    with _FORWARD_AD, torch.no_grad(), sdpa_kernel(SDPBackend.MATH), \
            (_tf32() if fm.precision == "tf32" else contextlib.nullcontext()):
        cols = vmap(lambda t: jvp(lambda v: fm._forward(src1, v), (x0[None],), (t,))[1])(tangent)
    return cols[:, 0].float().cpu()


def _rows(fm, src, x0, t):
    """float32 (B, N): Jacobian rows of targets ``t`` (int64 tensor (B,)) at cell ``x0``, [target, source]."""
    x = x0.expand(len(t), x0.numel()).clone().requires_grad_(True)
    with torch.enable_grad(), (_tf32() if fm.precision == "tf32" else contextlib.nullcontext()):
        fm._forward(src[: len(t)], x).gather(1, t[:, None]).sum().backward()
    return x.grad.float().cpu()


def jacobian_block(fm, token_ids, base_value, sources, targets, progress=None, label="Jacobian block"):
    """Jacobian columns of ``sources`` and rows of ``targets`` at the cell ``base_value·1`` (or a given (N,) cell).

    Args:
        fm: ``ScFM``.
        token_ids: int64 (N,) context genes.
        base_value: scalar virtual base value in bin space, or float (N,) cell.
        sources: int (A,) source positions (columns); targets: int (R,) target positions (rows); either may be empty.
        progress: ``(done, total, label)`` after each batch.
    Returns: (C float32 (A, N) [source, target], J float32 (R, N) [target, source]); ``C[a, j] = J_full[j, sources[a]]``.
    """
    n = len(token_ids)
    sources, targets = np.asarray(sources, dtype=np.int64), np.asarray(targets, dtype=np.int64)
    dtype = fm.model.encoder.embedding.weight.dtype
    x0 = torch.as_tensor(np.broadcast_to(np.asarray(base_value, dtype=np.float64), (n,)).copy(), dtype=dtype,
                         device=fm.device)
    rb = fm.probe_batch_size("backward", n)
    items = [("c", k, min(COLUMN_BATCH, len(sources) - k)) for k in range(0, len(sources), COLUMN_BATCH)]
    rows = [("r", k, min(rb, len(targets) - k)) for k in range(0, len(targets), rb)]
    order = sorted(range(len(items) + len(rows)), key=lambda i: (i if i < len(items) else (i - len(items)) * len(items)
                                                                   / max(len(rows), 1)))
    items = [(items + rows)[i] for i in order]  # column and row batches interleaved: rows fill the other threads
    C = torch.empty((len(sources), n), dtype=torch.float32)
    J = torch.empty((len(targets), n), dtype=torch.float32)
    done_rows = np.cumsum([size for _, _, size in items])

    with fm._threads() as workers:
        src1 = fm._src(token_ids, 1)
        src = fm._src(token_ids, max(rb, 1))

        def run(item):
            kind, k, size = item
            if kind == "c":
                return _columns(fm, src1, x0, torch.as_tensor(sources[k : k + size], device=fm.device))
            return _rows(fm, src, x0, torch.as_tensor(targets[k : k + size], device=fm.device))

        def done(i):
            if progress:
                progress(int(done_rows[i]), len(sources) + len(targets), label)

        for (kind, k, size), out in zip(items, threads.map_batches(run, items, workers if fm.device.type == "cpu"
                                                                   else 1, done)):
            (C if kind == "c" else J)[k : k + size] = out
    return C.numpy(), J.numpy()
