"""The README's (and the model card's) generated result blocks are current, and the figures they carry agree with the
bundled tables the benchmark wrote (issue 24). Fast: pandas on the bundled rows, no model."""

from __future__ import annotations

import pandas as pd
import pytest

from ugrn_core.bench import readme_figures as rf
from ugrn_core.config import ASSETS_DIR

pytestmark = pytest.mark.skipif(not rf.README.is_file(), reason="needs a source checkout (README.md)")


@pytest.fixture(scope="module")
def figures():
    return rf.Figures()


@pytest.fixture(scope="module")
def blocks(figures):
    return figures.blocks()


@pytest.mark.parametrize("path, names", [
    (rf.README, {"results-table1", "results-six-tables", "results-findings", "results-paper", "results-rise"}),
    (rf.MODEL_CARD, {"card-findings"}),
])
def test_generated_blocks_are_current(blocks, path, names):
    shown = rf.shown_blocks(path.read_text())
    assert set(shown) == names
    for name in names:
        assert shown[name] == blocks[name], (
            f"{path.name}: block '{name}' is stale; run `make readme` (python -m ugrn_core.bench.readme_figures)")


def test_rewrite_replaces_stale_numbers_and_refuses_unknown_blocks(blocks):
    text = rf.README.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| uniform (paper) | "))
    stale = text.replace(row, "| uniform (paper) | 0.999 |" + row.split("|", 3)[3], 1)
    assert stale != text
    assert rf.rewrite(stale, blocks) == rf.rewrite(text, blocks) == text
    with pytest.raises(ValueError, match="unknown generated block 'nope'"):
        rf.rewrite("a\n<!-- generated: nope -->\nx\n<!-- end generated -->\n", blocks)
    with pytest.raises(ValueError, match="'results-paper' has no"):
        rf.rewrite("<!-- generated: results-paper -->\nx\n", blocks)


def _cell(table_csv, row, method) -> str:
    t = pd.read_csv(table_csv, index_col=0)
    return str(t.at[row, method])


def test_averages_equal_the_bundled_tables(figures):
    """Independent route: the benchmark's own results tables (tables.main_table → tables/AUPRC_*.csv)."""
    t1 = ASSETS_DIR / "benchmark_default" / "tables" / "AUPRC_uniform_negatives.csv"
    for m in ("Origin-Pert", "Emb", "VVP", "GDT", "Ens", "Degree prior", "|Pearson|", "Ens (twin)"):
        assert rf.f3(figures.all["table1"].avg(m)) == _cell(t1, "Avg (16 common datasets)", m)
    t2 = ASSETS_DIR / "benchmark_tables" / "table2" / "tables" / "AUPRC_uniform_negatives.csv"
    for m in ("Origin-Pert", "Emb", "Ens", "Degree prior", "RegDiffusion"):
        assert f"{rf.f3(figures.all['table2'].avg(m))} (n=22)" == _cell(t2, "Avg over own datasets (n)", m)
    u2 = ASSETS_DIR / "benchmark_tables" / "table2" / "tables" / "AUPRC_unseen_genes_uniform_negatives.csv"
    assert f"{rf.f3(figures.unseen['table2'].avg('Ens'))} (n=22)" == _cell(u2, "Avg over own datasets (n)", "Ens")


def test_seed_sd_maxima_are_the_bundled_tables_largest(figures):
    value, method, label = rf.seed_sd_max(figures.rows["table2"], "table2", rf.SHOWN)
    t2 = ASSETS_DIR / "benchmark_tables" / "table2" / "tables" / "AUPRC_uniform_negatives.csv"
    assert _cell(t2, label, method).endswith(f"± {rf.f3(value)}")
    sds = pd.read_csv(t2, index_col=0)[list(rf.SHOWN)].stack().str.extract(r"± ([0-9.]+)")[0].astype(float)
    assert rf.f3(sds.max()) == rf.f3(value) and value > 0


def test_degree_prior_is_the_chance_level_on_unseen_genes(figures):
    """What the README says of the unseen-gene view: the degree prior's AUPRC is the positive rate there."""
    for p in ("table1", "table2", "table3", "table4", "table6"):
        assert abs(figures.unseen[p].avg("Degree prior") - figures.pos_rate(p)) < 1e-3, p


def test_paper_block_labels_both_columns(blocks):
    paper = pd.read_csv(ASSETS_DIR / "paper" / "table1_auprc.csv")
    for backbone, label in (("scGPT", "| scGPT (scGPT_human) |"), ("scBenchmark", "| scBenchmark |")):
        means = paper[paper["backbone"] == backbone].groupby("method")["AUPRC"].mean()
        line = next(l for l in blocks["results-paper"].splitlines() if l.startswith(label))
        assert rf.f3(means["Ens"]) in line and rf.f3(means["Emb"]) in line


def test_readme_cast_comes_from_the_registry():
    """The README's columns and the methods its sentences speak about are the registry's roles: a method declaring
    role "summary column" joins the columns, and no role resolves to a name the registry lacks."""
    from ugrn_core import methods
    from ugrn_core.bench.readme_cast import Cast
    from ugrn_core.methods import Family, MethodSpec

    cast = Cast.from_registry()
    known = set(methods.names())
    assert {cast.ens, cast.emb, cast.prior, cast.peer, cast.deep_peer, cast.knockout, cast.attention} <= known
    assert cast.members == methods.get(cast.ens).members and cast.ens == methods.default_rank()
    extra = MethodSpec(name="Readme-X", family=Family.ZERO_SHOT_PROBE, description="example", reference="test",
                       score=lambda ctx, pairs: pairs["tf"].map(len).to_numpy(float), order=15, paper_table=True,
                       roles=("summary column",))
    methods.register(extra)
    try:
        assert Cast.from_registry().models[:2] == (cast.models[0], "Readme-X")
    finally:
        methods.unregister("Readme-X")
    assert Cast.from_registry() == cast
