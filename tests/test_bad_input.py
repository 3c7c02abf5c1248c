"""Bad input, every class, through the Python API and the CLI: one clear message, a project error type, exit code 2,
no traceback and no output file. (The app's path is in tests/test_app.py; arbitrary bytes in test_readers_property.py.)

Each message must name the file / gene / parameter, what was found and what was expected.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ugrn_core import api, cli, config, errors, scfm
from ugrn_core.data import pairs
from ugrn_core.probes.params import ProbeParams

REPO = Path(__file__).resolve().parents[1]
E = errors


# ----------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tiny_fm(tiny_checkpoint):
    return scfm.load_checkpoint(tiny_checkpoint, device="cpu")


@pytest.fixture(scope="module")
def tiny_translator(tiny_fm, tmp_path_factory):
    """A translator trained on the tiny checkpoint (Emb + VVP + GDT, 2 epochs, reduced grid)."""
    params = ProbeParams(target_values=(0.0, 50.0), base_values=(10.0, 40.0))
    tr = api.train_translator(tiny_fm, api.load_beeline("STRING/mHSC-L/500"), ["Emb", "VVP", "GDT"], params, epochs=2)
    return tr.save(tmp_path_factory.mktemp("tr") / "tiny_tr")


def beeline_folder(root: Path, genes=("A", "B", "C", "D"), tfs=("A", "B"), label=((0, 1), (1, 2)),
                   network=(("A", "B"), ("B", "C")), expression: str | None = None) -> Path:
    """A data directory with one GENELink-layout dataset, STRING/mDC/500, written from the given pieces."""
    f = root / "beeline" / "STRING Dataset" / "mDC" / "TFs+500"
    f.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"Gene": list(genes), "index": range(len(genes))}).to_csv(f / "Target.csv")
    pd.DataFrame({"TF": list(tfs), "index": [list(genes).index(t) if t in genes else 99 for t in tfs]}).to_csv(f / "TF.csv")
    if label is not None:
        pd.DataFrame(list(label), columns=["TF", "Target"]).to_csv(f / "Label.csv")
    pd.DataFrame(list(network), columns=["Gene1", "Gene2"]).to_csv(f / "BL--network.csv", index=False)
    if expression is not None:
        (f / "BL--ExpressionData.csv").write_text(expression)
    return root


def load(root: Path):
    return api.load_beeline("STRING/mDC/500", data_dir=root)


# ----------------------------------------------------------------------------------------------- dataset folders
def test_valid_synthetic_folder_loads(tmp_path):
    ds = load(beeline_folder(tmp_path, expression=",c1,c2\nA,1,2\nB,0,1\nC,3,0\nD,1,1\n"))
    assert ds.genes == ["A", "B", "C", "D"] and ds.tfs == ["A", "B"] and len(ds.edges) == 2 and ds.has_expression


@pytest.mark.parametrize("case, match", [
    ("missing Target.csv", r"lacks Target\.csv"),
    ("renamed Target.csv", r"lacks Target\.csv"),
    ("empty Target.csv", r"Target\.csv.*empty"),
    ("header-only Target.csv", r"Target\.csv.*no genes"),
    ("renamed column", r"Target\.csv.*column 'Gene'.*found"),
    ("empty BL--network.csv", r"BL--network\.csv.*empty"),
    ("label past the end", r"Label\.csv.*row 1.*index 9.*Target\.csv.*0\.\.3"),
    ("negative label", r"Label\.csv.*row 0.*index -1"),
    ("label disagrees with network", r"Label\.csv.*BL--network\.csv.*disagree.*B→D"),
    ("duplicated gene", r"Duplicate gene.*Target\.csv.*'B'"),
    ("lower/upper duplicate", r"Duplicate gene.*Target\.csv.*'B'"),
    ("TF not in genes", r"TF\.csv.*not in Target\.csv.*'X'"),
    ("network gene unknown", r"BL--network\.csv.*not in Target\.csv.*'Z'"),
    ("expression rows differ", r"BL--ExpressionData\.csv.*rows.*Target\.csv"),
])
def test_bad_dataset_folder(tmp_path, case, match):
    kw = {}
    if case == "label past the end":
        kw["label"] = ((0, 1), (1, 9))
    elif case == "negative label":
        kw["label"] = ((-1, 1), (1, 2))
    elif case == "label disagrees with network":
        kw["label"] = ((0, 1), (1, 3))
    elif case == "duplicated gene":
        kw["genes"] = ("A", "B", "C", "B")
    elif case == "lower/upper duplicate":
        kw["genes"] = ("A", "B", "C", "b")
    elif case == "TF not in genes":
        kw["tfs"] = ("A", "X")
    elif case == "network gene unknown":
        kw["network"] = (("A", "B"), ("B", "Z"))
        kw["label"] = None
    elif case == "expression rows differ":
        kw["expression"] = ",c1,c2\nA,1,2\nB,0,1\nC,3,0\n"
    root = beeline_folder(tmp_path, **kw)
    f = root / "beeline" / "STRING Dataset" / "mDC" / "TFs+500"
    if case == "missing Target.csv":
        (f / "Target.csv").unlink()
    elif case == "renamed Target.csv":
        (f / "Target.csv").rename(f / "target.csv")
    elif case == "empty Target.csv":
        (f / "Target.csv").write_text("")
    elif case == "header-only Target.csv":
        (f / "Target.csv").write_text(",Gene,index\n")
    elif case == "renamed column":
        (f / "Target.csv").write_text(",Symbol,index\n0,A,0\n")
    elif case == "empty BL--network.csv":
        (f / "BL--network.csv").write_text("")
    with pytest.raises(E.DataError, match=match):
        load(root)


def test_missing_data_dir_names_it(tmp_path):
    with pytest.raises(E.InputFileNotFound, match=r"Data directory not found: '.*nowhere'"):
        api.load_beeline("STRING/mDC/500", data_dir=tmp_path / "nowhere")


# ----------------------------------------------------------------------------------------------- gene lists
@pytest.mark.parametrize("content, match", [
    (b"", r"genes\.txt.*empty"),
    (b"\n \n\t\n", r"genes\.txt.*(empty|no gene symbols)"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", r"genes\.txt.*binary.*expected a text file"),
    (b"GATA1\nSP\xe91\n", r"genes\.txt.*not UTF-8.*line 2"),
    (b"name,value\nGATA1,1\n", r"genes\.txt.*'gene' or 'symbol' column.*\['name', 'value'\]"),
])
def test_bad_gene_list(tmp_path, content, match):
    p = tmp_path / "genes.txt"
    p.write_bytes(content)
    with pytest.raises(E.DataError, match=match):
        api.read_gene_list(p)


def test_gene_lists_that_cannot_form_a_pair(tiny_fm, tiny_translator):
    tr = api.load_translator(tiny_translator)
    cases = [
        (["NOTAGENE1", "NOTAGENE2"], ["NOTAGENE1"], r"none of the 2 genes is in the checkpoint vocabulary"),
        (["GATA1", "NOTAGENE2"], ["GATA1"], r"only 1 of the 2 genes \(GATA1\).*vocabulary.*at least two"),
        (["GATA1", "SPI1", "CEBPA"], [], r"no TF"),
    ]
    for genes, tfs, match in cases:
        ds = api.dataset_from_genes(genes, tfs=tfs, species="mouse")
        with pytest.raises(E.DataError, match=match):
            api.predict_edges(tiny_fm, ds, tr, method="Emb")


def test_mixed_species_gene_list_warns():
    with pytest.warns(UserWarning, match=r"mix of mouse-style.*and human-style"):
        api.dataset_from_genes(["Gata1", "Spi1", "Cebpa", "Klf1", "GATA2", "RUNX1", "MYB", "TAL1"], species="mouse",
                                tfs=["GATA2"])


# ----------------------------------------------------------------------------------------------- expression
@pytest.mark.parametrize("content, match", [
    (",c1,c2\nGATA1,1,abc\nSPI1,0,1\n", r"non-numeric value 'abc' for gene 'GATA1', cell 'c2'"),
    (",c1,c2\nGATA1,1,n/a\nSPI1,0,1\n", r"non-numeric value 'n/a' for gene 'GATA1', cell 'c2'"),
    (",c1,c2\nGATA1,1,\nSPI1,0,1\n", r"missing value.*gene 'GATA1', cell 'c2'"),
    (",c1,c2\nGATA1,1,2\nSPI1,NaN,1\n", r"missing value.*gene 'SPI1', cell 'c1'"),
    (",c1,c2\nGATA1,1,2\nSPI1,inf,1\n", r"infinite value.*gene 'SPI1', cell 'c1'"),
    (",c1,c2\nGATA1,1,-2\nSPI1,0,1\n", r"negative value -2.*gene 'GATA1', cell 'c2'.*non-negative"),
    ("", r"expr\.csv.*empty"),
    (",c1,c2\n", r"expr\.csv.*no data"),
])
def test_bad_expression(tmp_path, content, match):
    p = tmp_path / "expr.csv"
    p.write_text(content)
    with pytest.raises(E.DataError, match=match):
        api.read_expression(p, p.name)


def test_expression_in_the_wrong_orientation_is_reported():
    import io

    genes = ["GATA1", "SPI1", "CEBPA"]
    cells_by_genes_with_cells_as_header = io.StringIO("gene,c1,c2,c3\n" + "".join(f"{g},1,2,3\n" for g in genes))
    ok = api.read_expression(cells_by_genes_with_cells_as_header, "x.csv")
    assert ok.var_names.tolist() == genes
    # an .h5ad written genes × cells (var = cells): the gene list is found among the cell names
    import anndata

    transposed = anndata.AnnData(X=np.ones((3, 4), dtype=np.float32), obs=pd.DataFrame(index=genes),
                                 var=pd.DataFrame(index=[f"cell{i}" for i in range(4)]))
    with pytest.raises(E.DataError, match=r"transposed.*3 of the 3 genes are .*cell.*expected cells × genes"):
        api.dataset_from_genes(genes, tfs=["GATA1"], expression=transposed)


def test_expression_rows_that_do_not_match_the_gene_list():
    import anndata

    adata = anndata.AnnData(X=np.ones((2, 2), dtype=np.float32), var=pd.DataFrame(index=["GATA1", "SPI1"]))
    with pytest.raises(E.DataError, match=r"1 genes have no expression column: CEBPA"):
        api.dataset_from_genes(["GATA1", "SPI1", "CEBPA"], tfs=["GATA1"], expression=adata)


# ----------------------------------------------------------------------------------------------- checkpoints
def _copy_ckpt(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_bad_checkpoints(tiny_checkpoint, tmp_path):
    with pytest.raises(E.CheckpointNotFound, match=r"Checkpoint folder '.*nowhere' not found"):
        scfm.load_checkpoint(tmp_path / "nowhere")
    c = _copy_ckpt(tiny_checkpoint, tmp_path / "a")
    (c / "vocab.json").unlink()
    with pytest.raises(E.CheckpointNotFound, match="lacks vocab.json"):
        scfm.load_checkpoint(c)
    c = _copy_ckpt(tiny_checkpoint, tmp_path / "b")
    raw = (c / "best_model.pt").read_bytes()
    (c / "best_model.pt").write_bytes(raw[: len(raw) // 3])
    with pytest.raises(E.CheckpointError, match=r"best_model\.pt \(\d+ bytes\) cannot be read.*truncated"):
        scfm.load_checkpoint(c)
    c = _copy_ckpt(tiny_checkpoint, tmp_path / "c")
    vocab = json.loads((c / "vocab.json").read_text())
    vocab["EXTRA_GENE"] = len(vocab)
    (c / "vocab.json").write_text(json.dumps(vocab))
    with pytest.raises(E.CheckpointError, match=r"does not match args.json/vocab.json.*embedding.weight: shape"):
        scfm.load_checkpoint(c)
    c = _copy_ckpt(tiny_checkpoint, tmp_path / "d")
    args = json.loads((c / "args.json").read_text())
    del args["nlayers"]
    (c / "args.json").write_text(json.dumps(args))
    with pytest.raises(E.CheckpointError, match=r"lacks required model arguments \['nlayers'\]"):
        scfm.load_checkpoint(c)
    (c / "args.json").write_text("{not json")
    with pytest.raises(E.CheckpointError, match=r"args\.json: not valid UTF-8 JSON"):
        scfm.load_checkpoint(c)
    # a pickle with code in it is refused (weights_only), reported as unreadable, never executed
    c = _copy_ckpt(tiny_checkpoint, tmp_path / "e")
    torch.save({"x": object()}, c / "best_model.pt")
    with pytest.raises(E.CheckpointError, match="cannot be read"):
        scfm.load_checkpoint(c)


def test_bad_translators(tiny_translator, tmp_path, fm, tiny_fm):
    with pytest.raises(E.CheckpointNotFound, match="lacks meta.json"):
        api.load_translator(tmp_path)
    t = _copy_ckpt(Path(tiny_translator), tmp_path / "t")
    raw = (t / "projectors.pt").read_bytes()
    (t / "projectors.pt").write_bytes(raw[:100])
    with pytest.raises(E.CheckpointError, match=r"projectors\.pt cannot be loaded"):
        api.load_translator(t)
    (t / "projectors.pt").write_bytes(raw)
    meta = json.loads((t / "meta.json").read_text())
    del meta["params"]
    (t / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(E.CheckpointError, match=r"meta\.json lacks \['params'\]"):
        api.load_translator(t)
    # a translator made with another checkpoint
    ds = api.dataset_from_genes(["GATA1", "SPI1", "CEBPA"], tfs=["GATA1"], species="mouse")
    with pytest.raises(E.CheckpointError, match=r"translator was trained with checkpoint .*; this model is"):
        api.predict_edges(fm, ds, api.load_translator(tiny_translator), method="Emb")


# ----------------------------------------------------------------------------------------------- parameters
def test_bad_parameters(tiny_fm, tiny_translator):
    for kw, match in [({"v0": 60.0}, r"v0: 60 outside .*0\.\.50"), ({"target_values": (-1.0, 10.0)}, r"target_values: -1 outside"),
                      ({"base_values": ()}, r"base_values: no value"), ({"v0": float("nan")}, r"v0: nan outside")]:
        with pytest.raises(E.ParameterError, match=match):
            ProbeParams(**kw)
    ds = api.load_beeline("STRING/mHSC-L/500")
    for ratio in (0, -1, float("nan")):
        with pytest.raises(E.ParameterError, match=r"np_ratio \(N/P ratio\) must be a positive number"):
            pairs.sample_pairs(ds, np_ratio=ratio)
    with pytest.raises(E.ParameterError, match=r"method 'Foo'.*expected one of"):
        api.predict_edges(tiny_fm, ds, api.load_translator(tiny_translator), method="Foo")
    for dev, match in [("tpu", "not a torch device name|unsupported device type"), ("cuda:7", "CUDA"), ("banana", "not a torch device")]:
        with pytest.raises(E.ParameterError, match=match):
            config.resolve_device(dev)
    assert config.resolve_device("cpu") == "cpu"


def test_env_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("UGRN_DATA_DIR", str(tmp_path / "nodata"))
    with pytest.raises(E.InputFileNotFound, match="nodata"):
        config.resolve_data_dir()
    beeline_folder(tmp_path / "d")
    monkeypatch.setenv("UGRN_DATA_DIR", str(tmp_path / "d"))
    assert api.list_datasets() == ["STRING/mDC/500"]
    monkeypatch.setenv("UGRN_CACHE_DIR", str(tmp_path / "c"))
    assert config.cache_dir() == tmp_path / "c" and (tmp_path / "c").is_dir()
    monkeypatch.setenv("UGRN_DEVICE", "cpu")
    assert config.default_device() == "cpu" and api.device_name() == "cpu"
    monkeypatch.setenv("UGRN_DEVICE", "banana")
    with pytest.raises(E.ParameterError, match=r"'banana' \(from UGRN_DEVICE\)"):
        config.resolve_device()
    monkeypatch.setenv("UGRN_ALLOWED_ROOTS", f"{tmp_path / 'd'}{os.pathsep}{tmp_path / 'c'}")
    assert config.check_allowed_path(tmp_path / "d" / "x", "results folder") == (tmp_path / "d" / "x").resolve()
    for outside in (tmp_path / "elsewhere", tmp_path / "d" / ".." / "elsewhere", "/etc"):
        with pytest.raises(E.ParameterError, match=r"results folder .* outside the folders this server allows \(UGRN_ALLOWED_ROOTS"):
            config.check_allowed_path(outside, "results folder")


def test_no_user_pickle_is_ever_loaded():
    """Every torch.load uses weights_only=True, no np.load allows pickles, and nothing calls pickle/joblib."""
    for f in (REPO / "ugrn_core").rglob("*.py"):
        text = f.read_text()
        for line in text.splitlines():
            if "torch.load(" in line:
                assert "weights_only=True" in line, f"{f}: {line.strip()}"
            assert "allow_pickle=True" not in line, f"{f}: {line.strip()}"
            assert "pickle.load" not in line and "joblib.load" not in line, f"{f}: {line.strip()}"
    for f in list((REPO / "ugrn_app").rglob("*.py")) + list((REPO / "app_pages").rglob("*.py")) + [REPO / "app.py"]:
        text = f.read_text()
        assert "pickle" not in text and "torch.load" not in text and "np.load" not in text, f


# ----------------------------------------------------------------------------------------------- the CLI
def run_cli(capsys, argv: list[str]) -> tuple[int, str]:
    rc = cli.main(argv)
    err = capsys.readouterr().err
    return rc, err


def test_cli_bad_input_exit_2_one_message_no_output(capsys, tmp_path, tiny_checkpoint, tiny_translator):
    """Every class of bad input through `ugrn` in-process: exit 2, one 'error:' message naming the problem, no
    traceback, no output file."""
    g_bin, g_latin, g_one, g_unknown, g_ok = (tmp_path / n for n in ("bin.txt", "latin.txt", "one.txt", "unk.txt", "ok.txt"))
    g_bin.write_bytes(b"\x00\x01\x02\xff" * 20)
    g_latin.write_bytes(b"GATA1\nSP\xe91\n")
    g_one.write_text("GATA1\nNOTAGENE9\n")
    g_unknown.write_text("NOTAGENE1\nNOTAGENE2\n")
    g_ok.write_text("GATA1\nSPI1\nCEBPA\nKLF1\n")
    bad_ckpt = _copy_ckpt(tiny_checkpoint, tmp_path / "bad_ckpt")
    (bad_ckpt / "best_model.pt").write_bytes((bad_ckpt / "best_model.pt").read_bytes()[:500])
    out = tmp_path / "edges.tsv"
    pred = ["predict", "--checkpoint", str(tiny_checkpoint), "--translator", str(tiny_translator), "--species", "mouse",
            "--out", str(out)]
    cases = [
        (pred + ["--genes", str(tmp_path / "missing.txt")], r"missing\.txt"),
        (pred + ["--genes", str(g_bin)], r"bin\.txt.*binary"),
        (pred + ["--genes", str(g_latin)], r"latin\.txt.*not UTF-8"),
        (pred + ["--genes", str(g_one), "--method", "Emb"], r"only 1 of the 2 genes"),
        (pred + ["--genes", str(g_unknown), "--method", "Emb"], r"none of the 2 genes"),
        (pred + ["--genes", str(g_ok), "--method", "Foo"], r"method 'Foo'"),
        (pred + ["--genes", str(g_ok), "--device", "cuda:7"], r"device 'cuda:7'"),
        (pred + ["--genes", str(g_ok), "--out", str(tmp_path / "edges.xlsx")], r"edges\.xlsx.*expected a \.tsv, \.csv, \.graphml"),
        (["predict", "--checkpoint", str(bad_ckpt), "--genes", str(g_ok), "--out", str(out)], r"best_model\.pt.*cannot be read"),
        (["predict", "--checkpoint", str(tmp_path / "nockpt"), "--genes", str(g_ok), "--out", str(out)], r"nockpt' not found"),
        (["predict", "--dataset", "STRING/mHSC-L/500", "--checkpoint", str(tiny_checkpoint), "--out", str(out)],
         r"trained with checkpoint"),
        (["predict", "--dataset", "STRING/mXYZ/500", "--out", str(out)], r"Unknown cell type 'mXYZ'"),
        (["train", "--dataset", "STRING/mHSC-L/500", "--checkpoint", str(tiny_checkpoint), "--v0", "70",
          "--out", str(tmp_path / "tr")], r"v0: 70 outside"),
        (["train", "--dataset", "STRING/mHSC-L/500", "--checkpoint", str(tiny_checkpoint), "--target-values", "0,x",
          "--out", str(tmp_path / "tr")], r"--target-values '0,x'"),
        (["benchmark", "--checkpoint", str(tiny_checkpoint), "--train", "STRING/mHSC-L/500", "--test", "STRING/nope/500",
          "--out", str(tmp_path / "bench")], r"'STRING/nope/500' matches nothing"),
        (["benchmark", "--checkpoint", str(tiny_checkpoint), "--methods", "VVP,Bogus", "--out", str(tmp_path / "bench")],
         r"unknown method 'Bogus'"),
    ]
    failures = []
    for argv, match in cases:
        rc, err = run_cli(capsys, argv)
        import re

        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        ok = (rc == 2 and lines and lines[-1].startswith(f"ugrn {argv[0]}: error:") and re.search(match, lines[-1])
              and "Traceback" not in err)
        if not ok:
            failures.append((argv[:2], match, rc, err[-500:]))
    assert not failures, failures
    assert not out.exists() and not (tmp_path / "edges.xlsx").exists()
    assert not (tmp_path / "tr").exists() and not (tmp_path / "bench").exists()
    assert not [p for p in tmp_path.rglob(".*") if p.name.endswith(".tmp") or p.is_dir()]


@pytest.mark.parametrize("argv, match", [
    (["predict", "--genes", "x.txt", "--out", "o.tsv", "--top", "-5"], r"argument --top: -5 is out of range"),
    (["benchmark", "--np-ratio", "0"], r"argument --np-ratio: 0 is out of range; expected a number > 0"),
    (["benchmark", "--np-ratio", "nan"], r"argument --np-ratio: nan is out of range"),
    (["train", "--out", "x", "--v0", "-3"], r"argument --v0: -3 is out of range"),
    (["benchmark", "--epochs", "zero"], r"argument --epochs: 'zero' is not an integer"),
])
def test_cli_usage_errors(capsys, argv, match):
    rc, err = run_cli(capsys, argv)
    assert rc == 2 and "Traceback" not in err
    import re

    assert re.search(match, err), err


def test_cli_predict_expression_with_a_text_cell(capsys, tmp_path, tiny_checkpoint, tiny_translator):
    """`ugrn predict --expression FILE` where one cell holds text: exit 2, one 'error:' line naming the file, the gene
    and the cell (and the text found), no traceback, no output file."""
    ds = api.load_beeline("STRING/mHSC-L/500")
    genes = ds.tfs[:3] + [g for g in ds.genes if g not in ds.tfs[:3]][:5]
    rows = [f"{g},{i % 3},{(i + 1) % 4},2" for i, g in enumerate(genes)]
    rows[2] = f"{genes[2]},1,high,2"  # the text cell: gene genes[2], cell c2
    expr = tmp_path / "expr.csv"
    expr.write_text(",c1,c2,c3\n" + "\n".join(rows) + "\n")
    out = tmp_path / "edges.tsv"
    rc, err = run_cli(capsys, ["predict", "--checkpoint", str(tiny_checkpoint), "--translator", str(tiny_translator),
                               "--species", "mouse", "--method", "Emb", "--expression", str(expr), "--out", str(out)])
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert rc == 2 and "Traceback" not in err, err
    assert lines[-1].startswith("ugrn predict: error:"), err
    assert "expr.csv" in lines[-1] and f"gene {genes[2]!r}" in lines[-1] and "cell 'c2'" in lines[-1], lines[-1]
    assert "'high'" in lines[-1], lines[-1]
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # the same file with a number there is accepted and written (so the failure above is the text cell's)
    expr.write_text(expr.read_text().replace(",high,", ",3,"))
    rc, err = run_cli(capsys, ["predict", "--checkpoint", str(tiny_checkpoint), "--translator", str(tiny_translator),
                               "--species", "mouse", "--method", "Emb", "--expression", str(expr), "--out", str(out)])
    assert rc == 0 and out.exists(), err


def test_cli_subprocess_bad_input_and_formats(tmp_path, tiny_checkpoint, tiny_translator):
    """Real processes: a binary gene list or an unknown --format exits 2 with one line on stderr and no output; good
    input writes .csv, .graphml and (--format beeline) BEELINE's rankedEdges.csv that read back."""
    env = dict(os.environ, UGRN_CACHE_DIR=str(tmp_path / "cache"), OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    base = [sys.executable, "-m", "ugrn_core.cli", "predict", "--checkpoint", str(tiny_checkpoint), "--translator",
            str(tiny_translator), "--species", "mouse"]
    (tmp_path / "bin.txt").write_bytes(bytes(range(256)))
    r = subprocess.run(base + ["--genes", str(tmp_path / "bin.txt"), "--out", str(tmp_path / "e.csv")], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("ugrn predict: error:") and "bin.txt" in r.stderr
    assert not (tmp_path / "e.csv").exists()
    r = subprocess.run(base + ["--genes", str(tmp_path / "bin.txt"), "--format", "xlsx", "--out", str(tmp_path / "e.x")],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "format 'xlsx': expected one of tsv, csv, decoupler" in r.stderr, r.stderr

    ds = api.load_beeline("STRING/mHSC-L/500")
    (tmp_path / "g.txt").write_text("\n".join(ds.tfs[:5] + ds.genes[:30]))
    for name, fmt in (("e.csv", None), ("e.graphml", None), ("rankedEdges.csv", "BEELINE")):
        out = tmp_path / name
        r = subprocess.run(base + ["--genes", str(tmp_path / "g.txt"), "--method", "Emb", "--top", "20", "--out", str(out)]
                           + (["--format", fmt] if fmt else []), cwd=REPO, env=env, capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr
        if fmt:  # BEELINE's rankedEdges.csv: tab-separated despite its name, as BLEval reads it
            t = pd.read_csv(out, sep="\t")
            assert list(t.columns) == ["Gene1", "Gene2", "EdgeWeight"] and len(t) == 20
            assert t["EdgeWeight"].is_monotonic_decreasing and set(t["Gene1"]) <= set(ds.tfs[:5])
        elif name.endswith(".csv"):
            t = pd.read_csv(out)
            assert list(t.columns) == ["source", "target", "weight", "score", "rank"] and len(t) == 20
            assert t["score"].is_monotonic_decreasing and set(t["source"]) <= set(ds.tfs[:5])
            assert list(t["rank"]) == list(range(1, 21)) and (t["weight"] == t["score"]).all()
        else:
            import networkx as nx

            g = nx.read_graphml(out)
            assert g.number_of_edges() == 20 and all("score" in d for *_, d in g.edges(data=True))
            assert {n for n, d in g.nodes(data=True) if d["is_tf"]} <= set(ds.tfs[:5])
