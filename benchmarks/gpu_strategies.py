"""Which attention kernel and Jacobian strategy is fastest on a GPU, for an scGPT_human-shaped random model at
N = 1204 context genes. Prints one JSON line per measurement (written to $OUT/explore.json when OUT is set).

Compares: forward rows/s by batch and precision (fp32, TF32, bf16 autocast); batched reverse-mode Jacobian rows
(``ScFM.jacobian``'s strategy: the virtual cell replicated B times) by batch and precision with peak memory; each
SDPA backend forced (flash, memory-efficient, cuDNN, math); ``torch.func.vjp`` + ``vmap`` (one forward, B
cotangents); ``autograd.grad(is_grads_batched=True)``; forward-mode ``vmap(jvp)`` columns; ``torch.compile``;
and the bf16-vs-fp32 error of Jacobian and VVP rows.

    python benchmarks/gpu_strategies.py                  # on a CUDA machine (~5 min on one H100, estimated)
    DEV=cpu TINY=1 N=20 python benchmarks/gpu_strategies.py   # dry run of the script's logic on CPU

Not yet run on a GPU (no device was available when it was written); ``ScFM.jacobian`` keeps the batched
reverse-mode strategy measured fastest on CPU until it is.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ugrn_core import scfm  # noqa: E402

HUMAN = dict(embsize=512, nheads=8, d_hid=512, nlayers=12, n_layers_cls=3, dropout=0.2, pad_token="<pad>", pad_value=-2,
             n_bins=51, input_emb_style="continuous", max_seq_len=1200, MVC=True, fast_transformer=True, pre_norm=False)
N = int(os.environ.get("N", 1204))
dev = torch.device(os.environ.get("DEV", "cuda"))
if os.environ.get("TINY"):
    HUMAN.update(embsize=32, nheads=2, d_hid=32, nlayers=2)
RES = []
if dev.type == "cpu":  # dry run of the script logic on CPU
    torch.cuda.reset_peak_memory_stats = lambda: None
    torch.cuda.max_memory_allocated = torch.cuda.memory_allocated = lambda: 0


def log(**kw):
    RES.append(kw)
    print(json.dumps(kw), flush=True)


def sync_time(fn, reps=3):
    fn()
    (torch.cuda.synchronize() if dev.type == "cuda" else None)
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        (torch.cuda.synchronize() if dev.type == "cuda" else None)
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main():
    log(torch=torch.__version__, gpu=torch.cuda.get_device_name() if dev.type == "cuda" else "cpu", mem=torch.cuda.mem_get_info() if dev.type == "cuda" else None)
    torch.manual_seed(0)
    vocab = {f"G{i}": i for i in range(60694)}
    for t in scfm.SPECIAL_TOKENS:
        vocab[t] = len(vocab)
    model = scfm.build_model(vocab, HUMAN)
    model.to(dev).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    fm = scfm.ScFM(model=model, vocab=vocab, args=dict(HUMAN), device=dev, checkpoint_id="x")
    ids = np.random.default_rng(0).choice(60694, N, replace=False)
    src1 = fm._src(ids, 1)

    def amp(prec):
        if prec == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(dev.type, dtype=torch.bfloat16 if prec == "bf16" else torch.float16)

    # kernel check
    from torch.profiler import ProfilerActivity, profile
    for prec in ("fp32", "bf16"):
      try:
        x = torch.full((4, N), 20.0, device=dev, requires_grad=True)
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            with torch.enable_grad(), amp(prec):
                out = fm._forward(fm._src(ids, 4), x)
                out[:, :4].sum().backward()
            (torch.cuda.synchronize() if dev.type == "cuda" else None)
        names = sorted({e.key for e in prof.key_averages() if any(s in e.key.lower() for s in ("attn", "attention", "fmha", "flash", "sdpa", "softmax"))})
        log(section="kernels", prec=prec, names=[n[:90] for n in names])
      except Exception as e:  # noqa: BLE001
        log(section="kernels", error=str(e)[:200])

    # forward rows/s
    for prec in ("fp32", "tf32", "bf16"):
        torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
        for B in (16, 32, 64, 128):
            try:
                torch.cuda.reset_peak_memory_stats()
                v = torch.full((B, N), 25.0, device=dev)
                src = fm._src(ids, B)
                def f():
                    with torch.no_grad(), amp("fp32" if prec == "tf32" else prec):
                        fm._forward(src, v)
                t = sync_time(f)
                log(section="forward", prec=prec, B=B, rows_s=B / t, peak_gb=torch.cuda.max_memory_allocated() / 2**30)
            except Exception as e:  # noqa: BLE001
                log(section="forward", prec=prec, B=B, error=str(e)[:200])
                torch.cuda.empty_cache()
    torch.backends.cuda.matmul.allow_tf32 = False

    # reverse-mode replicate (current jacobian)
    def rev(B, prec):
        x = torch.full((B, N), 20.0, device=dev, requires_grad=True)
        tgt = torch.arange(B, device=dev)
        with torch.enable_grad(), amp(prec):
            rec = fm._forward(fm._src(ids, B), x)
            rec.gather(1, tgt[:, None]).sum().backward()
        return x.grad
    for prec in ("fp32", "tf32", "bf16"):
        torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
        for B in (8, 16, 32, 64, 128):
            try:
                torch.cuda.reset_peak_memory_stats()
                base = torch.cuda.memory_allocated()
                t = sync_time(lambda: rev(B, "fp32" if prec == "tf32" else prec), reps=2)
                log(section="rev", prec=prec, B=B, rows_s=B / t, peak_extra_gb=(torch.cuda.max_memory_allocated() - base) / 2**30)
            except Exception as e:  # noqa: BLE001
                log(section="rev", prec=prec, B=B, error=str(e)[:200])
                torch.cuda.empty_cache()
    torch.backends.cuda.matmul.allow_tf32 = False

    # SDPA backends for bf16 rev
    from torch.nn.attention import SDPBackend, sdpa_kernel
    for name, be in (("flash", SDPBackend.FLASH_ATTENTION), ("efficient", SDPBackend.EFFICIENT_ATTENTION),
                     ("cudnn", SDPBackend.CUDNN_ATTENTION), ("math", SDPBackend.MATH)):
        for prec in ("bf16", "fp32"):
            B = 32 if name != "math" else 8
            try:
                with sdpa_kernel([be]):
                    t = sync_time(lambda: rev(B, prec), reps=2)
                log(section="sdpa_rev", backend=name, prec=prec, B=B, rows_s=B / t)
            except Exception as e:  # noqa: BLE001
                log(section="sdpa_rev", backend=name, prec=prec, B=B, error=str(e)[:160])
                torch.cuda.empty_cache()

    # vjp once + vmap over cotangents (forward computed once)
    x0 = torch.full((N,), 20.0, device=dev)
    def f1(x):
        return fm._forward(src1, x[None])[0]
    for prec in ("bf16", "fp32"):
        for B in (32, 128):
            try:
                def vj():
                    with torch.enable_grad(), amp(prec):
                        _, vjp_fn = torch.func.vjp(f1, x0)
                        cot = torch.eye(N, device=dev)[:B]
                        return torch.func.vmap(vjp_fn)(cot)[0]
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter("always")
                    t = sync_time(vj, reps=2)
                log(section="vjp_vmap", prec=prec, B=B, rows_s=B / t, warnings=[str(x.message)[:120] for x in w][:3])
            except Exception as e:  # noqa: BLE001
                log(section="vjp_vmap", prec=prec, B=B, error=str(e)[:200])
                torch.cuda.empty_cache()
    # autograd.grad is_grads_batched
    for prec in ("bf16",):
        for B in (32, 128):
            try:
                def gb():
                    x = x0.clone().requires_grad_(True)
                    with torch.enable_grad(), amp(prec):
                        out = f1(x)
                        cot = torch.eye(N, device=dev, dtype=out.dtype)[:B]
                        return torch.autograd.grad(out, x, cot, is_grads_batched=True)[0]
                with warnings.catch_warnings(record=True) as w:
                    warnings.simplefilter("always")
                    t = sync_time(gb, reps=2)
                log(section="grads_batched", prec=prec, B=B, rows_s=B / t, warnings=[str(x.message)[:120] for x in w][:3])
            except Exception as e:  # noqa: BLE001
                log(section="grads_batched", prec=prec, B=B, error=str(e)[:200])
                torch.cuda.empty_cache()
    # forward mode columns
    for prec in ("bf16",):
        B = 32
        try:
            def fw():
                with torch.no_grad(), amp(prec):
                    tang = torch.eye(N, device=dev)[:B]
                    return torch.func.vmap(lambda t: torch.func.jvp(f1, (x0,), (t,))[1])(tang)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                t = sync_time(fw, reps=2)
            log(section="jvp_vmap", prec=prec, B=B, rows_s=B / t, warnings=[str(x.message)[:120] for x in w][:3])
        except Exception as e:  # noqa: BLE001
            log(section="jvp_vmap", prec=prec, B=B, error=str(e)[:200])
            torch.cuda.empty_cache()

    # accuracy bf16 vs fp32 (Jacobian rows and VVP rows)
    try:
        acc(rev, amp, fm, ids, src1)
    except Exception as e:  # noqa: BLE001
        log(section="acc", error=traceback.format_exc()[-300:])
    comp(model, vocab, amp, fm, ids)


def acc(rev, amp, fm, ids, src1):
    Jf = rev(32, "fp32").float()
    Jb = rev(32, "bf16").float()
    err = ((Jb - Jf).norm(dim=1) / Jf.norm(dim=1)).max().item()
    log(section="acc", what="jac_rows_rel_l2_max", err=err, max_abs_rel=((Jb - Jf).abs().max() / Jf.abs().max()).item())
    v = torch.full((32, N), 25.0, device=dev)
    v[torch.arange(32), torch.arange(32)] = 50.0
    with torch.no_grad():
        ref = fm._forward(src1, torch.full((1, N), 25.0, device=dev))
        Rf = fm._forward(fm._src(ids, 32), v) - ref
        with amp("bf16"):
            refb = fm._forward(src1, torch.full((1, N), 25.0, device=dev))
            Rb = fm._forward(fm._src(ids, 32), v).float() - refb.float()
    log(section="acc", what="vvp_rows_rel_l2_max", err=((Rb - Rf).norm(dim=1) / Rf.norm(dim=1)).max().item())



def comp(model, vocab, amp, fm, ids):
    try:
        t0 = time.perf_counter()
        cm = torch.compile(model)
        fmc = scfm.ScFM(model=cm, vocab=vocab, args=dict(HUMAN), device=dev, checkpoint_id="x")
        def revc(B):
            x = torch.full((B, N), 20.0, device=dev, requires_grad=True)
            tgt = torch.arange(B, device=dev)
            with torch.enable_grad(), amp("bf16"):
                rec = fmc._forward(fm._src(ids, B), x)
                rec.gather(1, tgt[:, None]).sum().backward()
            return x.grad
        revc(32)
        (torch.cuda.synchronize() if dev.type == "cuda" else None)
        log(section="compile", compile_s=time.perf_counter() - t0)
        t = sync_time(lambda: revc(32), reps=2)
        log(section="compile_rev", prec="bf16", B=32, rows_s=32 / t)
    except Exception as e:  # noqa: BLE001
        log(section="compile", error=traceback.format_exc()[-400:])


if __name__ == "__main__":
    main()
    out = os.environ.get("OUT")
    if out:
        with open(os.path.join(out, "explore.json"), "w") as fh:
            json.dump(RES, fh, indent=1)
