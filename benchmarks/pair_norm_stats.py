"""Sampled vs exact "context-z" statistics on Table 1 (issue 28: a gene pair in seconds).

The fast pair path (``ugrn_core.probes.pairs.PairProbes``) standardises a context's VVP and GDT features with
statistics estimated from a seeded random sample of probe lines instead of every pair. This script measures what that
does to Ens AUPRC on Table 1 (preset table1: train STRING/hESC/500, test the other cell types' TFs+500 datasets),
paired per seed: for each seed the translator is trained once (exact statistics on the training context, as the
bundled one is), and every test dataset is scored three ways from the same cached full probes:

- exact: the full path (``DatasetProbes.both_directions``), statistics over every off-diagonal pair;
- sampled: the same raw values standardised with ``line_statistics`` of the lines of ``sample_positions`` (the fast
  path's statistics; lines read from the cached array, equal to what ``probe_lines`` computes from the model);
- translator: the training context's statistics scaled by N_train / N (the "stored with the translator" choice).

Test pairs follow the suite (``bench.suite``): all positives + N/P 1 negatives (``--negatives``), training pairs
removed by vocabulary token. Datasets whose probes are not cached are skipped unless ``--compute`` (listed).

    python benchmarks/pair_norm_stats.py --seeds 0 1 2 3 4 --lines 12 --out benchmarks/results/pair_norm_stats
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ugrn_core import api
from ugrn_core.bench import presets
from ugrn_core.bench.metrics import evaluate
from ugrn_core.bench.negatives import sample_test_pairs
from ugrn_core.methods.base import sigmoid
from ugrn_core.probes.pairs import NORM_SAMPLE_LINES, NORM_SAMPLE_SEED, line_statistics, lines_from_probe, \
    sample_positions, zscore
from ugrn_core.translator.options import DEFAULT_OPTIONS, TrainOptions

MEMBERS = tuple(api.methods.get(api.DEFAULT_METHOD).members)  # Ens → VVP, GDT


def _features(P, i, j, stats):
    return np.concatenate([zscore(P[:, i, j], stats).T, zscore(P[:, j, i], stats).T], axis=1)


def main(argv=None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--lines", type=int, nargs="+", default=[NORM_SAMPLE_LINES], help="sampled lines per context")
    ap.add_argument("--sample-seeds", type=int, nargs="+", default=[NORM_SAMPLE_SEED])
    ap.add_argument("--negatives", nargs="+", default=["uniform", "tf-positive"])
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--compute", action="store_true", help="compute missing probes (slow) instead of skipping")
    ap.add_argument("--out", default=None, help="folder for rows.csv and summary.md")
    a = ap.parse_args(argv)

    fm = api.load_model()
    train_name = "STRING/hESC/500"
    tests = presets.jobs("table1", api.list_datasets(), sizes=(500,))[0][1]
    probes = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in [train_name] + tests:
            probes[name] = api.DatasetProbes(fm, api.load_beeline(name))
    missing = [n for n in tests if not all(probes[n].is_cached(m) for m in MEMBERS)]
    if missing and not a.compute:
        print(f"skipped (probes not cached): {', '.join(missing)}")
        tests = [n for n in tests if n not in missing]
    if not all(probes[train_name].is_cached(m) for m in MEMBERS) and not a.compute:
        raise SystemExit(f"{train_name}: probes not cached")
    opts = TrainOptions.from_dict({**DEFAULT_OPTIONS.to_dict(), "epochs": a.epochs})
    axis = {m: api.methods.probe_owner(m).line_axis for m in MEMBERS}

    raw, stats = {}, {}  # context (tokens) → probe → raw array; (context, probe, variant) → statistics
    for name in tests:
        ctx = tuple(probes[name].tokens)
        if ctx in raw:
            continue
        raw[ctx] = {m: probes[name].probe(m) for m in MEMBERS}
        for m in MEMBERS:
            P = raw[ctx][m]
            for n_lines in a.lines:
                for s in a.sample_seeds:
                    idx = sample_positions(P.shape[1], n_lines, s)
                    stats[ctx, m, f"sampled m={n_lines} s={s}"] = line_statistics(lines_from_probe(P, idx, axis[m]), idx)
    rows = []
    for seed in a.seeds:
        t0 = time.perf_counter()
        tp = probes[train_name]
        train_pairs = sample_test_pairs(tp.dataset, genes=tp.genes, np_ratio=1.0, seed=seed, negatives="uniform")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tr = api.Translator.fit(tp, train_pairs, list(MEMBERS), seed=seed, options=opts)
        ref = {r[0]: r[1:] for r in tr.norm_reference}
        tok = dict(zip(tp.mapping.genes, tp.mapping.tokens))
        seen_tok = set(zip(train_pairs["tf"].map(tok), train_pairs["target"].map(tok)))
        for name in tests:
            p = probes[name]
            ctx, n = tuple(p.tokens), len(p.tokens)
            scale = tr.n_context / n
            variants = {"exact": None, "translator": {m: (tuple(x * scale for x in ref[m][0]),
                                                          tuple(x * scale for x in ref[m][1])) for m in MEMBERS}}
            for key in stats:
                if key[0] == ctx:
                    variants.setdefault(key[2], {})[key[1]] = stats[key]
            for neg in a.negatives:
                pairs = sample_test_pairs(p.dataset, genes=p.genes, np_ratio=1.0, seed=seed, negatives=neg)
                ptok = dict(zip(p.mapping.genes, p.mapping.tokens))
                keep = [(ptok[x], ptok[y]) not in seen_tok for x, y in zip(pairs["tf"], pairs["target"])]
                pairs = pairs.loc[keep].reset_index(drop=True)
                y = pairs["label"].to_numpy()
                i, j = p.probe_index(pairs["tf"]), p.probe_index(pairs["target"])
                p_exact = None
                for variant, st in variants.items():
                    if st is None:  # the full path itself
                        X = {m: p.both_directions(m, pairs) for m in MEMBERS}
                    else:
                        X = {m: _features(raw[ctx][m], i, j, st[m]) for m in MEMBERS}
                    s = sigmoid(np.mean([tr.projectors[m].logits(X[m]) for m in MEMBERS], axis=0))
                    p_exact = s if st is None else p_exact
                    rows.append({"seed": seed, "test": name, "negatives": neg, "variant": variant,
                                 "AUPRC": evaluate(y, s)["AUPRC"], "n": len(y),
                                 "max_abs_prob_delta": float(np.abs(s - p_exact).max()),
                                 "p99_abs_prob_delta": float(np.quantile(np.abs(s - p_exact), 0.99))})
        print(f"seed {seed}: {len(tests)} datasets, {time.perf_counter() - t0:.0f} s", flush=True)
    df = pd.DataFrame(rows)
    exact = df[df.variant == "exact"].set_index(["seed", "test", "negatives"])["AUPRC"]
    df["delta"] = df["AUPRC"].to_numpy() - exact.loc[list(zip(df.seed, df.test, df.negatives))].to_numpy()
    table = df.groupby(["variant", "negatives", "seed"]).agg(AUPRC=("AUPRC", "mean"), delta=("delta", "mean"),
                                                             max_abs_dataset_delta=("delta", lambda d: d.abs().max()),
                                                             max_abs_prob_delta=("max_abs_prob_delta", "max"),
                                                             p99_abs_prob_delta=("p99_abs_prob_delta", "max"))
    summary = table.groupby(["variant", "negatives"]).agg(
        mean_AUPRC=("AUPRC", "mean"), mean_delta=("delta", "mean"), max_abs_seed_delta=("delta", lambda d: d.abs().max()),
        max_abs_dataset_delta=("max_abs_dataset_delta", "max"), max_abs_prob_delta=("max_abs_prob_delta", "max"),
        p99_abs_prob_delta=("p99_abs_prob_delta", "max"))
    text = (f"Table 1 Ens AUPRC (mean over {len(tests)} test datasets), seeds {a.seeds}; delta = variant − exact, "
            f"paired per seed and dataset.\nTests: {', '.join(tests)}\n"
            + (f"Skipped (not cached): {', '.join(missing)}\n" if missing and not a.compute else "")
            + "\n" + summary.to_markdown(floatfmt=".4f") + "\n\nPer seed:\n\n" + table.to_markdown(floatfmt=".4f") + "\n")
    print(text)
    if a.out:
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        df.to_csv(out / "rows.csv", index=False)
        (out / "summary.md").write_text(text)
    return df


if __name__ == "__main__":
    main()
