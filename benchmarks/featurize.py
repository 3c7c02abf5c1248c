"""Featurization speed: batched VVP / GDT probes vs a naive per-pair reference, measured in the same run.

Prints, for one real BEELINE dataset:
- batched: seconds for the full probe of the gene set (every ordered gene pair, all target / base values) and the
  resulting TF→target pairs per second (each pair's feature holds both directions);
- naive: one model call per (pair, direction, value) — VVP: 2T perturbed forward rows + 1 reference per pair;
  GDT: 2V single-row backward passes per pair — timed on a random subset of pairs, and the speed-up ratio;
- the largest difference between naive and batched features (they must agree).

Usage: python benchmarks/featurize.py [--dataset STRING/mHSC-L/500] [--pairs 20] [--checkpoint DIR]
With --all-500 it also times VVP+GDT for every TFs+500 gene set (7 cell types) from an empty cache.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch

from ugrn_core.data.datasets import load_beeline
from ugrn_core.data.pairs import candidate_pairs
from ugrn_core.probes.cache import ProbeCache
from ugrn_core.config import DEFAULT_CHECKPOINT_DIR
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.probes.params import ProbeParams
from ugrn_core.scfm import load_checkpoint


def naive_vvp(fm, ids, i, j, params):
    """Feature [forward ‖ reverse] of one pair from single forward rows (no batching, no sharing)."""
    n = len(ids)
    base = fm.reconstruct(ids, np.full(n, params.v0, dtype=np.float32), batch_size=1)
    out = []
    for src, tgt in ((i, j), (j, i)):
        for t in params.target_values:
            cell = np.full(n, params.v0, dtype=np.float32)
            cell[src] = t
            out.append(fm.reconstruct(ids, cell, batch_size=1)[tgt] - base[tgt])
    return np.asarray(out, dtype=np.float32)


def naive_gdt(fm, ids, i, j, params):
    """Feature [forward ‖ reverse] of one pair: one backward pass per (direction, base value)."""
    out = []
    for src, tgt in ((i, j), (j, i)):
        for v in params.base_values:
            out.append(fm.jacobian(ids, v, targets=np.asarray([tgt]), batch_size=1)[0, src])
    return np.asarray(out, dtype=np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="STRING/mHSC-L/500")
    ap.add_argument("--pairs", type=int, default=20, help="pairs in the naive reference subset")
    ap.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT_DIR))
    ap.add_argument("--all-500", action="store_true", help="also time every TFs+500 gene set (VVP + GDT)")
    args = ap.parse_args()

    fm = load_checkpoint(args.checkpoint)
    # raw probe features: the naive per-pair references return raw responses, and the per-context normalisation
    # (ProbeParams.feature_norm, default context-z) is applied after the probes, so it is not what is timed here
    params = ProbeParams(feature_norm="none")
    print(f"device {fm.device}, torch {torch.__version__}, threads {torch.get_num_threads()}, checkpoint {fm.path} "
          f"(d_model {fm.d_model}, {fm.n_layers} layers)")
    with tempfile.TemporaryDirectory() as tmp:
        cache = ProbeCache(fm.checkpoint_id, root=tmp)
        ds = load_beeline(args.dataset)
        p = DatasetProbes(fm, ds, params, cache=cache)
        n_pairs = len(candidate_pairs(ds, genes=p.genes))
        print(f"{args.dataset}: {len(p.tokens)} context genes, {n_pairs} TF→target candidate pairs")
        timings = {}
        naive = {"VVP": naive_vvp, "GDT": naive_gdt}  # probe → per-pair reference implementation
        for probe in naive:
            t = time.perf_counter()
            p.probe(probe)
            timings[probe] = time.perf_counter() - t
            print(f"batched {probe}: {timings[probe]:.1f} s for the gene set = {n_pairs / timings[probe]:.0f} pairs/s")

        pairs = candidate_pairs(ds, genes=p.genes).sample(args.pairs, random_state=0)
        i_pos, j_pos = p.positions(pairs["tf"]), p.positions(pairs["target"])
        for probe, fn in naive.items():
            t = time.perf_counter()
            feats = np.stack([fn(fm, p.token_ids, i, j, params) for i, j in zip(i_pos, j_pos)])
            dt = (time.perf_counter() - t) / len(pairs)
            batched = p.pair_features(probe, pairs)
            diff = float(np.abs(feats - batched).max())
            print(f"naive {probe}: {dt:.2f} s/pair = {1 / dt:.2f} pairs/s; batched is {dt * n_pairs / timings[probe]:.0f}x faster "
                  f"for this gene set; max |naive - batched| = {diff:.2e}")

        if args.all_500:
            total = 0.0
            fresh = ProbeCache(fm.checkpoint_id, root=os.path.join(tmp, "all-500"))  # empty: nothing reused from above
            for cell in ("hESC", "hHEP", "mDC", "mESC", "mHSC-E", "mHSC-GM", "mHSC-L"):
                q = DatasetProbes(fm, load_beeline(f"STRING/{cell}/500"), params, cache=fresh)
                t = time.perf_counter()
                for probe in naive:
                    q.probe(probe)
                dt = time.perf_counter() - t
                total += dt
                print(f"STRING/{cell}/500: {len(q.tokens)} genes, VVP+GDT {dt:.0f} s")
            print(f"all 7 TFs+500 gene sets, VVP + GDT: {total / 60:.1f} min on {os.cpu_count()} CPU cores")


if __name__ == "__main__":
    main()
