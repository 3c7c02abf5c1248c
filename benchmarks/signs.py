"""Edge signs from the probes (issue 27): how often the sign of the VVP slope and of the GDT mean
(``ugrn_core.probes.signs``) matches a known sign, beside the sign of Pearson r from the cells.

    export UGRN_CACHE_DIR=/work/cache/ugrn
    flock /work/torch.lock env OMP_NUM_THREADS=1 python -m benchmarks.signs --stage sim       # SERGIO, ~2 min
    flock /work/torch.lock env OMP_NUM_THREADS=1 python -m benchmarks.signs --stage trrust    # cached probes only
    python -m benchmarks.signs --stage trrust --compute --cells mHSC-L --probes VVP            # compute what is missing

Design
- Simulated (``--stage sim``): three acyclic subnetworks (``--n-genes`` genes, ≤ 3 regulators per target) of the
  BEELINE networks STRING/mDC, STRING/hHEP and Non-Specific/mESC (TFs+500), simulated by SERGIO
  (``ugrn_core.data.simulate``; 3 cell states × 700 cells, 30 % of the edges repressive). Each true edge's sign is the sign
  of the simulator's interaction strength k (``uns["interactions"]``). Predicted: sign of the bundled model's VVP slope
  and GDT mean for the edge (probes over the network's genes as context), and sign of Pearson r over the simulated
  cells. The model never saw these cells and the simulator draws the signs at random, so the probes cannot know them:
  ~50 % is the expected answer; Pearson r reads the sign from the cells.
- Reference (``--stage trrust``): TRRUST v2 Activation / Repression edges (``assets/reference/trrust_<species>.tsv.gz``,
  provenance in ``docs/signs.md``) whose TF and target are both among a BEELINE TFs+500 gene set's genes in the model
  context (mouse symbols compared upper-case); pairs listed both as Activation and as Repression are left out. The
  gene set is the same for STRING and Non-Specific, so one probe per cell type. Pearson r from the dataset's expression
  where the data directory has it (not hESC, mHSC-E).
- Per row: n edges compared (a 0 sign is left out), accuracy, exact two-sided binomial p against 0.5, the share q of
  edges predicted +1, the accuracy of always answering "activation" (the reference's base rate b), and the accuracy
  expected of signs drawn independently of the truth with the same +1 share, q·b + (1 − q)(1 − b), with the binomial
  p against it: when both the prediction and the reference lean to +1, 0.5 is not chance.

Prints markdown and writes it to ``benchmarks/results/signs.md`` (``--out``), merging with the stage not rerun.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from ugrn_core.probes import signs
from ugrn_core._io import atomic_write
from ugrn_core.data.datasets import load_beeline
from ugrn_core.probes.features import DatasetProbes
from ugrn_core.probes.params import ProbeParams

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "assets" / "reference"
CELLS = ("hESC", "hHEP", "mDC", "mESC", "mHSC-E", "mHSC-GM", "mHSC-L")
SIM_NETWORKS = ("STRING/mDC/500", "STRING/hHEP/500", "Non-Specific/mESC/500")
COLUMNS = ["set", "edges", "sign from", "n", "correct", "accuracy", "p (binomial vs 0.5)", "predicted +1",
           "always +1", "chance at this +1 share", "p (vs chance)"]


def load_trrust(species: str) -> pd.DataFrame:
    """TRRUST v2 signed edges of ``species``: DataFrame [tf, target, sign] (upper-case symbols, sign ±1), one row per
    pair; pairs recorded both as Activation and as Repression are dropped."""
    t = pd.read_csv(REFERENCE / f"trrust_{species}.tsv.gz", sep="\t", dtype=str, keep_default_na=False)
    t = pd.DataFrame({"tf": t["TF"].str.upper(), "target": t["Target"].str.upper(),
                      "sign": np.where(t["Mode"] == "Activation", 1, -1)})
    n_modes = t.groupby(["tf", "target"])["sign"].transform("nunique")
    return t[n_modes == 1].drop_duplicates(["tf", "target"], ignore_index=True)


def rows_for(label: str, n_edges: int, truth: np.ndarray, predicted: dict) -> list[dict]:
    """One table row per sign source in ``predicted`` (name → int sign array, or None = not available)."""
    out = []
    base = float((truth > 0).mean()) if len(truth) else float("nan")
    for name, pred in predicted.items():
        if pred is None:
            out.append({"set": label, "edges": n_edges, "sign from": name, "n": "n/a"})
            continue
        a = signs.sign_accuracy(pred, truth)
        kept = (pred != 0) & (truth != 0)
        q = float((pred[kept] > 0).mean()) if a["n"] else float("nan")
        b = float((truth[kept] > 0).mean()) if a["n"] else float("nan")
        chance = q * b + (1 - q) * (1 - b)  # expected accuracy of signs drawn independently of the truth, same +1 share
        p_chance = float(binomtest(a["correct"], a["n"], chance).pvalue) if a["n"] and 0 < chance < 1 else float("nan")
        out.append({"set": label, "edges": n_edges, "sign from": name, "n": str(a["n"]),
                    "correct": str(a["correct"]),
                    "accuracy": f"{a['accuracy']:.3f}", "p (binomial vs 0.5)": f"{a['p']:.2g}",
                    "predicted +1": f"{q:.2f}", "always +1": f"{base:.3f}",
                    "chance at this +1 share": f"{chance:.3f}", "p (vs chance)": f"{p_chance:.2g}"})
    return out


def probe_signs(probes: DatasetProbes, pairs: pd.DataFrame, which, compute: bool) -> dict:
    """Sign arrays per probe; None for a probe not cached when ``compute`` is False."""
    out = {}
    for probe in which:
        if not compute and not probes.is_cached(probe):
            out[f"{probe} slope"] = None
            continue
        t0 = time.time()
        res = signs.edge_signs(probes, pairs, (probe,))
        print(f"  {probes.dataset.name}: {probe} {probes.source.get(probe)} in {time.time() - t0:.0f} s", file=sys.stderr)
        out[f"{probe} slope"] = res[f"{probe}_sign"].to_numpy()
    return out


def stage_sim(fm, args) -> list[dict]:
    from ugrn_core.data.simulate import SimulationConfig, simulate_beeline

    rows, used, pooled = [], set(), {"truth": []}
    for k, name in enumerate(SIM_NETWORKS):
        t0 = time.time()
        ds = simulate_beeline(name, n_genes=args.n_genes, cfg=SimulationConfig(), exclude=used, seed=args.seed + k,
                              label=f"sim{k + 1}")
        used |= set(ds.genes)
        print(f"  simulated {ds.name} ({name}): {len(ds.genes)} genes, {len(ds.edges)} edges, "
              f"{time.time() - t0:.0f} s", file=sys.stderr)
        inter = ds.expression.uns["interactions"]
        probes = DatasetProbes(fm, ds, ProbeParams())
        inter = inter[inter["tf"].isin(probes.genes) & inter["target"].isin(probes.genes)].reset_index(drop=True)
        truth = signs.sign_of(inter["k"].to_numpy())
        pred = probe_signs(probes, inter, args.probes, compute=True)
        pred["Pearson r"] = signs.sign_of(signs.dataset_pearson_r(ds, inter))
        label = f"sim{k + 1} ({name} subnetwork, seed {args.seed + k})"
        rows += rows_for(label, len(inter), truth, pred)
        pooled["truth"].append(truth)
        for m, v in pred.items():
            pooled.setdefault(m, []).append(v)
    truth = np.concatenate(pooled.pop("truth"))
    rows += rows_for("all three simulated networks", len(truth), truth,
                     {m: np.concatenate(v) for m, v in pooled.items()})
    return rows


def stage_trrust(fm, args) -> list[dict]:
    rows, pooled = [], {"truth": []}
    for cell in args.cells:
        ds = load_beeline(f"Non-Specific/{cell}/500")
        ref = load_trrust(ds.species)
        probes = DatasetProbes(fm, ds, ProbeParams())
        genes = set(probes.genes)
        pairs = ref[ref["tf"].isin(genes) & ref["target"].isin(genes) & (ref["tf"] != ref["target"])]
        pairs = pairs.reset_index(drop=True)
        truth = pairs["sign"].to_numpy()
        pred = probe_signs(probes, pairs, args.probes, compute=args.compute)
        pred["Pearson r"] = (signs.sign_of(signs.dataset_pearson_r(ds, pairs)) if ds.has_expression else None)
        rows += rows_for(f"{cell} TFs+500 ({ds.species})", len(pairs), truth, pred)
        pooled["truth"].append(truth)
        for m, v in pred.items():
            pooled.setdefault(m, []).append(v)
    # pooled per sign source over the sets where it is available (mHSC-E/GM/L share genes: a pair may repeat there)
    truth = pooled.pop("truth")
    for m, vs in pooled.items():
        have = [d for d, v in enumerate(vs) if v is not None]
        if len(have) > 1:
            t = np.concatenate([truth[d] for d in have])
            rows += rows_for("pooled: " + ", ".join(args.cells[d] for d in have), len(t), t,
                             {m: np.concatenate([vs[d] for d in have])})
    return rows


def to_markdown(rows: list[dict]) -> str:
    df = pd.DataFrame(rows).reindex(columns=COLUMNS).fillna("")
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join(lines)


HEADINGS = {"sim": "## SERGIO simulations: true edges, sign of the simulator's interaction strength",
            "trrust": "## TRRUST v2 signed edges on the BEELINE TFs+500 gene sets"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stage", choices=("sim", "trrust", "all"), default="all")
    ap.add_argument("--cells", default=",".join(CELLS), help="BEELINE cell types (comma-separated)")
    ap.add_argument("--probes", default="VVP,GDT", help="probes whose sign is read (comma-separated)")
    ap.add_argument("--compute", action="store_true", help="compute TRRUST-stage probes that are not cached")
    ap.add_argument("--n-genes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "signs.md"))
    args = ap.parse_args(argv)
    args.cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    args.probes = [p.strip() for p in args.probes.split(",") if p.strip()]
    from ugrn_core import api

    fm = api.load_model(device="cpu")
    out = Path(args.out)
    sections = {}
    if out.is_file():  # keep the other stage's table
        for key, head in HEADINGS.items():
            m = re.search(re.escape(head) + r"\n(.*?)(?=\n## |\Z)", out.read_text(), flags=re.S)
            if m:
                sections[key] = m.group(1).strip()
    stages = ("sim", "trrust") if args.stage == "all" else (args.stage,)
    for stage in stages:
        t0 = time.time()
        rows = stage_sim(fm, args) if stage == "sim" else stage_trrust(fm, args)
        cmd = "python -m benchmarks.signs " + " ".join(argv if argv is not None else sys.argv[1:])
        sections[stage] = (f"`{cmd}` — checkpoint {fm.checkpoint_id}, probe parameters {ProbeParams().to_dict()}, "
                           f"{time.time() - t0:.0f} s\n\n{to_markdown(rows)}")
        print(HEADINGS[stage] + "\n\n" + sections[stage] + "\n")
    text = ("# Edge signs from the probes (issue 27)\n\nWritten by `benchmarks/signs.py`; what the columns mean and "
            "what the numbers say: `docs/signs.md`.\n\n"
            + "\n\n".join(f"{HEADINGS[k]}\n\n{sections[k]}" for k in ("sim", "trrust") if k in sections) + "\n")
    atomic_write(out, lambda tmp: Path(tmp).write_text(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
