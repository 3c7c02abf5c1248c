"""Does the bundled Table 1 (assets/benchmark_default/rows.csv) reproduce from cached probes? (issue 25's full check)

Runs the bundle's full preset configuration (``suite_config("table1")``: Origin-Pert … Ens, controls twin / shuffled
labels / degree prior / unseen, 5 seeds, uniform and tf-positive negatives) on the bundled checkpoint and its
random-init twin, into a fresh folder; peers are not run (their rows are exact-checked in tests/test_presets.py).
Prints, per method, how many rows are identical to the bundle and the largest AUPRC difference; exit status 0 when
every row is identical. Since TRAINING_VERSION 2 a projector does not depend on the projectors fitted beside it, so
the rows do not depend on how the bundle's run split its work (two processes, ``--cell-order reverse``).

    UGRN_CACHE_DIR=/path/to/cache python benchmarks/table1_reproduce.py --out /tmp/t1 [--cells /tmp/t1/cells]

About 7 min on 2 CPU cores with every probe of the checkpoint and the twin cached (2026-12-06); hours without.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ugrn_core import config
from ugrn_core.bench import controls as ctl
from ugrn_core.bench.presets import jobs
from ugrn_core.bench.suite import Suite, suite_config
from ugrn_core.data.datasets import list_datasets
from ugrn_core.scfm.checkpoint import load_model

KEY = ["train", "test", "seed", "negatives", "np_ratio", "method", "view"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="folder for rows.csv and the suite's files")
    ap.add_argument("--cells", default=None, help="cells cache folder (default: <out>/cells)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = Path(args.out)
    data_dir = config.resolve_data_dir()
    fm = load_model()
    cfg = suite_config("table1", None, None, None, (), None, None)
    js = jobs("table1", list_datasets(data_dir), (500,), cfg.include_train_cell)
    suite = Suite(fm, cfg, out / "table1", twin_fm=ctl.load_twin(fm), data_dir=data_dir,
                  cells_dir=Path(args.cells) if args.cells else out / "cells")
    suite.run(js).to_csv(out / "rows.csv", index=False)
    rows = pd.read_csv(out / "rows.csv")  # as written, like the bundled file (same float text)
    bundled = pd.read_csv(config.ASSETS_DIR / "benchmark_default" / "rows.csv")
    m = rows.merge(bundled, on=KEY, suffixes=("", "_bundled"), validate="one_to_one")
    print(f"{len(rows)} rows, {len(m)} matched with the bundle ({len(bundled)} bundled rows, peers not rerun)")
    same = (m["AUPRC"] == m["AUPRC_bundled"]) | (m["AUPRC"].isna() & m["AUPRC_bundled"].isna())
    m["d"] = (m["AUPRC"] - m["AUPRC_bundled"]).abs()
    table = m.assign(identical=same).groupby("method").agg(
        rows=("d", "size"), identical=("identical", "sum"), max_abs_delta=("d", "max"),
        mean_now=("AUPRC", "mean"), mean_bundled=("AUPRC_bundled", "mean"))
    print(table.to_string(float_format=lambda x: f"{x:.6g}"))
    print(f"AUPRC identical in {int(same.sum())} of {len(m)} rows; wall {time.perf_counter() - t0:.1f} s")
    return 0 if bool(np.all(same)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
