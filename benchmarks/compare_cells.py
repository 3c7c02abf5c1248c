"""Compare the cells of a (possibly interrupted) `ugrn benchmark --out DIR` run with the bundled rows, cell for cell.

    python benchmarks/compare_cells.py --out results/bench            # e.g. a candidate checkpoint's make benchmark-all
    python benchmarks/compare_cells.py --assets /tmp/prev/assets     # …against another bundle (a git worktree of it)

A benchmark writes each finished cell (one train × test × seed × negatives × N/P) to ``<out>/cells/*.csv`` before the
tables exist, so a run stopped part-way still says how a candidate checkpoint compares with the bundled one: this
script joins those rows with ``assets/benchmark_default/rows.csv`` (Table 1) and
``assets/benchmark_tables/table2/rows.csv.gz`` on (train, test, seed, negatives, N/P, method, view) and prints mean
AUPRC over the cells both have (uniform negatives, N/P 1, all test pairs), for Table 1's source and for the other
training sources, then Ens per training source. Only (train, test, seed) with every listed method present count, so
both columns average the same cells. Controls (twin, degree prior) and peers stand beside the model rows; peers and
the degree prior do not depend on the checkpoint and should agree between the columns (a check on the join).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEY = ["train", "test", "seed", "negatives", "np_ratio", "method", "view"]
METHODS = ["Origin-Pert", "Emb", "VVP", "GDT", "Ens", "Ens (twin)", "Degree prior", "|Pearson|", "RegDiffusion"]
TABLE1_SOURCE = "STRING/hESC/500"


def bundled_rows(assets=None) -> pd.DataFrame:
    """The bundled Table 1 and Table 2 rows (``readme_figures.load_rows`` of ``assets``, default the repository's;
    Table 2's cells of STRING/hESC are Table 1's), one row per KEY. Raises FileNotFoundError naming a missing file."""
    from ugrn_core.bench.readme_figures import ASSETS_DIR, load_rows

    rows = load_rows(assets if assets is not None else ASSETS_DIR)
    return pd.concat([rows["table1"], rows["table2"]], ignore_index=True).drop_duplicates(KEY)


def cell_rows(out: Path) -> pd.DataFrame:
    """Every row of ``<out>/cells/*.csv`` (model cells and peer cells). Raises FileNotFoundError when there are none."""
    files = sorted((out / "cells").glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"no benchmark cells under '{out / 'cells'}' (expected a `ugrn benchmark --out` folder)")
    return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)


def compare(cells: pd.DataFrame, bundled: pd.DataFrame, methods=METHODS) -> dict[str, pd.DataFrame]:
    """Per group ("Table 1", "other sources"): method × [candidate, bundled] mean AUPRC over the shared cells, with
    ``n_cells`` in ``attrs``; and "per source": Ens and degree prior per training source."""
    c = cells[(cells["np_ratio"] == 1.0) & (cells["view"] == "all") & (cells["negatives"] == "uniform")]
    m = c.merge(bundled, on=KEY, suffixes=("", "_bundled"))
    m = m[m["method"].isin(methods)]
    out = {}
    for name, sel in (("Table 1", m["train"] == TABLE1_SOURCE), ("other sources", m["train"] != TABLE1_SOURCE)):
        s = m[sel]
        n = s.groupby(["train", "test", "seed"])["method"].nunique()
        keep = n[n == s["method"].nunique()].index
        s = s.set_index(["train", "test", "seed"]).loc[keep].reset_index()
        t = s.groupby("method")[["AUPRC", "AUPRC_bundled"]].mean().reindex([x for x in methods if x in set(s["method"])])
        t.columns = ["candidate", "bundled"]
        t.attrs["n_cells"], t.attrs["n_sources"] = len(keep), s["train"].nunique()
        out[name] = t
    e = m[m["method"].isin(["Ens", "Degree prior"])]
    out["per source"] = e.groupby(["train", "method"])[["AUPRC", "AUPRC_bundled"]].mean().unstack("method")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="results/bench", help="the benchmark's --out folder (default results/bench)")
    ap.add_argument("--assets", default=None,
                    help="the assets folder whose rows to compare with (default the repository's assets/; e.g. a git "
                         "worktree of the previous bundle's commit after `make benchmark-all` replaced them)")
    args = ap.parse_args(argv)
    res = compare(cell_rows(Path(args.out)), bundled_rows(args.assets))
    for name in ("Table 1", "other sources"):
        t = res[name]
        print(f"\n{name}: {t.attrs['n_cells']} train × test × seed cells, {t.attrs['n_sources']} training sources")
        print(t.round(3).to_string())
    print("\nper training source (mean over its cells):")
    print(res["per source"].round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
