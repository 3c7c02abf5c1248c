"""Wall time of DeepSEM / InfoSEM-B / InfoSEM-BC fits and the label-only baselines per dataset (CPU, current threads).

Fits a few epochs and extrapolates to the published epoch counts (150 cell-type-specific, 90 non-specific; the time
per epoch does not depend on the epoch index). Run under the CPU lock, one dataset per command if CPU is scarce:

    flock /tmp/ugrn-cpu.lock env OMP_NUM_THREADS=2 python -m benchmarks.infosem_speed --datasets Specific/mHSC-L/500
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from ugrn_core.methods._baselines import matrix_completion_scores, onehot_lr_scores
from ugrn_core.data.datasets import load_beeline
from ugrn_core.data.pairs import candidate_pairs
from ugrn_core.sem.deepsem import SEMConfig, fit_sem
from ugrn_core.sem.infosem import LabelPrior, make_infosem_prior
from ugrn_core.bench.splits import unseen_genes_split

EXPRESSION_DATASETS = ["Specific/hHEP/500", "Specific/mDC/500", "Specific/mESC/500", "Specific/mHSC-GM/500",
                       "Specific/mHSC-L/500"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default=",".join(EXPRESSION_DATASETS))
    ap.add_argument("--epochs", type=int, default=3, help="epochs actually run (timing is per epoch)")
    ap.add_argument("--hidden", type=int, default=128)
    a = ap.parse_args()
    print(f"torch threads {torch.get_num_threads()}; hidden {a.hidden}; {a.epochs} epochs timed")
    print("dataset | genes x cells | method | s/epoch | est. full fit (150 ep / 90 ep)")
    for name in a.datasets.split(","):
        ds = load_beeline(name)
        X = np.asarray(ds.expression.X)
        cand = candidate_pairs(ds)
        sp = unseen_genes_split(cand, seed=0)
        H = np.random.default_rng(0).standard_normal((len(ds.genes), 512))
        cfg = SEMConfig(epochs=a.epochs, hidden=a.hidden)
        makers = {"DeepSEM": None, "InfoSEM-B": make_infosem_prior(H, 1.0),
                  "InfoSEM-BC": make_infosem_prior(H, 1.0, LabelPrior(ds.genes, sp.train, 0.3),
                                                   rank=min(128, sp.train["tf"].nunique()))}
        for label, make in makers.items():
            fit = fit_sem(X, cfg, make, seed=0)
            per = fit.seconds / a.epochs
            print(f"{name} | {X.shape[1]} x {X.shape[0]} | {label} | {per:.2f} | {150 * per / 60:.1f} min / {90 * per / 60:.1f} min",
                  flush=True)
        for label, fn in (("One-hot LR", onehot_lr_scores), ("MatComp", matrix_completion_scores)):
            t0 = time.perf_counter()
            fn(sp.train, sp.test)
            print(f"{name} | | {label} | total {time.perf_counter() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    main()
