"""Full-size probing speed: every TF × gene pair of a context with an scGPT_human-shaped model, on this device.

Builds (or loads) a checkpoint, draws ``--n-genes`` random genes from its vocabulary as the context, and times the two
expression-free probes over every pair, as ``ugrn probe`` computes them:

- VVP: ``T × N`` forward rows (8 target values), each row one virtual cell, every target gene read from it;
- GDT: ``V`` full N×N Jacobians (8 base values) by batched reverse-mode autograd, ``V × N`` backward rows.

It prints the pre-run estimate (``ScFM.estimate_seconds``, a short calibration), the measured wall time, rows/s,
the batch size chosen from free memory, peak device memory, and the speed-up over a per-pair loop (one model call
per TF→target pair and value, timed on a small sample of pairs in the same run and extrapolated to all pairs).
With several precisions it also reports the largest relative error of the 16-bit features against fp32.

    python benchmarks/gpu_probe.py                                   # GPU: N = 1204, fp32 and bf16
    python benchmarks/gpu_probe.py --device cpu --n-genes 100 --precision fp32

``--checkpoint DIR`` uses an existing checkpoint (e.g. the real scGPT_human); by default a random scGPT_human-shaped
one is written to a temporary folder (``ugrn make-checkpoint --like scGPT_human``). Imports only torch, numpy and
ugrn_core.scfm (no anndata), so it runs wherever scgpt's model code is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ugrn_core import scfm  # noqa: E402

TARGET_VALUES = (0.0, 5.0, 10.0, 15.0, 35.0, 40.0, 45.0, 50.0)  # features.ProbeParams defaults
BASE_VALUES = (5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0)


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def peak_gib(dev: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(dev) / 2**30 if dev.type == "cuda" else None


def reset_peak(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)


def attention_kernels(fm: scfm.ScFM, ids: np.ndarray) -> list[str]:
    """Names of the attention kernels one Jacobian batch launches (CUDA profiler), to verify fused SDPA runs."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fm.jacobian(ids, 20.0, targets=np.arange(2))
        sync(fm.device)
    keys = {e.key for e in prof.key_averages()}
    return sorted(k[:80] for k in keys if any(s in k.lower() for s in ("attn", "attention", "fmha", "flash", "softmax")))


def per_pair_loop(fm: scfm.ScFM, ids: np.ndarray, n_pairs: int, kind: str, seed: int = 0) -> float:
    """Seconds per (pair, value) of the naive loop: one batch-1 model call per TF→target pair and value.

    GDT: forward + backward of the target's output, read ∂M_j/∂x_i; VVP: one forward of the cell with the source
    moved (the unperturbed reference counted once, as a loop would cache it)."""
    rng = np.random.default_rng(seed)
    n = len(ids)
    pairs = rng.integers(0, n, size=(n_pairs, 2))
    src = fm._src(ids, 1)
    sync(fm.device)
    t = time.perf_counter()
    for i, j in pairs:
        if kind == "GDT":
            x = torch.full((1, n), 20.0, device=fm.device, requires_grad=True)
            with torch.enable_grad():
                fm._forward(src, x)[0, j].backward()
            float(x.grad[0, i])
        else:
            x = torch.full((1, n), 25.0, device=fm.device)
            x[0, i] = 50.0
            with torch.no_grad():
                float(fm._forward(src, x)[0, j])
    sync(fm.device)
    return (time.perf_counter() - t) / n_pairs


def run(fm: scfm.ScFM, ids: np.ndarray, args) -> tuple[list[dict], dict]:
    dev, n = fm.device, len(ids)
    T, V = TARGET_VALUES[: args.values], BASE_VALUES[: args.values]
    rows, arrays = [], {}
    t = time.perf_counter()
    est_vvp = fm.estimate_seconds(len(T) * n + 1, 0, n)
    est_gdt = fm.estimate_seconds(0, len(V) * n, n)
    calib = time.perf_counter() - t
    common = dict(device=args.device_name, precision=fm.precision, N=n, calibration_s=round(calib, 1))

    reset_peak(dev)
    sync(dev)
    t = time.perf_counter()
    arrays["VVP"] = fm.vvp(ids, 25.0, T)
    sync(dev)
    wall = time.perf_counter() - t
    loop = per_pair_loop(fm, ids, args.loop_pairs, "VVP")
    rows.append(dict(common, probe=f"VVP ({len(T)} target values)", batch=fm.probe_batch_size("forward", n),
                     rows=len(T) * n + 1, rows_per_s=(len(T) * n + 1) / wall, wall_s=wall, estimate_s=est_vvp,
                     peak_gib=peak_gib(dev), loop_s_per_pair=loop, loop_all_pairs_s=loop * n * n * len(T)))

    reset_peak(dev)
    J = np.empty((len(V), n, n), dtype=np.float32)
    sync(dev)
    t = time.perf_counter()
    for k, v in enumerate(V):
        J[k] = fm.jacobian(ids, v)
    sync(dev)
    wall = time.perf_counter() - t
    arrays["GDT"] = J
    loop = per_pair_loop(fm, ids, max(1, args.loop_pairs // 2), "GDT")
    rows.append(dict(common, probe=f"GDT ({len(V)} base values)", batch=fm.probe_batch_size("backward", n),
                     rows=len(V) * n, rows_per_s=len(V) * n / wall, wall_s=wall, estimate_s=est_gdt,
                     peak_gib=peak_gib(dev), loop_s_per_pair=loop, loop_all_pairs_s=loop * n * n * len(V)))
    for r in rows:
        r["speedup_vs_loop"] = r["loop_all_pairs_s"] / r["wall_s"]
    return rows, arrays


def rel_errors(a: np.ndarray, ref: np.ndarray) -> dict:
    """Largest row-wise relative L2 error, and largest element error relative to the largest |ref|."""
    flat_a, flat_r = a.reshape(-1, a.shape[-1]), ref.reshape(-1, ref.shape[-1])
    norms = np.linalg.norm(flat_r, axis=1)
    ok = norms > 0
    row = np.linalg.norm(flat_a - flat_r, axis=1)[ok] / norms[ok]
    return dict(max_row_rel_l2=float(row.max()), median_row_rel_l2=float(np.median(row)),
                max_abs_over_max_ref=float(np.abs(a - ref).max() / np.abs(ref).max()))


def fmt_table(rows: list[dict]) -> str:
    cols = ["device", "precision", "N", "probe", "batch", "rows", "rows_per_s", "estimate_s", "wall_s", "peak_gib",
            "loop_s_per_pair", "loop_all_pairs_s", "speedup_vs_loop"]
    head = ["device", "precision", "N", "probe", "batch", "rows", "rows/s", "estimate (s)", "wall (s)", "peak GiB",
            "loop s/pair", "loop, all pairs (s)", "speed-up"]

    def cell(v):
        if v is None:
            return "—"
        if isinstance(v, float):
            return f"{v:.3g}" if v < 100 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default=None, help="checkpoint folder (default: random scGPT_human-shaped, temporary)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--n-genes", type=int, default=1204, help="context genes N (mHSC-E TFs+1000 has 1,204)")
    p.add_argument("--precision", default=None, help="comma-separated; default fp32,bf16 on CUDA, fp32 on CPU")
    p.add_argument("--values", type=int, default=8, help="target values (VVP) and base values (GDT), ≤ 8")
    p.add_argument("--loop-pairs", type=int, default=100, help="pairs timed in the per-pair loop (GDT uses half)")
    p.add_argument("--json", default=None, help="also write the rows as JSON here")
    args = p.parse_args(argv)
    dev = torch.device(args.device)
    precisions = (args.precision or ("fp32,bf16" if dev.type == "cuda" else "fp32")).split(",")
    args.device_name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    print(f"torch {torch.__version__}, device {args.device_name}", flush=True)

    with contextlib.ExitStack() as stack:
        ckpt = args.checkpoint
        if ckpt is None:
            ckpt = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "scGPT_human_random"
            t = time.perf_counter()
            scfm.random_checkpoint(ckpt, like="scGPT_human")
            print(f"random scGPT_human-shaped checkpoint written in {time.perf_counter() - t:.1f} s", flush=True)
        all_rows, results = [], {}
        for prec in precisions:
            fm = scfm.load_checkpoint(ckpt, dev, prec)
            ids = fm.token_ids(list(np.random.default_rng(0).choice(fm.genes, args.n_genes, replace=False)))
            if dev.type == "cuda" and prec == precisions[0]:
                print("attention kernels (one Jacobian batch):", attention_kernels(fm, ids[: min(len(ids), 256)]))
            rows, arrays = run(fm, ids, args)
            for r in rows:
                print(json.dumps(r), flush=True)
            all_rows += rows
            results[prec] = arrays
            del fm
            if dev.type == "cuda":
                torch.cuda.empty_cache()
    print()
    print(fmt_table(all_rows))
    if "fp32" in results and len(results) > 1:
        print()
        for prec, arrays in results.items():
            if prec != "fp32":
                for probe in ("VVP", "GDT"):
                    print(f"{prec} vs fp32, {probe}: {json.dumps(rel_errors(arrays[probe], results['fp32'][probe]))}")
    if args.json:
        Path(args.json).write_text(json.dumps(all_rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
