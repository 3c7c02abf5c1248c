"""The InfoSEM within-dataset benchmark, runnable in pieces under the CPU lock (fits are cached on disk, so a piece
that was cut off resumes where it stopped). Writes one result folder per dataset and the joined table.

Reduced run used for the report (2 cores shared; labelled as reduced in meta):
    flock /tmp/ugrn-cpu.lock env OMP_NUM_THREADS=2 python -m benchmarks.infosem_table --datasets Specific/mHSC-L/500 \\
        --seeds 0,1,2 --epochs 30 --hidden 32
Full protocol (paper settings: 10 seeds, DeepSEM presets, σ grids, five expression datasets × two ChIP ground truths):
    python -m benchmarks.infosem_table --datasets all --seeds 0-9 --epochs 0 --hidden 128 --sigma-w 0.1,1,10,100 \\
        --sigma-l 0.1,0.316,1
Then join: python -m benchmarks.infosem_table --join results/infosem
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ugrn_core._io import atomic_write
from ugrn_core.sem.scoring import SEMOptions
from ugrn_core.bench.unseen_genes import UnseenGenesResult, run_unseen_genes

CELLS = ("hHEP", "mDC", "mESC", "mHSC-GM", "mHSC-L")
ALL = [f"{net}/{c}/500" for net in ("Specific", "Non-Specific") for c in CELLS]
METHODS = "DeepSEM,InfoSEM-B,InfoSEM-BC,One-hot LR,MatComp,Random"


def _seeds(s: str) -> list[int]:
    if "-" in s:
        a, b = s.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(x) for x in s.split(",")]


PAIRS = (("InfoSEM-B", "DeepSEM"), ("InfoSEM-BC", "DeepSEM"), ("InfoSEM-BC", "InfoSEM-B"), ("InfoSEM-B", "Random"),
         ("DeepSEM", "Random"))


def paired_markdown(result: UnseenGenesResult, metric: str = "AUPRC") -> str:
    """Paired differences (same split per seed) of the PAIRS on unseen × unseen test pairs: datasets × pairs of
    "mean ± s.e.", plus the number of datasets where the difference is above / below 2 s.e."""
    cols, counts = {}, []
    for a, b in PAIRS:
        if not {a, b} <= set(result.table["method"]):
            continue
        d = result.paired(a, b, metric)
        cols[f"{a} − {b}"] = [f"{m:+.3f} ± {e:.3f}" for m, e in zip(d["mean"], d["se"])]
        counts.append(f"{a} − {b}: above 2 s.e. on {int((d['mean'] > 2 * d['se']).sum())}, below on "
                      f"{int((d['mean'] < -2 * d['se']).sum())} of {len(d)} datasets, mean {d['mean'].mean():+.3f}")
        index = d.index
    if not cols:
        return ""
    table = pd.DataFrame(cols, index=index).to_markdown()
    return f"\n## Paired {metric} differences, unseen test pairs (mean ± s.e. over seeds)\n\n{table}\n\n" + "\n".join(
        f"- {c}" for c in counts) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="Specific/mHSC-L/500")
    ap.add_argument("--methods", default=METHODS)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--split", default="unseen-genes")
    ap.add_argument("--epochs", type=int, default=30, help="0 = the published preset (150 / 90)")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--n-runs", type=int, default=1, help="SEM fits averaged per model (DeepSEM's README: 10)")
    ap.add_argument("--lr", type=float, default=0, help="networks' learning rate; 0 = DeepSEM's 1e-4")
    ap.add_argument("--beta", type=float, default=-1, help="KL weight; < 0 = the preset's (β 0.1 Specific, 1 STRING)")
    ap.add_argument("--alpha", type=float, default=-1, help="sparsity / Laplace weight on A (∝ 1/σ_a); < 0 = the "
                    "preset's (1 Specific, 100 STRING)")
    ap.add_argument("--prior", default="scgpt")
    ap.add_argument("--sigma-w", default="1,100")
    ap.add_argument("--sigma-l", default="0.316")
    ap.add_argument("--candidates", default="known", choices=["known", "all"])
    ap.add_argument("--out", default="results/infosem")
    ap.add_argument("--tag", default="", help="suffix of the result folders (extra runs joined beside the main ones)")
    ap.add_argument("--join", default=None, help="join every result folder under this path and print the tables")
    a = ap.parse_args()
    if a.n_runs < 1:
        ap.error(f"--n-runs must be ≥ 1 (SEM fits averaged per model), got {a.n_runs}")
    if a.join:
        parts = [UnseenGenesResult.load(p.parent) for p in sorted(Path(a.join).glob("*/results.csv"))]
        by_split: dict[str, list] = {}
        for r in parts:
            by_split.setdefault(r.meta["split"], []).append(r)
        for split, rs in by_split.items():
            joined = UnseenGenesResult.concat(rs)
            folder = joined.save(Path(a.join + "_joined") / split)
            md = joined.to_markdown() + (paired_markdown(joined) if split == "unseen-genes" else "")
            atomic_write(folder / "results.md", lambda tmp: Path(tmp).write_text(md))
            print(md)
        return
    from ugrn_core import api

    fm = api.load_model(None, "cpu") if a.prior == "scgpt" else None
    overrides = {"hidden": a.hidden, **({"epochs": a.epochs} if a.epochs else {}),
                 **({"n_runs": a.n_runs} if a.n_runs > 1 else {}), **({"lr": a.lr} if a.lr > 0 else {}),
                 **({"beta": a.beta} if a.beta >= 0 else {}), **({"alpha": a.alpha} if a.alpha >= 0 else {})}
    opts = SEMOptions(config_overrides=overrides, prior=a.prior, sigma_w_grid=tuple(float(x) for x in a.sigma_w.split(",")),
                      sigma_l_grid=tuple(float(x) for x in a.sigma_l.split(",")), fm=fm)
    datasets = ALL if a.datasets == "all" else a.datasets.split(",")
    label = (f"seeds {a.seeds}, epochs {a.epochs or 'preset'}, hidden {a.hidden}, runs {a.n_runs}, prior {a.prior}"
             + (f", lr {a.lr:g}" if a.lr > 0 else "") + (f", β {a.beta:g}" if a.beta >= 0 else "")
             + (f", α {a.alpha:g}" if a.alpha >= 0 else ""))
    for name in datasets:
        res = run_unseen_genes([name], a.methods.split(","), seeds=_seeds(a.seeds), split=a.split, fm=fm,
                               sem_options=opts, label=label, candidates=a.candidates,
                               progress=lambda d, t, m: print(f"[{d}/{t}] {m}", flush=True))
        out = Path(a.out) / f"{a.split}__{a.candidates}__{a.prior}__{name.replace('/', '_')}{'__' + a.tag if a.tag else ''}"
        res.save(out)
        print(res.to_markdown(), flush=True)


if __name__ == "__main__":
    main()
