"""benchmarks/compare_cells.py: a candidate run's cells joined with bundled rows, cell for cell."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

spec = importlib.util.spec_from_file_location("compare_cells", Path(__file__).resolve().parents[1] / "benchmarks" / "compare_cells.py")
cc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cc)


def _rows(train, test, seed, method, auprc, negatives="uniform"):
    return {"train": train, "test": test, "seed": seed, "negatives": negatives, "np_ratio": 1.0, "method": method,
            "view": "all", "AUPRC": auprc}


def test_compare_averages_only_cells_both_runs_have_with_every_method(tmp_path):
    bundled = pd.DataFrame([_rows("STRING/hESC/500", "a", 0, "Ens", 0.6), _rows("STRING/hESC/500", "a", 0, "Emb", 0.5),
                            _rows("STRING/hESC/500", "b", 0, "Ens", 0.9), _rows("STRING/hESC/500", "b", 0, "Emb", 0.9),
                            _rows("STRING/mDC/500", "a", 1, "Ens", 0.7), _rows("STRING/mDC/500", "a", 1, "Emb", 0.4)])
    (tmp_path / "cells").mkdir()
    pd.DataFrame([_rows("STRING/hESC/500", "a", 0, "Ens", 0.5), _rows("STRING/hESC/500", "a", 0, "Emb", 0.55),
                  _rows("STRING/hESC/500", "b", 0, "Ens", 0.1),  # b lacks Emb here: left out of both columns
                  _rows("STRING/hESC/500", "a", 0, "Ens", 0.2, negatives="tf-positive"),  # other negatives: ignored
                  _rows("STRING/mDC/500", "a", 1, "Ens", 0.8), _rows("STRING/mDC/500", "a", 1, "Emb", 0.3)]
                 ).to_csv(tmp_path / "cells" / "x.csv", index=False)
    res = cc.compare(cc.cell_rows(tmp_path), bundled, methods=["Emb", "Ens"])
    t1, other = res["Table 1"], res["other sources"]
    assert t1.attrs["n_cells"] == 1 and other.attrs["n_cells"] == 1
    assert t1.loc["Ens"].tolist() == pytest.approx([0.5, 0.6]) and t1.loc["Emb"].tolist() == pytest.approx([0.55, 0.5])
    assert other.loc["Ens"].tolist() == pytest.approx([0.8, 0.7])


def test_cell_rows_names_the_folder_without_cells(tmp_path):
    with pytest.raises(FileNotFoundError, match="no benchmark cells under .*cells"):
        cc.cell_rows(tmp_path)


def test_bundled_rows_reads_another_assets_folder_and_names_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="benchmark_default"):
        cc.bundled_rows(tmp_path)
    rows = cc.bundled_rows()  # the repository's own bundle: one row per key, Table 1's source present
    assert not rows.duplicated(cc.KEY).any() and cc.TABLE1_SOURCE in set(rows["train"])
