"""Ours vs the expression peers on one machine, side by side (issue 28): wall time and AUPRC of a whole network.

For each dataset (default STRING/mHSC-L/500 and STRING/mDC/500) it runs, one at a time, on the threads of this process
(``OMP_NUM_THREADS``; run it under the shared lock, e.g. ``flock /work/torch.lock env OMP_NUM_THREADS=2``):

- ours: ``ugrn predict``'s work in this process with the default method (``api.DEFAULT_METHOD``), bundled model and
  translator, a cold temporary probe cache: model load, the pre-run estimate (``DatasetProbes.estimate_seconds``,
  per probe), VVP, GDT (only the TF rows and columns the candidate pairs read when that is cheaper: ``probes.blocks``)
  and the translator's scoring, each timed;
- GRNBoost2: arboreto's per-target regressions (``methods.grnboost2.grnboost2_matrix``) with as many worker
  processes as threads, no cache;
- RegDiffusion 0.2.3 with its defaults on CPU (``methods.regdiffusion.regdiffusion_adjacency``), no cache.

It prints wall times, ours / GRNBoost2, and AUPRC on all candidate TF→gene pairs and on the positives plus as many
uniform negatives (seed 0), all methods on the same pairs (the genes in the model's vocabulary). ``--only`` runs one
method, ``--out`` appends each result as a JSON line, ``--report`` prints the table of such a file (so each locked
run stays short).

    flock /work/torch.lock env OMP_NUM_THREADS=2 python benchmarks/peers.py --only ours --out peers.jsonl
    python benchmarks/peers.py --report peers.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATASETS = ("STRING/mHSC-L/500", "STRING/mDC/500")
METHODS = ("ours", "GRNBoost2", "RegDiffusion")


def _auprc(ds, pairs, scores) -> dict:
    """AUPRC on all candidate ``pairs`` and on positives + as many uniform negatives (seed 0)."""
    from ugrn_core.bench.metrics import evaluate
    from ugrn_core.bench.negatives import sample_test_pairs

    s = dict(zip(zip(pairs["tf"], pairs["target"]), scores))
    test = sample_test_pairs(ds, genes=sorted({*pairs["tf"], *pairs["target"]}), np_ratio=1.0, seed=0)
    return {"AUPRC_all": evaluate(pairs["label"], np.asarray(scores))["AUPRC"],
            "AUPRC_uniform": evaluate(test["label"], np.asarray([s[p] for p in zip(test["tf"], test["target"])]))["AUPRC"]}


def forward_flops(fm, n_genes: int) -> float:
    """Floating-point operations (2 per multiply-add) of one forward row of ``fm`` over ``n_genes`` genes + <cls>:
    value encoder (L·d²), per layer Q/K/V/out projections (4·L·d²), attention scores and weighted sum (2·L²·d) and
    feed-forward (2·L·d·d_hid), expression decoder (2·L·d²); embeddings, norms, softmax and biases left out."""
    L, d, layers = n_genes + 1, fm.d_model, fm.n_layers
    d_hid = fm.model.transformer_encoder.layers[0].linear1.out_features
    return 2.0 * (L * d * d + layers * (4 * L * d * d + 2 * L * L * d + 2 * L * d * d_hid) + 2 * L * d * d)


def peak_flops(seconds: float = 1.0) -> float:
    """Measured float32 FLOP/s of a 1024² matrix product on this process's torch threads (the practical peak)."""
    import torch

    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    n, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        a @ b
        n += 1
    return 2 * 1024 ** 3 * n / (time.perf_counter() - t)


def run_ours(name: str) -> dict:
    import torch

    from ugrn_core import api
    from ugrn_core.data.pairs import candidate_pairs
    from ugrn_core.probes import blocks
    from ugrn_core.probes.features import DatasetProbes

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ugrn-peers-") as cache:
        os.environ["UGRN_CACHE_DIR"] = cache
        fm = api.load_model(None, "cpu")
        translator = api.load_translator()
        ds = api.load_beeline(name)
        probes = DatasetProbes(fm, ds, translator.params)
        t_load = time.perf_counter()
        est = {p: probes.estimate_seconds([p]) for p in ("VVP", "GDT")}
        t_est = time.perf_counter()
        pairs = candidate_pairs(ds, genes=probes.genes)
        block = blocks.plan(probes, "GDT")
        probes.both_directions("VVP", pairs)
        t_vvp = time.perf_counter()
        probes.both_directions("GDT", pairs)
        t_gdt = time.perf_counter()
        net = api.network(fm, ds, translator, probes=probes)
        t_end = time.perf_counter()
    flops = forward_flops(fm, len(probes.tokens))
    k_v, k_g = len(translator.params.target_values), len(translator.params.base_values)
    n = len(probes.scored)
    vvp_rows, jac_rows = k_v * n + 1, (block["backward"] + block["columns"]) if block else k_g * n
    peak = peak_flops()
    edges = net.edges.set_index(["tf", "target"])["score"]
    scores = edges.loc[list(zip(pairs["tf"], pairs["target"]))].to_numpy()
    return {"wall": t_end - t0, "load": t_load - t0, "estimate_calibration": t_est - t_load, "VVP": t_vvp - t_est,
            "GDT": t_gdt - t_vvp, "rest": t_end - t_gdt, "est_VVP": est["VVP"], "est_GDT": est["GDT"],
            "GDT_block": None if block is None else {"tfs": len(block["tfs"]), "rows": len(block["rows"])},
            "n_genes": len(probes.tokens), "threads": torch.get_num_threads(), "peak_GFLOPs": peak / 1e9,
            "VVP_rows_per_s": vvp_rows / (t_vvp - t_est), "GDT_rows_per_s": jac_rows / (t_gdt - t_vvp),
            # a Jacobian row (reverse mode) or column (forward mode) counted as 3 forward rows
            "VVP_peak_fraction": vvp_rows * flops / (t_vvp - t_est) / peak,
            "GDT_peak_fraction": 3 * jac_rows * flops / (t_gdt - t_vvp) / peak,
            **_auprc(ds, pairs, scores)}


def run_peer(name: str, method: str) -> dict:
    import torch

    from ugrn_core import api
    from ugrn_core.data.pairs import candidate_pairs
    from ugrn_core.methods._peer_matrix import sorted_expression
    from ugrn_core.probes.features import DatasetProbes

    ds = api.load_beeline(name)
    pairs = candidate_pairs(ds, genes=DatasetProbes(api.load_model(None, "cpu"), ds).genes)
    X, col = sorted_expression(ds)
    genes = list(col)
    t0 = time.perf_counter()
    if method == "GRNBoost2":
        from ugrn_core.methods.grnboost2 import grnboost2_matrix

        tfs = sorted(t for t in ds.tfs if t in col)
        M = grnboost2_matrix(X, genes, tfs, seed=0, n_workers=torch.get_num_threads())
        row = {t: k for k, t in enumerate(tfs)}
    else:
        from ugrn_core.methods.regdiffusion import regdiffusion_adjacency

        M = regdiffusion_adjacency(X, seed=0, device="cpu")
        row = col
    wall = time.perf_counter() - t0
    scores = np.asarray([M[row[a], col[b]] for a, b in zip(pairs["tf"], pairs["target"])])
    return {"wall": wall, "threads": torch.get_num_threads(), **_auprc(ds, pairs, scores)}


def report(lines: list[dict]) -> str:
    """Markdown table: per dataset the latest result of each method, ours / GRNBoost2 and the estimate errors."""
    latest = {(r["dataset"], r["method"]): r for r in lines}
    out = ["| dataset | method | threads | wall (s) | vs GRNBoost2 | AUPRC all pairs | AUPRC uniform | notes |",
           "|---|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["dataset"] for r in lines):
        gb = latest.get((name, "GRNBoost2"))
        for m in METHODS:
            r = latest.get((name, m))
            if r is None:
                continue
            ratio = f"{r['wall'] / gb['wall']:.2f}×" if gb else "–"
            note = ""
            if m == "ours":
                est = r["est_VVP"] + r["est_GDT"]
                note = (f"VVP {r['VVP']:.1f} s (est. {r['est_VVP']:.1f}, {r['est_VVP'] / r['VVP'] - 1:+.0%}), GDT "
                        f"{r['GDT']:.1f} s (est. {r['est_GDT']:.1f}, {r['est_GDT'] / r['GDT'] - 1:+.0%}), probes est. "
                        f"{est:.1f} vs {r['VVP'] + r['GDT']:.1f} s ({est / (r['VVP'] + r['GDT']) - 1:+.0%}); load "
                        f"{r['load']:.1f} s, calibration {r['estimate_calibration']:.1f} s, rest {r['rest']:.1f} s; "
                        f"GDT block {r['GDT_block']}; rows/s VVP {r.get('VVP_rows_per_s', 0):.0f}, GDT "
                        f"{r.get('GDT_rows_per_s', 0):.0f}; of the measured peak {r.get('peak_GFLOPs', 0):.0f} GFLOP/s: "
                        f"VVP {r.get('VVP_peak_fraction', 0):.0%}, GDT {r.get('GDT_peak_fraction', 0):.0%}")
            out.append(f"| {name} | {m} | {r['threads']} | {r['wall']:.1f} | {ratio} | {r['AUPRC_all']:.4f} | "
                       f"{r['AUPRC_uniform']:.4f} | {note} |")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument("--only", choices=METHODS, action="append", help="run only these methods (repeatable)")
    ap.add_argument("--out", help="append each result as a JSON line to this file")
    ap.add_argument("--report", help="print the table of a --out file and exit")
    args = ap.parse_args(argv)
    if args.report:
        print(report([json.loads(x) for x in Path(args.report).read_text().splitlines() if x.strip()]))
        return 0
    from ugrn_core import api

    lines = []
    for name in args.datasets:
        has_expression = api.load_beeline(name).has_expression
        for m in args.only or METHODS:
            if m != "ours" and not has_expression:
                print(f"{name}: no expression, {m} not run", flush=True)
                continue
            r = {"dataset": name, "method": m, **(run_ours(name) if m == "ours" else run_peer(name, m))}
            lines.append(r)
            print(json.dumps(r), flush=True)
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(r) + "\n")
    print(report(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
