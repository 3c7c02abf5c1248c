"""The broadened pretraining corpus, measured: writes docs/corpus.md.

Assembles the broad corpus (``ugrn_core.scfm.corpus.load_broad_corpus``, timed), then reports per source what was read and
how it was normalised, the vocabulary it implies (tokens, never-expressed tokens, BEELINE TF-list coverage, the ten
classic haematopoietic TFs), the checkpoint size at d_model 64 and 128 (fp32 and fp16 storage), the balanced
sampler's shares, and the pretraining wall times recorded in ``--timings`` (written by ``--time-steps``).

Usage (one thread, under the shared lock on a shared machine):
    python benchmarks/corpus_report.py --time-steps 200 --embsize 64   # appends to the timings JSON
    python benchmarks/corpus_report.py --time-steps 200 --embsize 128
    python benchmarks/corpus_report.py --write docs/corpus.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ugrn_core.scfm import corpus as C
from ugrn_core.scfm.pretrain import PretrainConfig, pretrain
from ugrn_core.scfm import SPECIAL_TOKENS, build_model

CLASSIC_TFS = ("GATA1", "TAL1", "KLF1", "GFI1", "SPI1", "CEBPA", "RUNX1", "FLI1", "MYB", "IKZF1")
TEST_CELLS = ("hHEP", "mDC", "mESC", "mHSC-GM", "mHSC-L")
BUDGET_MB = 25.0
TIMINGS = Path("benchmarks/results/corpus_timings.json")


def _arch(embsize: int) -> dict:
    """Architecture of a compact checkpoint of width ``embsize`` (feed-forward 2×, as the bundled width-128 one)."""
    return {"embsize": embsize, "nheads": 4, "d_hid": 2 * embsize, "nlayers": 2, "n_layers_cls": 3, "dropout": 0.0,
            "pad_token": "<pad>", "pad_value": -2, "mask_value": -1.0, "n_bins": 51, "input_style": "binned",
            "input_emb_style": "continuous", "max_seq_len": 1200, "MVC": False, "explicit_zero_prob": False,
            "fast_transformer": False, "pre_norm": False}


def n_params(n_tokens: int, embsize: int) -> int:
    vocab = {f"g{i}": i for i in range(n_tokens)}
    for t in SPECIAL_TOKENS:
        vocab[t] = len(vocab)
    return sum(p.numel() for p in build_model(vocab, _arch(embsize)).parameters())


def time_steps(steps: int, embsize: int, exclude=()) -> dict:
    """Wall time of ``steps`` pretraining steps on the broad corpus (corpus assembly timed apart and subtracted)."""
    t0 = time.time()
    C.load_broad_corpus(exclude=exclude)
    assembly = time.time() - t0
    cfg = PretrainConfig(steps=steps, embsize=embsize, d_hid=2 * embsize, warmup=min(200, steps), save_every=0)
    with tempfile.TemporaryDirectory() as tmp:
        s = pretrain(Path(tmp) / "m", cfg=cfg, device="cpu", progress=False, corpus="broad", exclude=exclude)
        size = (Path(tmp) / "m" / "best_model.pt").stat().st_size
    train = s["seconds"] - assembly
    return {"embsize": embsize, "d_hid": 2 * embsize, "steps": steps, "batch_size": cfg.batch_size,
            "seq_len": cfg.seq_len, "exclude": list(exclude), "vocab_size": s["vocab_size"],
            "corpus_assembly_s": round(assembly, 1), "total_s": s["seconds"], "training_s": round(train, 1),
            "s_per_step": round(train / steps, 3), "projected_6000_steps_min": round(train / steps * 6000 / 60, 1),
            "best_model_pt_mb": round(size / 1e6, 1), "first_loss": s["first_train_loss"],
            "last_loss": s["final_train_loss"], "threads": torch.get_num_threads(), "torch": torch.__version__,
            "cpu": platform.processor() or platform.machine()}


def _md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join("" if (isinstance(v, float) and np.isnan(v)) else str(v) for v in r) + " |")
    return "\n".join(lines)


def write_report(out: Path, timings: list[dict]) -> None:
    t0 = time.time()
    corpora = C.load_broad_corpus()
    assembly = time.time() - t0
    table = C.corpus_table(corpora)
    train = [np.arange(len(c.X)) for c in corpora]
    shares = C.sampling_shares(corpora, train).groupby("source", sort=False)[["share_of_cells", "share_sampled"]].sum()
    table["cells %"] = table["source"].map((100 * shares["share_of_cells"]).round(1))
    table["sampled %"] = table["source"].map((100 * shares["share_sampled"]).round(1))
    for col in ("cells", "genes", "tokens", "cell_types"):
        table[col] = table[col].map(lambda v: "" if pd.isna(v) else int(v))
    show = table[["source", "species", "study", "file", "values", "detected", "normalisation", "cells", "genes",
                  "tokens", "ensembl_ids", "cell_type_column", "cell_types", "overlaps", "cells %", "sampled %"]]

    tf_tokens = C.tf_list_tokens()
    counts = C.gene_counts(corpora, tf_tokens).set_index("token")
    n_tokens = len(counts) + len(SPECIAL_TOKENS)
    never = int((counts["cells_nonzero"] == 0).sum())
    lt10 = int((counts["cells_nonzero"] < 10).sum())
    expressed_or_tf = int(((counts["cells_nonzero"] > 0) | counts.index.isin(tf_tokens)).sum()) + len(SPECIAL_TOKENS)

    def coverage(species: str) -> str:
        from ugrn_core.scfm.corpus import _to_tokens
        from ugrn_core.scfm.vocab import load_orthologs

        tfs = pd.read_csv(C.resolve_data_dir() / C.TF_LIST_FILES[species])["TF"].astype(str).str.strip()
        toks = _to_tokens(list(tfs), species, load_orthologs())
        c = counts.reindex(toks)
        share = lambda mask: f"{float(np.mean(mask)):.1%}"  # noqa: E731
        return (f"| {species} ({len(toks)} TFs) | {share(c['cells_nonzero'].notna())} | {share(c['sources'].fillna(0) > 0)} "
                f"| {share(c['cells_nonzero'].fillna(0) > 0)} | {share(c['cells_nonzero'].fillna(0) >= 10)} |")

    classic = counts.reindex(list(CLASSIC_TFS))
    classic_rows = "\n".join(f"| {g} | {'yes' if g in counts.index else 'no'} | {int(r.cells_nonzero) if r.notna().all() else ''} "
                             f"| {int(r.sources) if r.notna().all() else ''} |" for g, r in classic.iterrows())

    size_rows = []
    for label, n in (("every measured gene + TF lists (the default)", n_tokens),
                     ("expressed in ≥ 1 cell + TF lists", expressed_or_tf), ("original corpus (bundled until 2026-12-07)", 22273)):
        for emb in (64, 128):
            p = n_params(n, emb)
            size_rows.append(f"| {label} | {n:,} | {emb} | {p / 1e6:.2f} M | {4 * p / 1e6:.1f} | {2 * p / 1e6:.1f} | "
                             f"{'fits' if 4 * p / 1e6 <= BUDGET_MB else ('fits in fp16' if 2 * p / 1e6 <= BUDGET_MB else 'over')} |")

    tim_rows = "\n".join(
        f"| {t['embsize']} | {t['d_hid']} | {','.join(t['exclude']) or '—'} | {t['steps']} | {t['corpus_assembly_s']} | "
        f"{t['training_s']} | {t['s_per_step']} | {t['projected_6000_steps_min']} | {t['best_model_pt_mb']} | "
        f"{t['first_loss']} → {t['last_loss']} |" for t in timings) or "| (none recorded) |"

    excl = ",".join(TEST_CELLS)
    text = f"""# The broadened pretraining corpus (issue 26)

Generated by `python benchmarks/corpus_report.py --write docs/corpus.md` (timings from
`{TIMINGS}`, written by `--time-steps`); code in `ugrn_core/scfm/corpus.py` (reader, normalisation, sampler,
`barely_seen`) and `ugrn_core/data/gene_ids.py` (Ensembl IDs → symbols). `ugrn pretrain --corpus broad` trains on it
(the bundled model since 2026-12-07, `assets/scgpt_compact/MODEL_CARD.md`); `--corpus beeline` (the default) keeps the
original corpus (BEELINE expression, pbmc68k_reduced, HSMM) of the models bundled before.

## Sources

{len(corpora)} sources, {sum(len(c.X) for c in corpora):,} cells (of which {sum(len(c.X) for c in corpora if c.name.startswith("legacy")):,} in the four TF-only
legacy matrices, which the sampler draws rarely); assembled in {assembly:.1f} s on one thread
(reading, Ensembl mapping, normalisation, binning to uint8: {sum(c.X.nbytes for c in corpora) / 1e6:.0f} MB in memory).

One scale: ln(1 + per-cell-normalised value). *values* is the type documented in `SOURCES.md`; *detected* is what
`corpus.detect_value_type` finds in the file (counts: all integers; log: max ≤ 25; linear: larger non-integers;
scaled: negatives) — the reader stops when the two disagree. Binning (`scfm.bin_values`) depends only on each
cell's order of non-zero values, which every per-cell monotone normalisation keeps; the normalisation decides what
counts as zero (`.raw` instead of z-scores) and puts every source on one value scale. *overlaps*: the BEELINE test
cell type whose cells or study the file shares; `--exclude-cells` with that cell type leaves the file out too (the
TSCAN BMDC set holds 74 of the BEELINE mDC cells, LPS_6h_S*, r = 0.94 on shared genes; legacy mES-PE is the mESC
study, Hayashi 2018; legacy hESC is 49 TFs of the hESC cells). *cells %* / *sampled %*: share of the corpus's cells
and of the cells the balanced sampler draws (source ∝ √cells × min(1, genes/512); cell types equal within a source).

{_md(show)}

PBMC-like sources (pbmc68k_reduced, pbmc4k, celltypist sample, MAIT): {100 * shares.loc[[k for k in ("pbmc68k_reduced", "pbmc4k", "celltypist sample", "MAIT") if k in shares.index], "share_of_cells"].sum():.1f} % of the cells,
{100 * shares.loc[[k for k in ("pbmc68k_reduced", "pbmc4k", "celltypist sample", "MAIT") if k in shares.index], "share_sampled"].sum():.1f} % of the draws.

Ensembl IDs: human IDs map through GENCODE v44 (`gene_annotation/GENCODEv44_Gene_id2name.csv.gz`, then Entrez
Gene's `ensembl_id` column); IDs GENCODE names only by the ID stay unmapped, and a file's own symbol column (HSMM
`gene_short_name`, CellBench `symbol`) names them where it can. Mouse Ensembl IDs (ENSMUSG) cannot be mapped: the
data directory has no mouse ID table (`ensembl105_human2mouse_genes.csv.gz` maps human symbols to mouse symbols,
which is how mouse genes become human tokens).

## Vocabulary

Every gene measured in the corpus (as a token: human symbol; mouse through its human ortholog, else the upper-cased
symbol) plus every gene of BEELINE's `human-tfs.csv` and `mouse-tfs.csv`: **{n_tokens:,} tokens** (with `<pad>`,
`<cls>`, `<eoc>`). {never:,} tokens have no cell with a non-zero value (measured only as zeros, or TF-list genes
never measured); {lt10:,} have fewer than 10. `ugrn pretrain --corpus broad` writes these counts to
`<checkpoint>/gene_counts.tsv` (`token, cells_nonzero, sources`); `corpus.barely_seen(fm, genes, min_cells=10)`
lists the genes of a list the model saw expressed in fewer cells.

BEELINE TF lists (share of the list's genes):

| list | token in vocabulary | measured in the corpus | expressed in ≥ 1 cell | in ≥ 10 cells |
|---|---|---|---|---|
{coverage("human")}
{coverage("mouse")}

The ten classic haematopoietic TFs of the issue:

| TF | in vocabulary | cells with a non-zero value | sources measuring it |
|---|---|---|---|
{classic_rows}

## Checkpoint size (budget {BUDGET_MB:.0f} MB)

Parameters of scgpt's `TransformerModel` (2 layers, 4 heads, feed-forward 2 × d_model, as the bundled model) for
each vocabulary; `best_model.pt` is about 4 bytes per parameter in fp32, 2 in fp16 (`ugrn pretrain --storage fp16`
or `scfm.convert_checkpoint(src, out)` store fp16; `load_checkpoint` reads either and computes in fp32. Measured
`best_model.pt` for 67,498 tokens: width 64 17.65 MB fp32 / 8.83 MB fp16, width 128 35.97 / 17.99 MB; whole fp16
folder with `vocab.json` 9.96 / 19.12 MB).

| vocabulary | tokens | d_model | parameters | fp32 MB | fp16 MB | ≤ {BUDGET_MB:.0f} MB |
|---|---|---|---|---|---|---|
{chr(10).join(size_rows)}

## Pretraining wall time (CPU, one thread, batch 16 × 512 genes)

| d_model | d_hid | excluded | steps | corpus assembly s | training s | s / step | 6,000 steps (min) | best_model.pt MB | loss first 50 → last 200 |
|---|---|---|---|---|---|---|---|---|---|
{tim_rows}

Training s = the run's wall time minus corpus assembly (it includes the held-out evaluation and writing).

## Commands for the corpus models (width 128; the bundled width-64 recipe is in the model card, "Rebuild")

Pretraining (one thread each; `--save-every 500` makes an interrupted run resume):

```
# broadened corpus, every cell (width 128: a candidate successor of the bundled width-64 model)
OMP_NUM_THREADS=1 ugrn pretrain --corpus broad --out runs/broad_all_w128 --steps 6000 --embsize 128 --d-hid 256
# broadened corpus without the BEELINE cell types (the five with expression, the files sharing their cells, and
# the 49-TF legacy hESC matrix: Table 2 also tests on hESC)
OMP_NUM_THREADS=1 ugrn pretrain --corpus broad --exclude-cells {excl},hESC --out runs/broad_notest_w128 --steps 6000 --embsize 128 --d-hid 256
# the corpus lever alone: the original corpus without the test cell types, same width and steps
OMP_NUM_THREADS=1 ugrn pretrain --exclude-cells {excl} --out runs/beeline_notest_w128 --steps 6000 --embsize 128 --d-hid 256
```

`hESC` in `--exclude-cells` (broad corpus only) leaves out the 49-TF legacy hESC matrix: BEELINE hESC has no
transcriptome here, so the original corpus never holds hESC cells, while the broad one holds 49 TFs of them unless
excluded. Each run above takes about the 6,000-step time of the table (width 128: about 45 min on one thread; width
64: about 20 min) plus 20 s of corpus assembly; `--embsize 64 --d-hid 128` gives the width-64 variants.

Tables 1 and 2 with twins and the degree prior, 5 seeds (the presets score every method on the checkpoint and on its
random-init twin, `controls.make_twin`, written under the cache or at `--twin-checkpoint`):

```
for m in broad_all_w128 broad_notest_w128 beeline_notest_w128; do
  OMP_NUM_THREADS=1 ugrn benchmark --preset table1 --checkpoint runs/$m --twin-checkpoint runs/${{m}}_twin --out results/$m
  OMP_NUM_THREADS=1 ugrn benchmark --preset table2 --checkpoint runs/$m --twin-checkpoint runs/${{m}}_twin --out results/$m
  ugrn report --results results/$m --checkpoint runs/$m
done
```

The whole grid of the issue (corpus old / broad × with / without the test cell types × Emb, VVP, GDT, Ens,
Origin-Pert, Tables 1 and 2, twins and degree prior, 5 seeds) runs resumably with
`python -m benchmarks.corpus_grid` (models at width 64 under `/work/models`; first results and wall times in
`benchmarks/results/corpus_models.md`).

Choose the bundled model on Table 2, report it on Table 1. A width-128 model on this vocabulary is over the
{BUDGET_MB:.0f} MB budget in fp32 (table above): bundle width 64, or store fp16, or use the "expressed in ≥ 1 cell"
vocabulary (then untrained TF-list tokens only).
"""
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, out)
    print(f"wrote {out} ({n_tokens} tokens, {never} never expressed, assembly {assembly:.1f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", type=Path, default=None, help="write the report here (e.g. docs/corpus.md)")
    ap.add_argument("--time-steps", type=int, default=0, help="time this many pretraining steps and record them")
    ap.add_argument("--embsize", type=int, default=64)
    ap.add_argument("--exclude-cells", default="", help="comma-separated sources to leave out while timing")
    ap.add_argument("--timings", type=Path, default=TIMINGS)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    timings = json.loads(args.timings.read_text()) if args.timings.is_file() else []
    if args.time_steps:
        exclude = tuple(x for x in args.exclude_cells.split(",") if x)
        t = time_steps(args.time_steps, args.embsize, exclude)
        print(json.dumps(t))
        timings = [x for x in timings if (x["embsize"], x["steps"], x["exclude"]) != (t["embsize"], t["steps"], list(exclude))]
        timings.append(t)
        args.timings.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.timings.with_name(args.timings.name + ".tmp")
        tmp.write_text(json.dumps(timings, indent=1))
        os.replace(tmp, args.timings)
    if args.write:
        write_report(args.write, timings)


if __name__ == "__main__":
    main()
