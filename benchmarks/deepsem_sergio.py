"""DeepSEM edge recovery on small SERGIO networks (issue 10's "DeepSEM recovers edges of a small simulated network"
test, checked before writing it). 60-gene acyclic subnetworks of STRING/mDC/500 (≤ 2 regulators per target), 2 cell
states × 500 clean cells, seeds 0–2; AUPRC ratio / AUROC over all TF × gene pairs of |A| read directed (A[tf, target]),
symmetrised and reversed, beside |Pearson|.

    flock /tmp/ugrn-cpu.lock env OMP_NUM_THREADS=2 python -m benchmarks.deepsem_sergio

On 2026-11-22 (2 cores): |Pearson| AUPRC ratio 3.50 / 3.40 / 2.83 (AUROC 0.71 / 0.68 / 0.69); DeepSEM's
non-specific preset (α 100, β 1; 40 epochs, 16 hidden) ratio 1.02 / 0.99 / 1.25 (AUROC 0.49 / 0.49 / 0.50); α 1,
β 0.01, ensemble of 3: AUROC 0.34 / 0.47 / 0.38 (below chance); α 10, β 0.1: ratio 1.20 / 1.57 / 1.10. So DeepSEM, as
implemented and with these short budgets, does not recover SERGIO edges clearly above random, and no pass/fail test
asserts it (tests/test_simulate.py asserts |Pearson| and partial correlation instead).
"""

import time

import numpy as np

from ugrn_core.methods.pearson import abs_pearson
from ugrn_core.metrics import evaluate
from ugrn_core.pairs import candidate_pairs
from ugrn_core.sem.deepsem import SEMConfig, fit_sem
from ugrn_core.simulate import SimulationConfig, simulate_beeline


def main() -> None:
    cfgs = {
     "preset-ns-e40-h16": SEMConfig.for_ground_truth("STRING", epochs=40, hidden=16, lr=1e-3),
     "a1-b0.01-lr1e-3-e40-h16-runs3": SEMConfig(alpha=1.0, beta=0.01, epochs=40, hidden=16, lr=1e-3, nonzero_only=False, n_runs=3),
     "a10-b0.1-lr1e-3-e40-h16": SEMConfig(alpha=10.0, beta=0.1, epochs=40, hidden=16, lr=1e-3, nonzero_only=False),
    }
    for seed in (0, 1, 2):
        ds = simulate_beeline("STRING/mDC/500", n_genes=60, max_regulators=2, cfg=SimulationConfig(n_cell_states=2, cells_per_state=500), seed=seed)
        X = np.asarray(ds.expression.X); p = candidate_pairs(ds); y = p.label.to_numpy()
        col = {g:i for i,g in enumerate(ds.genes)}; i=p.tf.map(col).to_numpy(); j=p.target.map(col).to_numpy()
        r = evaluate(y, abs_pearson(X.astype(float), i, j))
        print(f"seed {seed}: {ds}, pairs {len(p)} pos {y.mean():.3f}, Pearson ratio {r['AUPRC_ratio']:.2f} AUROC {r['AUROC']:.3f}", flush=True)
        for name, c in cfgs.items():
            t = time.time(); fit = fit_sem(X, c, seed=seed); A = fit.abs_adjacency
            r = evaluate(y, A[i, j]); r2 = evaluate(y, A[i, j] + A[j, i]); r3 = evaluate(y, A[j, i])
            print(f"   {name}: directed ratio {r['AUPRC_ratio']:.2f} AUROC {r['AUROC']:.3f}; sym ratio {r2['AUPRC_ratio']:.2f} AUROC {r2['AUROC']:.3f}; reversed AUROC {r3['AUROC']:.3f}; {time.time()-t:.1f}s", flush=True)


if __name__ == "__main__":
    main()
