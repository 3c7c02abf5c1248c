"""Projector training speed on CPU: seconds per ``translator.fit_projector`` (the paper's 50 epochs, batch 128) at
several torch thread counts, on random features of the shapes the benchmark trains (Emb: 2·d_model... here the
bundled model's widths: Emb 64, VVP 16, GDT 16, Pert 2 features; 6000 training pairs ≈ a TFs+500 training set).

    python -m benchmarks.projector_speed [--pairs 6000] [--threads 1,2] [--stack 9]

Prints one line per (thread count, feature width), then, per thread count, the time to train ``--stack`` projectors
of those widths one after another (``fit_projector`` each) and together (``translator.fit_projectors``: one stacked
module, one optimiser step for all; what the benchmark suite does for a training source's real, twin and
shuffled-label projectors). The projectors are tiny (D → 128 → 64 → 1), so per-step overhead, not arithmetic, sets
the cost; this measures whether extra threads help or hurt, and what stacking saves.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from ugrn_core.translator import fit_projector, fit_projectors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=6000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--widths", default="64,16,2")
    ap.add_argument("--stack", type=int, default=9, help="projectors trained together (9 = 3 methods × real, twin, "
                                                          "shuffled labels)")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    y = (rng.random(args.pairs) < 0.5).astype(np.float32)
    for th in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(th)
        for d in (int(w) for w in args.widths.split(",")):
            X = rng.normal(size=(args.pairs, d)).astype(np.float32) + y[:, None] * 0.3
            t = time.perf_counter()
            fit_projector(X, y, seed=0)
            print(f"threads {th}  features {d:3d}  pairs {args.pairs}  {time.perf_counter() - t:6.2f} s per projector",
                  flush=True)
        widths = [int(w) for w in args.widths.split(",")]
        problems = []
        for k in range(args.stack):
            d = widths[k % len(widths)]
            problems.append((rng.normal(size=(args.pairs, d)).astype(np.float32) + y[:, None] * 0.3, y))
        t = time.perf_counter()
        for X, yy in problems:
            fit_projector(X, yy, seed=0)
        alone = time.perf_counter() - t
        t = time.perf_counter()
        fit_projectors(problems, seed=0)
        together = time.perf_counter() - t
        print(f"threads {th}  {args.stack} projectors  one after another {alone:6.2f} s  together {together:6.2f} s  "
              f"({alone / together:.1f}x)", flush=True)


if __name__ == "__main__":
    main()
