"""``ugrn grn``: one network per cell group of an AnnData file, as TSV files (a thin layer over ``tl.grn``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_grn_parser(sub, common, method_help) -> None:
    """Add the ``grn`` subcommand to the ``ugrn`` parser's subparsers ``sub``."""
    from ..predict import DEFAULT_METHOD

    p = sub.add_parser(
        "grn", help="networks per cell group of an AnnData (.h5ad, .loom, 10x folder or .h5): one TSV per group + "
                    "summary.tsv",
        description="One regulatory network per category of an .obs column plus one for all cells (ugrn_core.tl.grn). "
                    "Methods that read expression (|Pearson|, GRNBoost2, Origin-Pert, ...) use each group's cells; "
                    "the others (Ens, VVP, GDT, Emb) give one network shared by all groups, written once.")
    common(p)
    p.add_argument("--h5ad", required=True, metavar="FILE",
                   help="cells × genes: .h5ad, .loom, a 10x .h5, or a 10x folder (matrix.mtx, barcodes, features)")
    p.add_argument("--groupby", default=None, metavar="COLUMN", help="an .obs column; one network per category "
                                                                      "(default: all cells only)")
    m = p.add_mutually_exclusive_group()
    m.add_argument("--use-raw", action="store_true", help="use .raw.X (e.g. log values kept before sc.pp.scale)")
    m.add_argument("--layer", default=None, metavar="NAME", help="use .layers[NAME] instead of X")
    p.add_argument("--method", default=DEFAULT_METHOD, help=method_help("method to rank edges by"))
    p.add_argument("--genes", default=None, metavar="FILE",
                   help="gene list file (default: the --n-top-genes highly variable genes)")
    p.add_argument("--n-top-genes", type=int, default=500, help="highly variable genes to use without --genes "
                                                                "(capped by the checkpoint's context; default 500)")
    p.add_argument("--min-cells", type=float, default=10,
                   help="drop from a group's network the genes expressed in fewer of its cells (a value below 1 is a "
                        "fraction of the group's cells; default 10)")
    p.add_argument("--tfs", default=None, metavar="FILE", help="TF list file (default: BEELINE's TF list ∩ genes)")
    p.add_argument("--edges", default=None, metavar="FILE", help="known edges (TF,target) to label the output")
    p.add_argument("--species", choices=["human", "mouse"], default=None, help="default: guessed from the symbols")
    p.add_argument("--translator", default=None, help="translator folder (default: the bundled one)")
    p.add_argument("--background", default="auto", help="context genes for short gene lists (as in ugrn predict)")
    p.add_argument("--backed", action="store_true", help=".h5ad only: read X from disk in row chunks")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: <group>.tsv per network (source, target, weight, score, rank[, label]), "
                        "summary.tsv, compare_<A>__<B>.tsv/.json with --compare, cells.h5ad with --write-h5ad "
                        "(replaced whole if it exists)")
    p.add_argument("--write-h5ad", nargs="?", const="", default=None, metavar="PATH",
                   help="also write the AnnData with the networks in .uns['ugrn'] (tl.grn's layout) to PATH; without "
                        "PATH: cells.h5ad in the --out folder")
    c = p.add_argument_group("compare two groups (tl.compare; expression-reading methods)")
    c.add_argument("--compare", action="append", default=[], metavar="A,B",
                   help="two groups of --groupby, comma-separated: writes compare_<A>__<B>.tsv (edges gained, lost, "
                        "sign-flipped, with p against random halves) and .json (summary); repeatable")
    c.add_argument("--n-null", type=int, default=5, help="random half splits per group for --compare (default 5)")
    c.add_argument("--seed", type=int, default=0, help="seed of the half splits (default 0)")
    c.add_argument("--compare-top", type=int, default=None, metavar="N",
                   help="edges per network compared (default: as many as genes)")
    p.set_defaults(func=cmd_grn)


def split_pair(text: str, groups) -> tuple[str, str]:
    """``"A,B"`` → (A, B), choosing the comma that leaves two known ``groups`` when names hold commas.

    Raises: ParameterError naming the groups there are when no split gives two of them."""
    from ..errors import ParameterError, first_items

    known = {str(g) for g in groups}
    cuts = [i for i, ch in enumerate(text) if ch == ","]
    for i in cuts:
        a, b = text[:i].strip(), text[i + 1:].strip()
        if a in known and b in known:
            return a, b
    raise ParameterError(f"--compare {text!r}: expected two groups of --groupby separated by a comma; groups: "
                         f"{first_items(sorted(known), 20)}.")


def file_stem(network_key: str) -> str:
    """A network's file name stem: its key with spaces as underscores ("all cells" → "all_cells")."""
    return network_key.replace(" ", "_")


def cmd_grn(args) -> int:
    import pandas as pd

    from .. import api
    from ..tl import _grn as tl  # grn, compare (tl._grn: the import-level limit)
    from .._io import atomic_folder, atomic_write, check_writable_output
    from .options import TqdmProgress

    check_writable_output(args.out, "folder", "--out")  # before any work
    h5ad_out = None
    if args.write_h5ad is not None:
        h5ad_out = Path(args.write_h5ad) if args.write_h5ad else None  # None: cells.h5ad inside the --out folder
        if h5ad_out is not None:
            check_writable_output(h5ad_out, "file", "--write-h5ad")
    adata = api.read_cells(args.h5ad, backed=args.backed)
    genes = api.read_gene_list(args.genes) if args.genes else None
    tfs = api.read_gene_list(args.tfs) if args.tfs else None
    reference = api.read_edge_list(args.edges) if args.edges else None
    min_cells = args.min_cells if 0 < args.min_cells < 1 else int(args.min_cells)
    result = tl.grn(adata, genes=genes, groupby=args.groupby, method=args.method, use_raw=args.use_raw or None,
                    layer=args.layer, checkpoint=args.checkpoint, translator=args.translator, min_cells=min_cells,
                    n_top_genes=args.n_top_genes, tfs=tfs, species=args.species, reference=reference,
                    background=args.background, device=args.device, data_dir=args.data_dir, inplace=False,
                    progress=TqdmProgress())
    summary = result["summary"].copy()
    summary["file"] = [f"{file_stem(k)}.tsv" if k in result["networks"] else "" for k in summary["network"]]
    comparisons = []
    if args.compare:
        if adata.isbacked:
            adata = adata.to_memory()
        adata.uns[tl.DEFAULT_KEY] = result
        for text in args.compare:
            a, b = split_pair(text, summary["group"])
            table, info = tl.compare(adata, a, b, n_null=args.n_null, seed=args.seed, top=args.compare_top,
                                     checkpoint=args.checkpoint, translator=args.translator)
            comparisons.append((f"compare_{file_stem(tl.network_key(a))}__{file_stem(tl.network_key(b))}", table, info))
    with atomic_folder(args.out) as tmp:
        for key, table in result["networks"].items():
            table.to_csv(Path(tmp) / f"{file_stem(key)}.tsv", sep="\t", index=False)
        summary.to_csv(Path(tmp) / "summary.tsv", sep="\t", index=False)
        for stem, table, info in comparisons:
            table.to_csv(Path(tmp) / f"{stem}.tsv", sep="\t", index=False)
            (Path(tmp) / f"{stem}.json").write_text(json.dumps(info, indent=1, default=_plain) + "\n")
        if args.write_h5ad is not None:
            annotated = _annotated(adata, result)
            if h5ad_out is None:
                annotated.write_h5ad(Path(tmp) / "cells.h5ad")
            else:
                atomic_write(h5ad_out, annotated.write_h5ad)
    p = result["params"]
    shown = summary[["group", "n_cells", "n_genes", "n_edges", "method", "expression_dependent", "file", "note"]]
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(shown.to_string(index=False))
    print(f"wrote {len(result['networks'])} network file(s) and summary.tsv to {args.out} ({p['method']}; matrix "
          f"{p['matrix']}; normalised: {p['normalised']}"
          + ("; one network shared by all groups: the method reads no expression" if p["shared_network"] else "")
          + ")", file=sys.stderr)
    for stem, _, info in comparisons:
        line = (f"{info['group_a']} vs {info['group_b']}: " + (info["note"] if info["identical_by_construction"] else
                f"gained {info['n_gained']}, lost {info['n_lost']}, flipped {info['n_flipped']}, kept {info['n_kept']} "
                f"of top {info['top']}; beyond the null {info['n_beyond_null']}; Spearman {info['spearman']:.3f}, "
                f"top-k overlap {info['topk_overlap']:.3f}; halves of a vs b: "
                f"{info.get('halves_spearman_mean', float('nan')):.3f}, "
                f"{info.get('halves_topk_overlap_mean', float('nan')):.3f}; halves of one group (null): "
                f"{info.get('null_spearman_mean', float('nan')):.3f}, "
                f"{info.get('null_topk_overlap_mean', float('nan')):.3f}"))
        print(f"{line} -> {stem}.tsv", file=sys.stderr)
    if args.write_h5ad is not None:
        print(f"wrote the AnnData with .uns[{tl.DEFAULT_KEY!r}] to {h5ad_out or Path(args.out) / 'cells.h5ad'}",
              file=sys.stderr)
    return 0


def _plain(v):
    """JSON for numpy scalars and arrays."""
    import numpy as np

    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def _annotated(adata, result):
    """The AnnData to write: in memory (a backed one is read in), with ``uns["ugrn"]`` = ``result``."""
    from ..tl import _store

    out = adata.to_memory() if adata.isbacked else adata
    out.uns[_store.DEFAULT_KEY] = result
    return out
