"""InfoSEM-B with a strong Laplace weight: does a gene-embedding prior help once it can move A, and does it need to be
informative? (issue 10; results in docs/infosem.md, "A stronger embedding prior").

At DeepSEM's sparsity weight (α 1 for cell-type-specific ChIP) InfoSEM-B's ranking equals DeepSEM's. Here both run at
α = 100 on the unseen-genes split (10 split seeds, reduced settings: 40 epochs, hidden 32, σ_w 1) with the scGPT,
random and one-hot priors; printed: InfoSEM-B − DeepSEM and InfoSEM-B − Random, paired AUPRC mean ± s.e. over seeds.

    UGRN_CACHE_DIR=... OMP_NUM_THREADS=1 python -m benchmarks.infosem_alpha \\
        --datasets Specific/hHEP/500,Specific/mESC/500,Specific/mHSC-L/500,Specific/mHSC-GM/500,Specific/mDC/500

2026-12-05, one thread, 18,000-step checkpoint: ≈ 15–45 s per (dataset, prior) with DeepSEM's fit cached.
"""

from __future__ import annotations

import argparse
import time

from ugrn_core import api
from ugrn_core.sem.scoring import SEMOptions
from ugrn_core.unseen_genes import run_unseen_genes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="Specific/hHEP/500,Specific/mESC/500")
    ap.add_argument("--priors", default="random,onehot,scgpt")
    ap.add_argument("--alpha", type=float, default=100.0)
    ap.add_argument("--seeds", type=int, default=10)
    a = ap.parse_args()
    fm = api.load_model(None, "cpu")
    for name in a.datasets.split(","):
        for prior in a.priors.split(","):
            opts = SEMOptions(config_overrides={"hidden": 32, "epochs": 40, "alpha": a.alpha}, prior=prior,
                              sigma_w_grid=(1.0,), sigma_l_grid=(0.316,), fm=fm)
            t = time.time()
            res = run_unseen_genes([name], ["DeepSEM", "InfoSEM-B", "Random"], seeds=list(range(a.seeds)),
                                   sem_options=opts, fm=fm)
            d1, d2 = res.paired("InfoSEM-B", "DeepSEM", "AUPRC"), res.paired("InfoSEM-B", "Random", "AUPRC")
            print(f"{name} α {a.alpha:g} prior {prior}: InfoSEM-B − DeepSEM {d1['mean'].iloc[0]:+.3f} ± "
                  f"{d1['se'].iloc[0]:.3f}; InfoSEM-B − Random {d2['mean'].iloc[0]:+.3f} ± {d2['se'].iloc[0]:.3f}; "
                  f"{time.time() - t:.0f} s", flush=True)


if __name__ == "__main__":
    main()
