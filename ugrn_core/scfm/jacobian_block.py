"""Jacobian columns (forward mode) and rows (reverse mode) of the reconstruction at one virtual cell, side by side on
one virtual cell: what a GDT block needs (``probes.blocks``, issue 28; UGRN Eq. 9).

Columns: the cell is computed once and B one-hot tangents e_s are pushed through it together (``torch.func.vmap``
over ``torch.func.jvp``): one batch yields ``∂M(x)_j / ∂x_s`` for every target j and B sources s. torch's forward-mode
levels and the attention-kernel choice are process-wide, so column batches run one at a time in the calling thread
(``_FORWARD_AD``), with torch's math attention kernel (the fused CPU kernel has no forward-mode derivative); rows are
``ScFM.jacobian``'s (its batches side by side on the threads; the same values as the whole Jacobian's rows). Every
batch runs on one torch intra-op thread (``threads``), so results do not depend on the thread count. (Running column
and row batches side by side was faster but not deterministic: one thread's kernel choice reached the other's rows.)
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
    """float32 (B, N): Jacobian columns of sources ``s`` (int64 tensor (B,)) at cell ``x0`` (N,), [source, target].
    Call with ``_FORWARD_AD`` held and the math attention kernel selected (``jacobian_block``)."""
    from torch.func import jvp, vmap

    n = x0.numel()
    tangent = torch.zeros(len(s), 1, n, dtype=x0.dtype, device=x0.device)
    tangent[torch.arange(len(s), device=x0.device), 0, s] = 1.0
    with torch.no_grad(), (_tf32() if fm.precision == "tf32" else contextlib.nullcontext()):
        cols = vmap(lambda t: jvp(lambda v: fm._forward(src1, v), (x0[None],), (t,))[1])(tangent)
    return cols[:, 0].float().cpu()


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
    from torch.nn.attention import SDPBackend, sdpa_kernel

    n = len(token_ids)
    sources, targets = np.asarray(sources, dtype=np.int64), np.asarray(targets, dtype=np.int64)
    dtype = fm.model.encoder.embedding.weight.dtype
    x0 = torch.as_tensor(np.broadcast_to(np.asarray(base_value, dtype=np.float64), (n,)).copy(), dtype=dtype,
                         device=fm.device)
    C = torch.empty((len(sources), n), dtype=torch.float32)
    total = len(sources) + len(targets)
    # the attention-kernel choice and forward-mode levels are process-wide: columns in this thread, one batch at a time
    with _FORWARD_AD, sdpa_kernel(SDPBackend.MATH), fm._threads():
        src1 = fm._src(token_ids, 1)
        for k in range(0, len(sources), COLUMN_BATCH):
            C[k : k + COLUMN_BATCH] = _columns(fm, src1, x0, torch.as_tensor(sources[k : k + COLUMN_BATCH],
                                                                              device=fm.device))
            if progress:
                progress(min(k + COLUMN_BATCH, len(sources)), total, label)
    step = (lambda d, t, m: progress(len(sources) + d, total, label)) if progress else None
    J = fm.jacobian(token_ids, base_value, targets=targets, progress=step) if len(targets) else np.empty((0, n), np.float32)
    return C.numpy(), J
