"""The ``ugrn`` command: pretrain, probe, train, benchmark and predict from the shell.

A thin layer over ``ugrn_core.api``: argument parsing (here), what each command does (``commands``), the benchmark
presets and report (``suite``), shared option types (``options``); progress bars (tqdm) and file output only.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import warnings
from pathlib import Path

from tqdm.auto import tqdm

from ..errors import Interrupted, UGRNInputError
from . import suite as cli_suite
from .commands import (cmd_benchmark, cmd_datasets, cmd_doctor, cmd_make_checkpoint, cmd_predict, cmd_pretrain,
                       cmd_probe, cmd_train, _check_cache, _common, _method_help, _probe_args, _probe_names, _probes_of)
from .options import TqdmProgress, _number, _train_option_args

__all__ = ["EXIT_CODES", "build_parser", "format_warning", "main"]


def _cmd_benchmark(args) -> int:
    """``ugrn benchmark``: a preset (``suite.run_presets``) or one run / a within-dataset protocol
    (``commands.cmd_benchmark``)."""
    if args.protocol == "cross-dataset" and args.preset:
        from ..scfm.checkpoint import load_model

        _check_cache()
        return cli_suite.run_presets(args, load_model, TqdmProgress())
    return cmd_benchmark(args)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    from ..predict import DEFAULT_METHOD
    from ..translator.artifact import DEFAULT_METHODS as TRAIN_METHODS

    parser = argparse.ArgumentParser(prog="ugrn", description=__doc__.splitlines()[0], epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ugrn {__version__} ({Path(__file__).parents[1]})")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("doctor", help="check the installation: versions, device, scgpt, data, checkpoint, translator, "
                                      "cache (exit 1 when a required check fails)")
    _common(p)
    p.add_argument("--translator", default=None,
                   help="translator folder (default: $UGRN_APP_TRANSLATOR, else the bundled one)")
    p.add_argument("--no-load", action="store_true", help="hash the checkpoint's files instead of loading it")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("pretrain", help="pretrain the compact scGPT on the real expression in the data directory (or on given .h5ad cells)")
    p.add_argument("--out", default="assets/scgpt_compact")
    p.add_argument("--steps", type=_number(int, 1), default=6000)
    p.add_argument("--seq-len", type=_number(int, 2), default=512)
    p.add_argument("--batch-size", type=_number(int, 1), default=16)
    p.add_argument("--seed", type=_number(int, 0), default=0)
    p.add_argument("--save-every", type=_number(int, 0), default=500,
                   help="steps between resumable training states (an interrupted run resumes from the last; 0 = never)")
    p.add_argument("--h5ad", action="append", default=None, metavar="FILE",
                   help="pretrain on this .h5ad (cells × genes; repeat for several) instead of the real corpus, e.g. "
                        "simulated cells (benchmarks/simulated_grn.py writes them)")
    p.add_argument("--species", choices=("human", "mouse"), default="human",
                   help="species of the --h5ad genes when the file's uns['species'] does not say")
    p.add_argument("--corpus", choices=("beeline", "broad"), default="beeline",
                   help="beeline: the original corpus (BEELINE expression, pbmc68k_reduced, HSMM); broad: every real "
                        "cell in the data directory, normalised per source and sampled balanced by cell type "
                        "(docs/corpus.md)")
    p.add_argument("--exclude-cells", default=None, metavar="NAMES",
                   help="comma-separated sources of the real corpus to leave out (hHEP,mDC,mESC,mHSC-GM,mHSC-L,"
                        "pbmc68k_reduced,HSMM; with --corpus broad also hESC and the source names of docs/corpus.md, "
                        "a BEELINE cell type dropping the files that share its cells), e.g. a model that never saw "
                        "the test cell types")
    p.add_argument("--embsize", type=_number(int, 1), default=64, help="model width (d_model)")
    p.add_argument("--nlayers", type=_number(int, 1), default=2, help="transformer layers")
    p.add_argument("--nheads", type=_number(int, 1), default=4, help="attention heads (must divide --embsize)")
    p.add_argument("--d-hid", type=_number(int, 1), default=128, help="feed-forward width")
    p.add_argument("--storage", choices=("fp32", "fp16"), default="fp32",
                   help="dtype of the written weights (fp16 halves best_model.pt; loaded back as fp32)")
    p.add_argument("--init-checkpoint", default=None, metavar="FOLDER",
                   help="continue from this checkpoint's weights (same corpus and architecture; a fresh optimiser and "
                        "schedule over --steps more steps)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--device", default=None)
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser("datasets", help="list the BEELINE datasets found in the data directory")
    p.add_argument("--data-dir", default=None)
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("probe", help="compute (and cache) probe arrays for datasets' gene sets")
    _common(p)
    _probe_args(p)
    p.add_argument("--datasets", default="STRING/*/500", help="names, globs or 'all' (comma-separated)")
    p.add_argument("--probes", default=",".join(_probes_of(TRAIN_METHODS)),
                   help="comma-separated probe arrays (any case) of: " + ", ".join(_probe_names()))
    cli_suite.add_scheduler_option(p, "probes run as tasks, one per gene set and probe,")
    p.set_defaults(func=cmd_probe)

    p = sub.add_parser("train", help="train translators on a labelled dataset and save them")
    _common(p)
    _probe_args(p)
    p.add_argument("--dataset", default="STRING/hESC/500")
    p.add_argument("--methods", default=",".join(TRAIN_METHODS), help=_method_help("comma-separated methods"))
    p.add_argument("--np-ratio", type=_number(float, 0, lo_open=True), default=1.0)
    p.add_argument("--seed", type=_number(int, 0), default=0)
    p.add_argument("--out", required=True)
    g = _train_option_args(p)
    g.add_argument("--epochs", type=_number(int, 1), default=None, help="maximum epochs (default 50)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("benchmark", help="train on one dataset, evaluate on others (UGRN paper Table 1 protocol)")
    _common(p)
    _probe_args(p)
    p.add_argument("--train", default="STRING/hESC/500")
    p.add_argument("--test", default="*/*/500", help="names, globs ('*/*/500') or 'all', comma-separated")
    p.add_argument("--methods", default=None,
                   help=_method_help("comma-separated methods (default: the UGRN paper's probe methods)"))
    p.add_argument("--pairs", choices=["balanced", "all"], default="balanced",
                   help="balanced: positives + N/P-sampled negatives (paper); all: every TF×gene pair (BEELINE)")
    p.add_argument("--np-ratio", type=_number(float, 0, lo_open=True), default=1.0, help="negatives per positive for --pairs balanced")
    p.add_argument("--tf-mode", choices=["file", "positive"], default="file",
                   help="TFs from TF.csv, or only TFs with at least one positive edge")
    p.add_argument("--epochs", type=_number(int, 1), default=50, help="maximum projector epochs")
    p.add_argument("--seed", type=_number(int, 0), default=0)
    p.add_argument("--out", default="results/benchmark_default")
    _train_option_args(p)
    p.add_argument("--save-translator", default=None, help="also save the trained projectors to this folder")
    cli_suite.add_benchmark_options(p)
    g = p.add_argument_group("within-dataset protocols (InfoSEM paper; --test = datasets with expression)")
    g.add_argument("--protocol", choices=["cross-dataset", "unseen-genes", "seen-genes"], default="cross-dataset",
                   help="cross-dataset: UGRN Table 1; unseen-genes / seen-genes: InfoSEM Sec. 4 splits within each "
                        "--test dataset, methods e.g. DeepSEM,InfoSEM-B,InfoSEM-BC,One-hot LR,MatComp,Random")
    g.add_argument("--candidates", choices=["known", "all"], default="known",
                   help="known: TFs and targets with known edges (paper Sec. 4.2); all: every TF.csv TF × every gene")
    g.add_argument("--prior", default="scgpt", help="InfoSEM gene-embedding prior: scgpt, text, biobert, random, onehot")
    g.add_argument("--sem-epochs", type=int, default=0, help="DeepSEM/InfoSEM epochs (0 = published preset 150/90)")
    g.add_argument("--sem-hidden", type=int, default=0, help="hidden units (0 = 128)")
    g.add_argument("--sigma-w", default="", help="σ_w grid, comma-separated (default 0.1,1,10,100)")
    g.add_argument("--sigma-l", default="", help="σ_l grid, comma-separated (default 0.1,0.316,1)")
    p.set_defaults(func=_cmd_benchmark)
    cli_suite.add_report_parser(sub, _common)

    p = sub.add_parser("predict", help="rank TF→target edges for a dataset or a gene list")
    _common(p)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", help="BEELINE dataset name, e.g. STRING/mDC/500")
    src.add_argument("--genes", help="gene list file (one symbol per line, or a CSV with a 'gene' column)")
    src.add_argument("--expression", help="expression matrix (genes × cells CSV/TSV, or cells × genes .h5ad): its genes "
                                          "form the gene set and methods that need expression can run")
    raw = p.add_mutually_exclusive_group()
    raw.add_argument("--use-raw", action="store_true",
                     help="with an .h5ad --expression: use .raw.X (e.g. log values kept before sc.pp.scale)")
    raw.add_argument("--layer", default=None, metavar="NAME",
                     help="with an .h5ad --expression: use .layers[NAME] instead of X")
    p.add_argument("--tfs", help="TF list file (default: the species' BEELINE TF list ∩ genes)")
    p.add_argument("--edges", help="known edges CSV/TSV (TF,target) to label the output")
    p.add_argument("--species", choices=["human", "mouse"], default="human")
    p.add_argument("--translator", default=None,
                   help="translator folder (default: $UGRN_APP_TRANSLATOR, else the bundled one trained on "
                        "STRING/hESC/500)")
    p.add_argument("--method", default=DEFAULT_METHOD,
                   help=_method_help("method to rank edges by (with --pair: one or more, comma-separated)"))
    p.add_argument("--pair", action="append", default=[], metavar="TF,TARGET",
                   help="score only this gene pair, both directions (repeatable), on the fast pair path: the model "
                        "rows the pair needs and context statistics exact where the model ships them (bundled model × "
                        "TFs+500 sets) or the set's probes are cached, else sampled once per gene set (seconds, not "
                        "the whole set's probes); prints a table, and writes it to --out when given")
    p.add_argument("--background", default="auto",
                   help="context genes for short gene lists (VVP/GDT/Ens): 'auto' (default: a list under half the "
                        "translator's training context is probed among its training genes, 818 for the bundled one; "
                        "see benchmarks/results/context_size.md), 'none' (the list alone: scores saturate for short "
                        "lists), 'translator' (always), a BEELINE dataset name (e.g. STRING/mESC/500) or a gene-list "
                        "file")
    p.add_argument("--top", type=_number(int, 0), default=0, help="keep only the top N edges (0 = all)")
    p.add_argument("--out", help="output file (required unless --pair); its suffix picks the format unless --format "
                                 "is given: .tsv, .csv, .graphml, .cyjs/.json (Cytoscape); with --pair .tsv or .csv")
    p.add_argument("--format", default=None,
                   help="network file format: tsv/csv (source, target, weight, score, rank, label), decoupler "
                        "(source, target, weight), pyscenic (TF, target, importance), beeline (rankedEdges.csv: "
                        "Gene1, Gene2, EdgeWeight), celloracle (JSON {target: [TFs]}), graphml, cytoscape (JSON)")
    p.set_defaults(func=cmd_predict)

    from . import grn as cli_grn

    cli_grn.add_grn_parser(sub, _common, _method_help)

    p = sub.add_parser("make-checkpoint", help="write a randomly initialised checkpoint in an official scGPT shape "
                                               "(stand-in for real weights in tests and timing)")
    p.add_argument("--like", choices=["scGPT_human", "compact"], default="scGPT_human")
    p.add_argument("--out", required=True)
    p.add_argument("--vocab", default=None, help="vocab.json (default: scgpt's census genes / the compact vocabulary)")
    p.add_argument("--n-genes", type=int, default=None, help="keep only the first N genes of the vocabulary")
    for flag in ("embsize", "nheads", "d-hid", "nlayers"):
        p.add_argument(f"--{flag}", type=int, default=None, help=f"override args.json {flag.replace('-', '_')}")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_make_checkpoint)
    return parser


@contextlib.contextmanager
def _signals_raise_interrupted():
    """While a command runs, SIGINT and SIGTERM raise ``errors.Interrupted`` (so atomic writers clean up and the
    probe cache keeps what was finished); the previous handlers come back afterwards. Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def format_warning(message, category=UserWarning) -> str:
    """One warning as one readable line for the terminal: "warning: <message>", whitespace runs (newlines too)
    collapsed, without Python's source file and code line; categories other than UserWarning and ugrn's own
    (e.g. a library's FutureWarning) are named at the end."""
    text = " ".join(str(message).split())
    plain = issubclass(category, UserWarning) and category.__module__.split(".")[0] in ("builtins", "ugrn_core")
    return f"warning: {text}" + ("" if plain else f" ({category.__name__})")


@contextlib.contextmanager
def _readable_warnings():
    """While a command runs, every warning that Python's filters let through is printed by :func:`format_warning`
    (above any progress bar, via ``tqdm.write``) instead of Python's file:line format; the previous
    ``warnings.showwarning`` comes back afterwards."""
    old = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        tqdm.write(format_warning(message, category), file=file or sys.stderr)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = old


def _close_progress_bars() -> None:
    """Close the progress bars an interruption left open, so stderr's last bar ends with its newline and the message
    that follows stands on a line of its own."""
    from tqdm import tqdm

    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()


EXIT_CODES = """\
exit codes:
  0        done
  1        ugrn doctor: a required check failed (elsewhere: an unexpected error, shown with its
           traceback; please report it)
  2        bad input or usage: one message on stderr naming the file, gene, parameter or
           output path and what was expected; no traceback, no output written
  130/143  interrupted by SIGINT (Ctrl-C) / SIGTERM: nothing half-written is kept, finished
           probes stay cached; rerun the same command to resume
warnings print as one line each, starting with "warning: "."""


def main(argv=None) -> int:
    """Run one ``ugrn`` command; returns its exit code (:data:`EXIT_CODES`, also in ``ugrn --help``): 0 done; 1 a
    required ``ugrn doctor`` check failed; 2 bad input or usage (one message on stderr, no traceback, no output file
    written); 130 / 143 interrupted by SIGINT / SIGTERM (finished probes stay cached, nothing half-written is kept;
    rerun to resume). Warnings print as one "warning: …" line each (:func:`format_warning`)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # usage error (argparse printed it, exit 2) or --help (0)
        return e.code if isinstance(e.code, int) else 2
    try:
        with _signals_raise_interrupted(), _readable_warnings():
            return args.func(args)
    except Interrupted as e:
        _close_progress_bars()
        print(f"ugrn {args.command}: {e}; nothing half-written was kept, finished probes stay cached: rerun the same "
              "command to resume", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        _close_progress_bars()
        print(f"ugrn {args.command}: interrupted by SIGINT; rerun the same command to resume", file=sys.stderr)
        return 130
    except UGRNInputError as e:  # the project's own errors: bad input named in one line
        print(f"ugrn {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, KeyError) as e:  # other modules' plain input errors (e.g. a preset name)
        print(f"ugrn {args.command}: error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    except ImportError as e:  # e.g. scgpt missing: scfm's message carries the exact install command
        print(f"ugrn {args.command}: error: {e}. Run `ugrn doctor` to check the installation.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
