"""Messages that used to say too little (issue 24), through the CLI: a dataset without Label.csv, a gene list with one
known gene, expression rows out of order, warnings in one readable line, the exit codes in ``ugrn --help``."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd
import pytest

from ugrn_core import api, cli, errors


def dataset_folder(root: Path, label: bool = True, expression: str | None = None) -> Path:
    """A data directory holding one GENELink-layout dataset, STRING/mDC/500: genes A-D, TFs A, B, edges A→B, B→C."""
    f = root / "beeline" / "STRING Dataset" / "mDC" / "TFs+500"
    f.mkdir(parents=True)
    pd.DataFrame({"Gene": list("ABCD"), "index": range(4)}).to_csv(f / "Target.csv")
    pd.DataFrame({"TF": ["A", "B"], "index": [0, 1]}).to_csv(f / "TF.csv")
    if label:
        pd.DataFrame([(0, 1), (1, 2)], columns=["TF", "Target"]).to_csv(f / "Label.csv")
    pd.DataFrame([("A", "B"), ("B", "C")], columns=["Gene1", "Gene2"]).to_csv(f / "BL--network.csv", index=False)
    if expression is not None:
        (f / "BL--ExpressionData.csv").write_text(expression)
    return root


def stderr_lines(capsys) -> list[str]:
    return [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]


def test_missing_label_csv_warns_in_one_readable_line(capsys, tmp_path, tiny_checkpoint):
    """No Label.csv: one warning line naming both files, in the CLI's format (no source file, no code line)."""
    root = dataset_folder(tmp_path / "data", label=False)
    folder = root / "beeline" / "STRING Dataset" / "mDC" / "TFs+500"
    with pytest.warns(UserWarning, match=r"no Label\.csv in .*; the known edges \(labels\) are taken from "
                                         r"BL--network\.csv \(2 edges\)"):
        api.load_beeline("STRING/mDC/500", data_dir=root)
    # with Label.csv there is no such warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        api.load_beeline("STRING/mDC/500", data_dir=dataset_folder(tmp_path / "data2"))
    # through the CLI (a fresh data dir: load_beeline caches per folder): the dataset loads with the warning, then
    # predicting with the bundled translator on the tiny checkpoint fails (exit 2) before any probing
    root3 = dataset_folder(tmp_path / "data3", label=False)
    rc = cli.main(["predict", "--data-dir", str(root3), "--dataset", "STRING/mDC/500", "--checkpoint",
                   str(tiny_checkpoint), "--out", str(tmp_path / "out.tsv")])
    lines = stderr_lines(capsys)
    assert rc == 2 and lines[-1].startswith("ugrn predict: error:"), lines
    warned = [ln for ln in lines if "Label.csv" in ln]
    assert warned == [f"warning: Dataset 'STRING/mDC/500': no Label.csv in '{root3 / folder.relative_to(root)}'; "
                      "the known edges (labels) are taken from BL--network.csv (2 edges)"], lines
    assert not any(".py:" in ln or "UserWarning" in ln or "warnings.warn" in ln for ln in lines), lines
    assert not (tmp_path / "out.tsv").exists()


def test_format_warning_is_one_line():
    assert cli.format_warning("mapped 5/8 genes\n  (62.5%);   3 unmapped", UserWarning) == \
        "warning: mapped 5/8 genes (62.5%); 3 unmapped"
    assert cli.format_warning("old API", FutureWarning) == "warning: old API (FutureWarning)"


def test_one_known_gene_says_a_pair_needs_two(capsys, tmp_path):
    """A one-gene list, and a two-gene list with one unknown gene: the message says a pair needs two genes and never
    prints an empty list of unknown genes (the bundled checkpoint; fails in the vocabulary check, before probing)."""
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("SPI1\n")
    two.write_text("SPI1\nNOTAGENE9\n")
    out = tmp_path / "out.tsv"
    expected = {one: "Dataset 'genes:one.txt' has one gene (SPI1), and a TF→target pair needs two; expected at least "
                     "two genes in the checkpoint vocabulary.",
                two: "Dataset 'genes:two.txt': only 1 of the 2 genes (SPI1) is in the checkpoint vocabulary, and a "
                     "TF→target pair needs two; expected at least two known genes (not in the vocabulary: NOTAGENE9)."}
    for genes, message in expected.items():
        rc = cli.main(["predict", "--genes", str(genes), "--method", "Emb", "--out", str(out)])
        lines = stderr_lines(capsys)
        assert rc == 2 and lines[-1] == f"ugrn predict: error: {message}", lines
        assert "unknown: )" not in lines[-1] and "Traceback" not in "\n".join(lines)
    assert not out.exists()


def test_expression_rows_out_of_order_name_the_first_difference(capsys, tmp_path, tiny_checkpoint):
    """Rows B and C swapped: the message names 0-based row 1 and both names there; a file one row short says it ends."""
    swapped = ",c1,c2\nA,1,2\nC,3,0\nB,0,1\nD,1,1\n"
    root = dataset_folder(tmp_path / "data", expression=swapped)
    with pytest.raises(errors.DataError, match=re.escape("(4 rows vs 4 genes; first difference at 0-based gene row 1: "
                                                         "'C' in the file, 'B' in Target.csv)")):
        api.load_beeline("STRING/mDC/500", data_dir=root)
    short = dataset_folder(tmp_path / "data2", expression=",c1,c2\nA,1,2\nB,0,1\nC,3,0\n")
    with pytest.raises(errors.DataError, match=re.escape("(3 rows vs 4 genes; the file ends at 0-based gene row 3, "
                                                         "where Target.csv has 'D')")):
        api.load_beeline("STRING/mDC/500", data_dir=short)
    root3 = dataset_folder(tmp_path / "data3", expression=swapped)
    rc = cli.main(["predict", "--data-dir", str(root3), "--dataset", "STRING/mDC/500", "--checkpoint",
                   str(tiny_checkpoint), "--out", str(tmp_path / "out.tsv")])
    lines = stderr_lines(capsys)
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("ugrn predict: error: Rows of "), lines
    assert "first difference at 0-based gene row 1: 'C' in the file, 'B' in Target.csv" in lines[0], lines


def test_help_lists_the_exit_codes(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    epilog = out[out.index("exit codes:"):]
    for code, words in [("0", "done"), ("1", "ugrn doctor"), ("2", "bad input"), ("130/143", "interrupted")]:
        assert re.search(rf"^  {re.escape(code)} +{words}", epilog, re.M), epilog
    assert 'warnings print as one line each, starting with "warning: "' in epilog
