"""Where the right answer is known (issue 13, section 1): a compact scGPT pretrained on SERGIO-simulated cells, its
probes read zero-shot within each network and through the translator across networks, against |Pearson|, partial
correlation, GRNBoost2, the random-init twin and random.

    flock /tmp/ugrn-cpu.lock env OMP_NUM_THREADS=2 python -m benchmarks.simulated_grn            # everything
    python -m benchmarks.simulated_grn --stage pretrain --noise clean                            # one piece at a time

Design
- Networks: three acyclic subnetworks (``--n-genes`` genes, ≤ 3 regulators per target) of the BEELINE reference
  networks STRING/mDC, STRING/hHEP and Non-Specific/mESC (TFs+500), with disjoint gene sets and their real symbols
  (``ugrn_core.simulate.simulate_beeline``); 3 cell states × 700 cells each. Two versions of the cells: clean (SERGIO
  expression levels) and noisy (SERGIO technical-noise profile ``--noise-profile``: outlier genes, library size,
  dropout, counts).
- Pretraining: one compact model per version on the cells of all three networks (``ugrn_core.pretrain`` with
  ``corpora=``; the model is unsupervised, it never sees an edge); wall time printed. Its random-init twin
  (``controls.make_twin``: same architecture and vocabulary, untrained) is the control.
- (a) Zero-shot, within each network: every TF × gene candidate pair ranked by |VVP| (mean and max |response| over
  the target values), |GDT| (Σ |∂M_j/∂x_i| over base values; also only the low / high base values, at the
  network's mean binned cell, and symmetrised |G_ij| + |G_ji|), for the model and its twin, against |Pearson|,
  |Partial corr| (Ledoit–Wolf precision), GRNBoost2 and Random. AUROC and the AUPRC ratio (AUPRC / positive rate;
  1 = random). GRNBoost2 runs last (``--no-grnboost2`` skips it; networks after one that took > 2 min are skipped).
- (b) Translator across networks (genes it never saw): trained on network A's balanced pairs (all positives, as
  many negatives), tested on all TF × gene pairs of network B, for A→B in (1→2, 2→3, 3→1) × ``--seeds`` seeds;
  Emb, VVP, GDT, Ens for the model and the twin; mean ± standard error over the 3 × seeds runs.

Probes are cached (``UGRN_CACHE_DIR``), models and GRNBoost2 results too, so a rerun only recomputes what is new.
Prints the markdown tables and writes them to ``benchmarks/results/simulated.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ugrn_core import methods as registry
from ugrn_core._io import atomic_write
from ugrn_core.config import cache_dir
from ugrn_core.controls import load_twin
from ugrn_core.features import DatasetProbes, ProbeParams
from ugrn_core.metrics import evaluate
from ugrn_core.pairs import candidate_pairs, sample_pairs
from ugrn_core.predict import score_pairs
from ugrn_core.pretrain import PretrainConfig, corpora_from_anndata, pretrain
from ugrn_core.scfm import load_checkpoint
from ugrn_core.simulate import SimulationConfig, simulate_beeline
from ugrn_core.translator import Translator

NETWORKS = ("STRING/mDC/500", "STRING/hHEP/500", "Non-Specific/mESC/500")
CROSS = ((0, 1), (1, 2), (2, 0))
ROOT = Path(__file__).resolve().parents[1]


def simulate_all(n_genes: int, noise: str | None, seed: int = 0) -> list:
    """The three simulated networks (disjoint gene sets), deterministic for ``seed``."""
    out, used = [], set()
    for k, name in enumerate(NETWORKS):
        ds = simulate_beeline(name, n_genes=n_genes, cfg=SimulationConfig(technical_noise=noise), exclude=used,
                              seed=seed + k, label=f"sim{k + 1}")
        ds.expression.uns["name"] = f"sim{k + 1} ({name} subnetwork, {'clean' if noise is None else noise})"
        used |= set(ds.genes)
        out.append(ds)
    return out


def get_model(work: Path, cond: str, datasets, cfg: PretrainConfig, command: str):
    """Pretrained checkpoint of condition ``cond`` (trained now unless its folder exists) and its training seconds."""
    folder = work / f"model-{cond}"
    if not (folder / "best_model.pt").is_file():
        print(f"[{cond}] pretraining {cfg.steps} steps on {sum(d.expression.n_obs for d in datasets)} cells ...",
              flush=True)
        pretrain(folder, cfg=cfg, device="cpu", progress=False, command=command,
                 corpora=corpora_from_anndata([d.expression for d in datasets]))
    summary = json.loads((folder / "training_summary.json").read_text())
    print(f"[{cond}] model: {summary['seconds']} s pretraining, loss {summary['first_train_loss']} → "
          f"{summary['final_train_loss']}; held-out masked MSE "
          + ", ".join(f"{s['heldout_masked_mse']} (gene mean {s['gene_mean_baseline_mse']})" for s in summary["sources"]),
          flush=True)
    return load_checkpoint(folder, device="cpu"), summary


def _metrics(y, s) -> tuple[float, float]:
    r = evaluate(y, s)
    return r["AUROC"], r["AUPRC_ratio"]


def zero_shot_readings(p: DatasetProbes, pairs: pd.DataFrame) -> dict[str, np.ndarray]:
    """Zero-shot scores (P,) of ``pairs`` from the VVP / GDT probe arrays of ``p`` in several readings."""
    i, j = p.positions(pairs["tf"]), p.positions(pairs["target"])
    V = np.abs(p.probe("VVP")[:, i, j])
    G = np.abs(p.probe("GDT"))
    base = np.asarray(p.params.base_values)
    ctx = registry.ScoringContext(dataset=p.dataset, probes=p)
    out = {"|VVP| mean over T": registry.get("|VVP|").run(ctx, pairs), "|VVP| max over T": V.max(0),
           "|GDT| Σ over V": registry.get("|GDT|").run(ctx, pairs),
           "|GDT| Σ over V ≤ 15": G[base <= 15][:, i, j].sum(0), "|GDT| Σ over V ≥ 30": G[base >= 30][:, i, j].sum(0),
           "|GDT| symmetrised": G[:, i, j].sum(0) + G[:, j, i].sum(0)}
    # a realistic base cell: the network's mean binned cell (one N-row Jacobian, [target, source])
    J = p.fm.jacobian(p.token_ids, p.mean_cell())
    out["|GDT| at the mean cell"] = np.abs(J[j, i]).astype(np.float64)
    return out


def run_zero_shot(datasets, models: dict, params: ProbeParams) -> tuple[list[dict], dict]:
    rows, seconds = [], {}
    for k, ds in enumerate(datasets):
        pairs = candidate_pairs(ds)
        y = pairs["label"].to_numpy()
        for label, fm in models.items():
            t0 = time.time()
            p = DatasetProbes(fm, ds, params)
            for name, s in zero_shot_readings(p, pairs).items():
                rows.append({"method": f"{name} ({label})", "net": k, "metrics": _metrics(y, s)})
            seconds[f"probes {label} sim{k + 1}"] = round(time.time() - t0, 1)
        for name in ("|Pearson|", "|Partial corr|", "Random"):
            s = registry.get(name).run(registry.ScoringContext(dataset=ds, seed=0), pairs)
            rows.append({"method": name, "net": k, "metrics": _metrics(y, s)})
        print(f"  sim{k + 1}: {len(pairs)} pairs, {int(y.sum())} positives; done", flush=True)
    return rows, seconds


def run_grnboost2(datasets, limit_s: float = 120.0) -> tuple[list[dict], dict]:
    """GRNBoost2 rows per network; networks after one that took longer than ``limit_s`` are skipped (noted)."""
    rows, seconds = [], {}
    for k, ds in enumerate(datasets):
        if seconds and max(seconds.values()) > limit_s:
            seconds[f"GRNBoost2 sim{k + 1}"] = "skipped"
            continue
        pairs = candidate_pairs(ds)
        t0 = time.time()
        s = registry.get("GRNBoost2").run(registry.ScoringContext(dataset=ds, seed=0), pairs)
        seconds[f"GRNBoost2 sim{k + 1}"] = round(time.time() - t0, 1)
        rows.append({"method": "GRNBoost2", "net": k, "metrics": _metrics(pairs["label"].to_numpy(), s)})
        print(f"  GRNBoost2 sim{k + 1}: {seconds[f'GRNBoost2 sim{k + 1}']} s", flush=True)
    return rows, seconds


def run_cross(datasets, models: dict, seeds: int, params: ProbeParams) -> list[dict]:
    rows = []
    for label, fm in models.items():
        probes = [DatasetProbes(fm, ds, params) for ds in datasets]
        for a, b in CROSS:
            test = candidate_pairs(datasets[b], genes=probes[b].genes)
            for seed in range(seeds):
                train = sample_pairs(datasets[a], genes=probes[a].genes, np_ratio=1.0, seed=seed)
                tr = Translator.fit(probes[a], train, ("Emb", "VVP", "GDT"), seed=seed)
                scored = score_pairs(probes[b], test, ["Emb", "VVP", "GDT", "Ens"], tr)
                for m in ("Emb", "VVP", "GDT", "Ens"):
                    rows.append({"method": f"{m} ({label})", "run": (a, b, seed),
                                 "metrics": _metrics(test["label"].to_numpy(), scored[m].to_numpy())})
        print(f"  translator ({label}): {len(CROSS)} network pairs × {seeds} seeds done", flush=True)
    return rows


def _md(name: str) -> str:
    return name.replace("|", "\\|")


def zero_shot_table(rows: list[dict], n_nets: int) -> str:
    names = list(dict.fromkeys(r["method"] for r in rows))
    head = "| method | " + " | ".join(f"sim{k + 1} AUROC | sim{k + 1} AUPRC ratio" for k in range(n_nets)) + " |"
    lines = [head, "|---" * (1 + 2 * n_nets) + "|"]
    for name in names:
        cells = {r["net"]: r["metrics"] for r in rows if r["method"] == name}
        lines.append(f"| {_md(name)} | " + " | ".join(f"{cells[k][0]:.3f} | {cells[k][1]:.2f}" if k in cells else "– | –"
                                                      for k in range(n_nets)) + " |")
    return "\n".join(lines)


def cross_table(rows: list[dict]) -> str:
    names = list(dict.fromkeys(r["method"] for r in rows))
    lines = ["| method | AUROC (mean ± s.e.) | AUPRC ratio (mean ± s.e.) | runs |", "|---|---|---|---|"]
    for name in names:
        m = np.asarray([r["metrics"] for r in rows if r["method"] == name])
        se = m.std(0, ddof=1) / np.sqrt(len(m)) if len(m) > 1 else np.zeros(2)
        lines.append(f"| {_md(name)} | {m[:, 0].mean():.3f} ± {se[0]:.3f} | {m[:, 1].mean():.2f} ± {se[1]:.2f} | {len(m)} |")
    return "\n".join(lines)


def compose(work: Path, out: Path, params: ProbeParams) -> None:
    """Write ``out`` from the per-condition sections in ``work`` (clean, then noisy)."""
    sections = [(work / f"section-{c}.md").read_text() for c in ("clean", "noisy") if (work / f"section-{c}.md").is_file()]
    if sections:
        head = (f"# Simulated ground truth (SERGIO)\n\nWritten by `benchmarks/simulated_grn.py` (see its docstring for "
                f"the design). Probe values: v0 {params.v0}, T {list(params.target_values)}, "
                f"V {list(params.base_values)}. AUPRC ratio = AUPRC / positive rate (1 = random).\n\n")
        atomic_write(out, lambda tmp: Path(tmp).write_text(head + "\n".join(sections)))
        print(f"wrote {out}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", choices=("all", "pretrain", "zero-shot", "cross"), default="all")
    ap.add_argument("--noise", choices=("both", "clean", "noisy"), default="both")
    ap.add_argument("--noise-profile", default="DS4", help="SERGIO technical-noise profile of the noisy cells")
    ap.add_argument("--n-genes", type=int, default=200)
    ap.add_argument("--steps", type=int, default=3000, help="pretraining steps")
    ap.add_argument("--seq-len", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--no-grnboost2", action="store_true")
    ap.add_argument("--work", default=None,
                    help="folder for the pretrained models and per-condition tables (default <cache dir>/simulated_grn)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "simulated.md"))
    args = ap.parse_args(argv)
    work = Path(args.work) if args.work else cache_dir() / "simulated_grn"
    work.mkdir(parents=True, exist_ok=True)
    params = ProbeParams()
    cfg = PretrainConfig(steps=args.steps, seq_len=args.seq_len, save_every=500)
    conds = ["clean", "noisy"] if args.noise == "both" else [args.noise]
    for cond in conds:
        timings = {}
        t0 = time.time()
        datasets = simulate_all(args.n_genes, None if cond == "clean" else args.noise_profile)
        timings[f"simulate {cond}"] = round(time.time() - t0, 1)
        zeros = np.mean([float((d.expression.layers["raw"] == 0).mean()) for d in datasets])
        desc = ", ".join(f"sim{k + 1} = {NETWORKS[k]}: {len(d.genes)} genes, {len(d.tfs)} TFs, {len(d.edges)} edges"
                         for k, d in enumerate(datasets))
        print(f"[{cond}] {desc}; {datasets[0].expression.n_obs} cells each, {zeros:.0%} zeros", flush=True)
        command = (f"python -m benchmarks.simulated_grn --stage pretrain --noise {cond} --n-genes {args.n_genes} "
                   f"--steps {args.steps} --seq-len {args.seq_len} --noise-profile {args.noise_profile}")
        fm, summary = get_model(work, cond, datasets, cfg, command)
        timings[f"pretrain {cond}"] = summary["seconds"]
        if args.stage == "pretrain":
            continue
        models = {"model": fm, "twin": load_twin(fm, folder=work / f"twin-{cond}")}
        text = [f"## {cond} cells ({'SERGIO levels' if cond == 'clean' else args.noise_profile + ' technical noise'}"
                f", {zeros:.0%} zeros)", "", desc + f"; {datasets[0].expression.n_obs} cells per network. Model: "
                f"{summary['config']['embsize']} wide, {summary['config']['nlayers']} layers, {args.steps} steps × "
                f"{summary['config']['batch_size']} cells, pretrained in {summary['seconds']} s on 2 CPU cores.", ""]
        zs_rows, cross_rows = [], []

        def write_section() -> None:
            body = list(text)
            if zs_rows:
                body += ["### (a) zero-shot within each network (all TF × gene pairs)", "",
                         zero_shot_table(zs_rows, len(datasets)), ""]
            if cross_rows:
                body += [f"### (b) translator across networks (train A, test B on genes it never saw; "
                         f"A→B ∈ {', '.join(f'{a + 1}→{b + 1}' for a, b in CROSS)} × {args.seeds} seeds)", "",
                         cross_table(cross_rows), ""]
            cmd = f"python -m benchmarks.simulated_grn {' '.join(argv if argv is not None else sys.argv[1:])}".strip()
            body += [f"Command: `{cmd}` (2 CPU cores, OMP_NUM_THREADS=2). Wall seconds: "
                     + ", ".join(f"{k} {v}" for k, v in timings.items()), ""]
            atomic_write(work / f"section-{cond}.md", lambda tmp: Path(tmp).write_text("\n".join(body)))
            compose(work, Path(args.out), params)

        if args.stage in ("all", "zero-shot"):
            t0 = time.time()
            rows, secs = run_zero_shot(datasets, models, params)
            zs_rows += rows
            timings.update({f"{k} {cond}": v for k, v in secs.items()})
            timings[f"zero-shot {cond}"] = round(time.time() - t0, 1)
            print(zero_shot_table(zs_rows, len(datasets)), flush=True)
        if args.stage in ("all", "cross"):
            t0 = time.time()
            cross_rows += run_cross(datasets, models, args.seeds, params)
            timings[f"translator {cond}"] = round(time.time() - t0, 1)
            print(cross_table(cross_rows), flush=True)
        if args.stage == "all":
            write_section()
        if args.stage in ("all", "zero-shot") and not args.no_grnboost2:
            rows, secs = run_grnboost2(datasets)
            zs_rows += rows
            timings.update({f"{k} {cond}": v for k, v in secs.items()})
            print(zero_shot_table(zs_rows, len(datasets)), flush=True)
            if args.stage == "all":
                write_section()
        print("wall seconds:", json.dumps(timings), flush=True)
    compose(work, Path(args.out), params)
    return 0


if __name__ == "__main__":
    sys.exit(main())
