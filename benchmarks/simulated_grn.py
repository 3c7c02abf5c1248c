"""Where the right answer is known (issue 13, section 1): a compact scGPT pretrained on SERGIO-simulated cells, its
probes read zero-shot within each network and through the translator across networks, against |Pearson|, partial
correlation, GRNBoost2, the random-init twin and random.

    flock /tmp/ugrn-cpu.lock env OMP_NUM_THREADS=2 python -m benchmarks.simulated_grn            # everything
    python -m benchmarks.simulated_grn --stage pretrain --noise clean                            # one piece at a time
    python -m benchmarks.simulated_grn --stage levers --noise noisy --variants base,mask15       # model levers

Design
- Networks: three acyclic subnetworks (``--n-genes`` genes, ≤ 3 regulators per target) of the BEELINE reference
  networks STRING/mDC, STRING/hHEP and Non-Specific/mESC (TFs+500), with disjoint gene sets and their real symbols
  (``ugrn_core.data.simulate.simulate_beeline``); 3 cell states × 700 cells each. Two versions of the cells: clean (SERGIO
  expression levels) and noisy (SERGIO technical-noise profile ``--noise-profile``: outlier genes, library size,
  dropout, counts).
- Pretraining: one compact model per version on the cells of all three networks (``ugrn_core.scfm.pretrain`` with
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
- Model levers (``--stage levers --variants ...``, issue 13): one model per variant of :data:`VARIANTS` (more steps,
  wider, deeper, lower / higher mask ratio, another pretraining seed), each one change from the baseline; per variant
  the pretraining seconds, held-out masked MSE at a common mask ratio against the gene-mean predictor
  (``pretrain.heldout_reconstruction``), the zero-shot readings and the translator AUROC on unseen genes (mean over
  the networks / runs), the twin once per architecture, |Pearson| and |Partial corr| beside. One locked command per
  variant keeps each under 8 min.

Probes are cached (``UGRN_CACHE_DIR``), models and GRNBoost2 results too, so a rerun only recomputes what is new.
Prints the markdown tables and writes them to ``benchmarks/results/simulated.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ugrn_core import methods as registry
from ugrn_core._io import atomic_write
from ugrn_core.config import cache_dir
from ugrn_core.bench.controls import load_twin
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.probes.params import ProbeParams
from ugrn_core.bench.metrics import evaluate
from ugrn_core.data.pairs import candidate_pairs, sample_pairs
from ugrn_core.methods import score_pairs
from ugrn_core.scfm.pretrain import PretrainConfig, corpora_from_anndata, heldout_reconstruction, pretrain
from ugrn_core.scfm import load_checkpoint
from ugrn_core.data.simulate import SimulationConfig, simulate_beeline
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


# ---------------------------------------------------------------------------------------------- model levers
# name -> (PretrainConfig changes from the baseline 64 wide / 2 layers / 3000 steps / 40 % masked, description)
VARIANTS = {
    "base": ({}, "baseline: 64 wide, 2 layers, 3000 steps, 40 % masked"),
    "steps2x": ({"steps": 6000}, "2× steps (6000)"),
    "steps3x": ({"steps": 9000}, "3× steps (9000)"),
    "wide128": ({"embsize": 128, "d_hid": 256}, "128 wide (feed-forward 256)"),
    "layers4": ({"nlayers": 4}, "4 layers"),
    "mask15": ({"mask_ratio": 0.15}, "15 % masked"),
    "mask70": ({"mask_ratio": 0.7}, "70 % masked"),
    "seed1": ({"seed": 1}, "baseline, pretraining seed 1 (seed-to-seed spread)"),
}
LEVER_ZERO_SHOT = ("|VVP| mean over T", "|GDT| Σ over V", "|GDT| symmetrised", "|GDT| at the mean cell")
LEVER_TRANSLATOR = ("Emb", "VVP", "GDT", "Ens")
EVAL_MASK = 0.4  # every variant's held-out reconstruction is also scored at this common mask ratio


def _mean_over_nets(rows: list[dict]) -> dict[str, list[float]]:
    """{method: [mean AUROC, mean AUPRC ratio]} over the networks (zero-shot rows) or runs (translator rows)."""
    names = dict.fromkeys(r["method"] for r in rows)
    return {n: np.mean([r["metrics"] for r in rows if r["method"] == n], axis=0).round(4).tolist() for n in names}


def _lever_probe_results(datasets, fm, seeds: int, params: ProbeParams) -> dict:
    """Zero-shot readings (mean over the networks) and translator AUROC on unseen genes (mean over runs) of ``fm``."""
    zs, _ = run_zero_shot(datasets, {"m": fm}, params)
    zs = _mean_over_nets([dict(r, method=r["method"].removesuffix(" (m)")) for r in zs if r["method"].endswith(" (m)")])
    cross = _mean_over_nets([dict(r, method=r["method"].removesuffix(" (m)"))
                             for r in run_cross(datasets, {"m": fm}, seeds, params)])
    return {"zero_shot": {k: zs[k] for k in LEVER_ZERO_SHOT}, "translator": cross}


def run_lever(work: Path, cond: str, name: str, datasets, base_cfg: PretrainConfig, seeds: int, params: ProbeParams,
              command: str) -> dict:
    """Pretrain (or load) variant ``name`` of :data:`VARIANTS` on condition ``cond``'s cells, score it, cache the row.

    The baseline variant is the condition's main model (``model-<cond>``); the others live in
    ``model-<cond>-<name>``. The random-init twin is scored once per architecture (width, depth, feed-forward).
    Returns the variant's row (also written to ``<work>/levers-<cond>/<name>.json``).
    """
    out = work / f"levers-{cond}" / f"{name}.json"
    if out.is_file():
        return json.loads(out.read_text())
    changes, desc = VARIANTS[name]
    cfg = replace(base_cfg, **changes)
    fm, summary = get_model(work, cond if name == "base" else f"{cond}-{name}", datasets, cfg, command)
    t0 = time.time()
    corpora = corpora_from_anndata([d.expression for d in datasets])
    own = summary["sources"]
    common = heldout_reconstruction(fm, corpora, cfg, mask_ratio=EVAL_MASK)
    row = {"variant": name, "description": desc, "config": {k: getattr(cfg, k) for k in
                                                             ("embsize", "nlayers", "d_hid", "steps", "mask_ratio")},
           "pretrain_seconds": summary["seconds"], "resumed_from_step": summary.get("resumed_from_step", 0),
           "heldout_own_mask": [float(np.mean([s[k] for s in own])) for k in ("heldout_masked_mse", "gene_mean_baseline_mse")],
           "heldout_common_mask": [float(np.mean([s[k] for s in common]))
                                   for k in ("heldout_masked_mse", "gene_mean_baseline_mse")]}
    row.update(_lever_probe_results(datasets, fm, seeds, params))
    arch = f"twin-{cfg.embsize}w-{cfg.nlayers}L-{cfg.d_hid}ff"
    twin_file = work / f"levers-{cond}" / f"{arch}.json"
    if not twin_file.is_file():
        twin = load_twin(fm, folder=work / (f"twin-{cond}" if name == "base" else f"{arch}-{cond}"))
        blob = _lever_probe_results(datasets, twin, seeds, params)
        atomic_write(twin_file, lambda tmp: Path(tmp).write_text(json.dumps(blob, indent=1)))
    row["twin"] = json.loads(twin_file.read_text())
    row["eval_seconds"] = round(time.time() - t0, 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda tmp: Path(tmp).write_text(json.dumps(row, indent=1)))
    return row


def lever_table(rows: list[dict], reference: dict[str, list[float]]) -> str:
    """Markdown table of lever rows (``run_lever``) with the expression baselines ``reference`` {name: [AUROC, ratio]}."""
    zs = " | ".join(f"{_md(k)} AUROC / ratio" for k in LEVER_ZERO_SHOT)
    tr = " | ".join(f"tr. {k}" for k in LEVER_TRANSLATOR)
    lines = [f"| variant | pretrain s | held-out MSE @{EVAL_MASK:.0%} (gene mean) | MSE / gene mean | {zs} | {tr} |",
             "|---" * (4 + len(LEVER_ZERO_SHOT) + len(LEVER_TRANSLATOR)) + "|"]
    twins_done = set()
    for r in rows:
        mse, base = r["heldout_common_mask"]
        for label, blob in ((r["description"], r), (None, r["twin"])):
            if label is None:
                key = json.dumps(r["twin"], sort_keys=True)
                if key in twins_done:
                    continue
                twins_done.add(key)
                c = r["config"]
                label = f"↳ random-init twin ({c['embsize']} wide, {c['nlayers']} layers)"
                head = f"| {label} | – | – | – | "
            else:
                head = f"| {label} | {r['pretrain_seconds']} | {mse:.1f} ({base:.1f}) | {mse / base:.3f} | "
            lines.append(head + " | ".join(f"{blob['zero_shot'][k][0]:.3f} / {blob['zero_shot'][k][1]:.2f}"
                                           for k in LEVER_ZERO_SHOT)
                         + " | " + " | ".join(f"{blob['translator'][k][0]:.3f}" for k in LEVER_TRANSLATOR) + " |")
    for name, (auroc, ratio) in reference.items():
        lines.append(f"| {_md(name)} (expression, no model) | – | – | – | {auroc:.3f} / {ratio:.2f} |"
                     + " – |" * (len(LEVER_ZERO_SHOT) - 1 + len(LEVER_TRANSLATOR)))
    return "\n".join(lines)


def expression_reference(datasets) -> dict[str, list[float]]:
    """|Pearson| and |Partial corr| AUROC and AUPRC ratio, mean over the networks (all TF × gene pairs)."""
    rows = []
    for k, ds in enumerate(datasets):
        pairs = candidate_pairs(ds)
        for name in ("|Pearson|", "|Partial corr|"):
            s = registry.get(name).run(registry.ScoringContext(dataset=ds, seed=0), pairs)
            rows.append({"method": name, "net": k, "metrics": _metrics(pairs["label"].to_numpy(), s)})
    return _mean_over_nets(rows)


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
    """Write ``out`` from the per-condition sections in ``work`` (clean, then noisy, then the model levers)."""
    names = [f"section-{c}.md" for c in ("clean", "noisy")] + [f"section-levers-{c}.md" for c in ("clean", "noisy")]
    sections = [(work / n).read_text() for n in names if (work / n).is_file()]
    if sections:
        head = (f"# Simulated ground truth (SERGIO)\n\nWritten by `benchmarks/simulated_grn.py` (see its docstring for "
                f"the design). Probe values: v0 {params.v0}, T {list(params.target_values)}, "
                f"V {list(params.base_values)}. AUPRC ratio = AUPRC / positive rate (1 = random).\n\n")
        atomic_write(out, lambda tmp: Path(tmp).write_text(head + "\n".join(sections)))
        print(f"wrote {out}", flush=True)


def run_levers(work: Path, cond: str, variants: list[str], args, cfg: PretrainConfig, params: ProbeParams) -> None:
    """``--stage levers``: pretrain and score ``variants`` on condition ``cond``, then write its "Model levers"
    section from every variant scored so far (``<work>/levers-<cond>/*.json``, in :data:`VARIANTS` order)."""
    datasets = simulate_all(args.n_genes, None if cond == "clean" else args.noise_profile)
    for name in variants:
        t0 = time.time()
        extra = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in VARIANTS[name][0].items())
        command = (f"python -m benchmarks.simulated_grn --stage levers --variants {name} --noise {cond} "
                   f"--n-genes {args.n_genes} --seq-len {args.seq_len} --noise-profile {args.noise_profile}"
                   + (f" ({extra})" if extra else ""))
        row = run_lever(work, cond, name, datasets, cfg, args.seeds, params, command)
        print(f"[{cond}/{name}] {json.dumps(row)} ({time.time() - t0:.0f} s)", flush=True)
    rows = [json.loads(f.read_text()) for n in VARIANTS if (f := work / f"levers-{cond}" / f"{n}.json").is_file()]
    if not rows:
        return
    table = lever_table(rows, expression_reference(datasets))
    print(table, flush=True)
    own = "; ".join(f"{r['variant']} {r['heldout_own_mask'][0] / r['heldout_own_mask'][1]:.3f}"
                    for r in rows if r["config"]["mask_ratio"] != EVAL_MASK)
    text = [f"## Model levers ({'clean' if cond == 'clean' else args.noise_profile + ' noisy'} cells)", "",
            "Which pretraining choices make the compact model beat the per-gene-mean predictor and carry regulation in "
            "its probes. One model per variant, pretrained on the cells of the three simulated networks above "
            f"({args.n_genes} genes each, {cfg.batch_size} cells per step, lr {cfg.lr}, seed {cfg.seed}); each changes "
            "one setting of the baseline. Held-out MSE: masked reconstruction of the 5 % held-out cells (bins², mean "
            f"over the 3 networks), all variants masked at the common {EVAL_MASK:.0%}, beside the gene-mean predictor "
            "on the same positions (ratio < 1 = learned more than each gene's mean"
            + (f"; at each variant's own mask ratio the ratio is {own}" if own else "") + "). Zero-shot: AUROC / "
            "AUPRC ratio over all TF × gene pairs, mean over the 3 networks. tr. = translator AUROC on unseen genes "
            f"(train A, test B, A→B ∈ 1→2, 2→3, 3→1 × {args.seeds} seeds, mean of {3 * args.seeds} runs). The "
            "random-init twin (same architecture, untrained) is scored once per architecture.", "",
            table, "",
            "Commands (each under `flock /tmp/ugrn-cpu.lock env OMP_NUM_THREADS=2`, 2 CPU cores): "
            + "; ".join(f"`python -m benchmarks.simulated_grn --stage levers --noise {cond} --variants {r['variant']}` "
                        f"(pretrain {r['pretrain_seconds']} s, scoring {r['eval_seconds']} s)" for r in rows)
            + ". Pretraining seconds of the baseline are those of the model of the section above.", ""]
    atomic_write(work / f"section-levers-{cond}.md", lambda tmp: Path(tmp).write_text("\n".join(text)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", choices=("all", "pretrain", "zero-shot", "cross", "levers"), default="all")
    ap.add_argument("--variants", default="base,steps2x,wide128,layers4,mask15,mask70",
                    help=f"--stage levers: comma-separated model variants to pretrain and score, of {list(VARIANTS)}")
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
    if args.stage == "levers":
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        unknown = [v for v in variants if v not in VARIANTS]
        if unknown:
            ap.error(f"--variants: unknown variant(s) {unknown}; expected names of {list(VARIANTS)}")
        for cond in conds:
            run_levers(work, cond, variants, args, cfg, params)
        compose(work, Path(args.out), params)
        return 0
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
