"""Projector training speed on CPU: seconds per ``translator.fit_projector`` (the paper's 50 epochs, batch 128) at
several torch thread counts, on random features of the shapes the benchmark trains (Emb: 2·d_model... here the
bundled model's widths: Emb 64, VVP 16, GDT 16, Pert 2 features; 6000 training pairs ≈ a TFs+500 training set).

    python -m benchmarks.projector_speed [--pairs 6000] [--threads 1,2]

Prints one line per (thread count, feature width). The projectors are tiny (D → 128 → 64 → 1), so per-step
overhead, not arithmetic, sets the cost; this measures whether extra threads help or hurt.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from ugrn_core.translator import fit_projector


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=6000)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--widths", default="64,16,2")
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


if __name__ == "__main__":
    main()
