"""``ugrn grn``: one network per cell group of an AnnData file, as TSV files (a thin layer over ``tl.grn``)."""

from __future__ import annotations

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
                   help="output folder: <group>.tsv per network (source, target, weight, score, rank[, label]) and "
                        "summary.tsv (replaced whole if it exists)")
    p.set_defaults(func=cmd_grn)


def file_stem(network_key: str) -> str:
    """A network's file name stem: its key with spaces as underscores ("all cells" → "all_cells")."""
    return network_key.replace(" ", "_")


def cmd_grn(args) -> int:
    import pandas as pd

    from .. import api, tl
    from .._io import atomic_folder, check_writable_output
    from .options import TqdmProgress

    check_writable_output(args.out, "folder", "--out")  # before any work
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
    with atomic_folder(args.out) as tmp:
        for key, table in result["networks"].items():
            table.to_csv(Path(tmp) / f"{file_stem(key)}.tsv", sep="\t", index=False)
        summary.to_csv(Path(tmp) / "summary.tsv", sep="\t", index=False)
    p = result["params"]
    shown = summary[["group", "n_cells", "n_genes", "n_edges", "method", "expression_dependent", "file", "note"]]
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(shown.to_string(index=False))
    print(f"wrote {len(result['networks'])} network file(s) and summary.tsv to {args.out} ({p['method']}; matrix "
          f"{p['matrix']}; normalised: {p['normalised']}"
          + ("; one network shared by all groups: the method reads no expression" if p["shared_network"] else "")
          + ")", file=sys.stderr)
    return 0
