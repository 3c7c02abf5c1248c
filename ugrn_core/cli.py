"""The ``ugrn`` command: pretrain, probe, train, benchmark and predict from the shell.

A thin layer over ``ugrn_core.api``: argument parsing, progress bars (tqdm) and file output only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from tqdm.auto import tqdm

from ._io import check_writable_output
from .errors import Interrupted, ParameterError, UGRNInputError


class TqdmProgress:
    """``progress(done, total, message)`` callback that drives one tqdm bar per kind of work (message prefix)."""

    def __init__(self, disable: bool = False):
        self.bars: dict[str, tqdm] = {}
        self.disable = disable

    def __call__(self, done: int, total: int, message: str) -> None:
        kind = message.split(":")[0].split(" base value")[0]
        bar = self.bars.get(kind)
        if bar is None or bar.total != total or done < bar.n:
            if bar is not None:
                bar.close()
            bar = self.bars[kind] = tqdm(total=total, desc=kind, leave=False, disable=self.disable)
        bar.set_postfix_str(message[len(kind):].strip(": "), refresh=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
            self.bars.pop(kind, None)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default=None, help="data directory (default $UGRN_DATA_DIR or ../shared/data)")
    p.add_argument("--checkpoint", default=None, help="scGPT checkpoint folder (default: the bundled compact model)")
    p.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    p.add_argument("--precision", choices=["fp32", "tf32", "bf16", "fp16"], default=None,
                   help="model arithmetic: fp32 (default), tf32 (TensorFloat-32 matmuls, GPU) or bf16/fp16 autocast")


def _values(text: str, flag: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ParameterError(f"{flag} {text!r}: expected comma-separated numbers in 0..50, e.g. 0,10,50") from None


def _params(args):
    from .features import ProbeParams

    d = {}
    if getattr(args, "v0", None) is not None:
        d["v0"] = args.v0
    if getattr(args, "target_values", None):
        d["target_values"] = _values(args.target_values, "--target-values")
    if getattr(args, "base_values", None):
        d["base_values"] = _values(args.base_values, "--base-values")
    if getattr(args, "feature_norm", None):
        d["feature_norm"] = args.feature_norm
    return ProbeParams.from_dict(d)


def _train_option_args(p):
    """Add the projector-training flags (all but ``--epochs``) to parser ``p``; returns their argument group."""
    from .translator import DEFAULT_OPTIONS as d

    g = p.add_argument_group("projector training (unset = translator.DEFAULT_OPTIONS, recorded in meta.json; "
                             "--weight-decay 0 --dropout 0 --val-fraction 0 = the UGRN paper's training)")
    g.add_argument("--weight-decay", type=_number(float, 0), default=None,
                   help=f"Adam L2 weight decay (default {d.weight_decay:g})")
    g.add_argument("--dropout", type=_number(float, 0), default=None,
                   help=f"dropout after each hidden layer, [0, 1) (default {d.dropout:g})")
    g.add_argument("--val-fraction", type=_number(float, 0), default=None,
                   help=f"held-out fraction of training pairs for early stopping, 0 = none (default {d.val_fraction:g})")
    g.add_argument("--patience", type=_number(int, 1), default=None,
                   help=f"early-stopping patience in epochs (default {d.patience})")
    return g


def _train_options(args):
    """``translator.TrainOptions`` from ``ugrn train``'s / ``ugrn benchmark``'s flags (unset flags keep
    ``translator.DEFAULT_OPTIONS``). Raises ParameterError for values out of range."""
    from .translator import DEFAULT_OPTIONS, TrainOptions

    d = DEFAULT_OPTIONS.to_dict()
    for k in ("epochs", "weight_decay", "dropout", "val_fraction", "patience"):
        if getattr(args, k, None) is not None:
            d[k] = getattr(args, k)
    return TrainOptions.from_dict(d)


def _number(kind, lo, lo_open=False):
    """An argparse type: ``kind`` (int/float) that is finite and ≥ ``lo`` (> ``lo`` when ``lo_open``)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if value != value or value in (float("inf"), float("-inf")) or value < lo or (lo_open and value == lo):
            raise argparse.ArgumentTypeError(f"{text} is out of range; expected a number {'>' if lo_open else '≥'} {lo:g}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _probe_args(p):
    p.add_argument("--v0", type=_number(float, 0), default=None, help="VVP virtual base value (bin space 0..50; default 25)")
    p.add_argument("--target-values", default=None, help="comma-separated VVP target values (default 8 values over 0..50)")
    p.add_argument("--base-values", default=None, help="comma-separated GDT base values (default 8 values over 5..50)")
    from .features import FEATURE_NORMS, ProbeParams

    p.add_argument("--feature-norm", choices=FEATURE_NORMS, default=None,
                   help=f"normalise VVP/GDT/Pert probes within each context before the translator (default "
                        f"{ProbeParams.feature_norm}; see features.normalise_probe)")


def _probe_list(text: str) -> list[str]:
    """Probe names from a comma-separated string, matched case-insensitively against ``methods.probe_names()``."""
    from . import methods

    known = {p.lower(): p for p in methods.probe_names()}
    out = []
    for item in (t.strip() for t in text.split(",") if t.strip()):
        if item.lower() not in known:
            raise ParameterError(f"--probes: unknown probe {item!r}; known: {', '.join(known.values())}")
        out.append(known[item.lower()])
    return out


def _check_cache() -> None:
    """The probe cache folder ($UGRN_CACHE_DIR or the default) can be written: checked before any work, created by
    the first probe. Raises ParameterError naming it."""
    from .config import default_cache_dir

    path, origin = default_cache_dir()
    check_writable_output(path, "into", f"probe cache ({origin})")


def _announce(fm, datasets, probes, params, background=None) -> None:
    """Print the estimated time of the probes still to compute (a short calibration on this device), before the run."""
    from . import api

    seconds = api.estimate_probe_seconds(fm, datasets, probes, params, background=background)
    if seconds > 0:
        print(f"probes to compute ({','.join(probes)}): {api.format_seconds(seconds)} on this device "
              f"({fm.device.type}, {fm.precision})", file=sys.stderr, flush=True)


def cmd_pretrain(args) -> int:
    from .pretrain import PretrainConfig, corpora_from_anndata, pretrain

    check_writable_output(args.out, "folder", "--out")
    cfg = PretrainConfig(steps=args.steps, seed=args.seed, seq_len=args.seq_len, batch_size=args.batch_size,
                         save_every=args.save_every, embsize=args.embsize, nlayers=args.nlayers, nheads=args.nheads,
                         d_hid=args.d_hid)
    from .config import resolve_device

    corpora = None
    if args.h5ad:
        corpora = corpora_from_anndata(args.h5ad, species=args.species, n_bins=cfg.n_bins, data_dir=args.data_dir)
    exclude = [x for x in (args.exclude_cells or "").split(",") if x.strip()]
    command = " ".join(shlex.quote(str(a)) for a in [
        "ugrn", "pretrain", "--out", args.out, "--steps", args.steps, "--seq-len", args.seq_len, "--batch-size",
        args.batch_size, "--seed", args.seed, *[x for f in (args.h5ad or []) for x in ("--h5ad", f)],
        *(["--species", args.species] if args.h5ad else []), *(["--corpus", args.corpus] if args.corpus != "beeline" else []),
        *(["--exclude-cells", ",".join(exclude)] if exclude else []),
        *[x for k in ("embsize", "nlayers", "nheads", "d_hid") if getattr(args, k) != getattr(PretrainConfig, k)
          for x in (f"--{k.replace('_', '-')}", getattr(args, k))],
        *(["--init-checkpoint", args.init_checkpoint] if args.init_checkpoint else [])])
    summary = pretrain(args.out, data_dir=args.data_dir, cfg=cfg, device=resolve_device(args.device), corpora=corpora,
                       exclude=exclude, command=command, init_checkpoint=args.init_checkpoint, corpus=args.corpus)
    print(f"wrote {args.out}: vocabulary {summary['vocab_size']} tokens, final training loss {summary['final_train_loss']}, "
          f"{summary['seconds']} s")
    for s in summary["sources"]:
        print(f"  {s['source']}: held-out masked MSE {s['heldout_masked_mse']} vs gene-mean baseline {s['gene_mean_baseline_mse']}")
    return 0


def cmd_datasets(args) -> int:
    from . import api

    for name in api.list_datasets(args.data_dir):
        print(name)
    return 0


def cmd_probe(args) -> int:
    from . import api

    _check_cache()
    fm = api.load_model(args.checkpoint, args.device, args.precision)
    params = _params(args)
    names = api.resolve_datasets(args.datasets, args.data_dir)
    _announce(fm, [api.load_beeline(n, args.data_dir) for n in names], _probe_list(args.probes), params)
    seen, progress = set(), TqdmProgress()
    for name in names:
        p = api.probes(fm, api.load_beeline(name, args.data_dir), params)
        if tuple(p.tokens) in seen:
            continue
        seen.add(tuple(p.tokens))
        for probe in _probe_list(args.probes):
            if api.methods.probe_owner(probe).na_reason(p.dataset):
                continue
            t = time.perf_counter()
            cached = p.is_cached(probe)
            p.probe(probe, progress)
            print(f"{name}: {probe} over {len(p.tokens)} genes {'(cached)' if cached else f'{time.perf_counter() - t:.1f} s'}")
    return 0


def cmd_train(args) -> int:
    from . import api

    check_writable_output(args.out, "folder", "--out")
    _check_cache()
    fm = api.load_model(args.checkpoint, args.device, args.precision)
    translator = api.train_translator(fm, api.load_beeline(args.dataset, args.data_dir), api.methods.canonical(args.methods),
                                      _params(args), np_ratio=args.np_ratio, seed=args.seed, progress=TqdmProgress(),
                                      options=_train_options(args))
    translator.save(args.out)
    print(f"wrote translator {args.out}: methods {translator.methods}, trained on {translator.trained_on}")
    return 0


def cmd_benchmark_within(args) -> int:
    """``ugrn benchmark --protocol unseen-genes|seen-genes``: the InfoSEM within-dataset benchmark."""
    from . import api

    from .cli_suite import seed_list

    seeds = seed_list(args.seeds) or [args.seed]
    check_writable_output(args.out, "folder", "--out")
    _check_cache()
    fm = api.load_model(args.checkpoint, args.device) if args.prior == "scgpt" else None
    opts = api.sem_options(epochs=args.sem_epochs or None, hidden=args.sem_hidden or None, prior=args.prior,
                           sigma_w=args.sigma_w.split(",") if args.sigma_w else None,
                           sigma_l=args.sigma_l.split(",") if args.sigma_l else None, fm=fm)
    result = api.run_unseen_genes(args.test, args.methods.split(","), seeds=seeds, split=args.protocol, fm=fm,
                                  sem_options=opts, data_dir=args.data_dir, progress=TqdmProgress(),
                                  candidates=args.candidates)
    result.save(args.out)
    print(result.to_markdown())
    print(f"wrote {Path(args.out) / 'results.csv'}, summary.csv and results.md")
    return 0


def cmd_benchmark(args) -> int:
    from . import api, cli_suite

    if args.protocol != "cross-dataset":
        return cmd_benchmark_within(args)
    _check_cache()
    if args.preset:
        return cli_suite.run_presets(args, api.load_model, TqdmProgress())
    check_writable_output(args.out, "folder", "--out")
    if args.save_translator:
        check_writable_output(args.save_translator, "folder", "--save-translator")
    fm = api.load_model(args.checkpoint, args.device, args.precision)
    negatives = (args.negatives or "uniform").split(",")
    if len(negatives) != 1:
        raise ParameterError(f"--negatives {args.negatives!r}: a plain benchmark takes one mode (presets take several)")
    methods = api.methods.canonical(args.methods) if args.methods else None
    names = api.resolve_datasets(",".join([args.train, args.test]), args.data_dir)
    _announce(fm, [api.load_beeline(n, args.data_dir) for n in names],
              api.probes_for_methods(methods or api.default_methods()), _params(args))
    result = api.run_benchmark(fm, args.train, args.test, methods=methods, params=_params(args),
                               np_ratio=args.np_ratio, pair_mode=args.pairs, tf_mode=args.tf_mode, seed=args.seed,
                               epochs=args.epochs, data_dir=args.data_dir, progress=TqdmProgress(),
                               negatives=negatives[0], include_train_cell=args.include_train_cell,
                               options=_train_options(args))
    result.save(args.out)
    if args.save_translator and result.translator is not None:
        result.translator.save(args.save_translator)
    print(result.to_markdown())
    print(f"wrote {Path(args.out) / 'results.csv'} and results.md")
    return 0


def cmd_predict(args) -> int:
    from . import api
    from .export import edge_format

    fmt = edge_format(args.out, args.format)  # a bad output name, format or unwritable path fails before any work
    _check_cache()
    fm = api.load_model(args.checkpoint, args.device, args.precision)
    translator = api.load_translator(args.translator)
    if args.dataset:
        ds = api.load_beeline(args.dataset, args.data_dir)
    else:
        source = args.genes or args.expression
        ds = api.dataset_from_files(genes=args.genes, expression=args.expression, edges=args.edges, tfs=args.tfs,
                                    species=args.species, name=f"genes:{Path(source).name}", data_dir=args.data_dir)
        _note_barely_seen(fm, ds, args.data_dir)
    method = api.methods.get(args.method).name
    background = api.context_background(fm, ds, translator, [method], args.background, args.data_dir)
    if background is not None:
        p = api.probes(fm, ds, translator.params, background)
        print(f"context: {len(p.scored)} genes of the list + {len(p.tokens) - len(p.scored)} background genes from "
              f"{background.name} (only pairs among the list's genes are scored; --background none to disable)",
              file=sys.stderr, flush=True)
    _announce(fm, [ds], api.probes_for_methods([method]), translator.params, background)
    edges = api.predict_edges(fm, ds, translator, method=method, progress=TqdmProgress(), background=background)
    if args.top:
        edges = edges.head(args.top)
    api.write_edges(edges, args.out, fmt)
    print(f"wrote {len(edges)} ranked TF→target edges to {args.out} ({fmt})")
    return 0


def _note_barely_seen(fm, ds, data_dir, min_cells: int = 10) -> None:
    """Name on stderr the genes of ``ds`` the checkpoint saw expressed in fewer than ``min_cells`` pretraining cells
    (checkpoints with ``gene_counts.tsv``, from ``ugrn pretrain --corpus broad``; silent for others)."""
    from .corpus import GENE_COUNTS_FILE, barely_seen
    from .readers import first_items

    if fm.path is None or not (Path(fm.path) / GENE_COUNTS_FILE).is_file():
        return
    seen = barely_seen(fm, ds.genes, min_cells, ds.species, data_dir)
    if len(seen):
        print(f"{len(seen)} gene{'s' if len(seen) > 1 else ''} barely seen in pretraining (cells with a non-zero value < {min_cells}; their scores "
              f"rest on little data): {first_items([f'{g} ({n})' for g, n in zip(seen.gene, seen.cells_nonzero)], 20)}",
              file=sys.stderr, flush=True)


def cmd_doctor(args) -> int:
    import json

    from . import doctor

    show = None if args.json else (lambda c: print(doctor.format_check(c), flush=True))
    checks = doctor.run_checks(args.data_dir, args.checkpoint, args.translator, device=args.device,
                               load_model=not args.no_load, on_check=show)
    if args.json:
        print(json.dumps(doctor.as_dicts(checks), indent=2))
    else:
        print(doctor.format_report(checks).splitlines()[-1])
    return doctor.exit_code(checks)


def _method_help(what: str) -> str:
    from . import methods

    return f"{what} (any case); known: " + ", ".join(methods.names())


def _probes_of(names) -> list[str]:
    from . import methods

    return [methods.get(m).probe for m in names if methods.get(m).probe]


def _probe_names() -> list[str]:
    from . import methods

    return methods.probe_names()


def cmd_make_checkpoint(args) -> int:
    from .scfm import random_checkpoint

    check_writable_output(args.out, "folder", "--out")
    shape = {"embsize": args.embsize, "nheads": args.nheads, "d_hid": args.d_hid, "nlayers": args.nlayers}
    path = random_checkpoint(args.out, like=args.like, vocab=args.vocab, n_genes=args.n_genes, seed=args.seed, **shape)
    size = sum(f.stat().st_size for f in Path(path).iterdir()) / 2**20
    print(f"wrote random {args.like}-shaped checkpoint {path} ({size:.0f} MiB)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .predict import DEFAULT_METHOD
    from .translator import DEFAULT_METHODS as TRAIN_METHODS

    parser = argparse.ArgumentParser(prog="ugrn", description=__doc__.splitlines()[0], epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ugrn {__version__} ({Path(__file__).parent})")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("doctor", help="check the installation: versions, device, scgpt, data, checkpoint, translator, "
                                      "cache (exit 1 when a required check fails)")
    _common(p)
    p.add_argument("--translator", default=None, help="translator folder (default: the bundled one)")
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
    from . import cli_suite

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
    p.set_defaults(func=cmd_benchmark)
    cli_suite.add_report_parser(sub, _common)

    p = sub.add_parser("predict", help="rank TF→target edges for a dataset or a gene list")
    _common(p)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", help="BEELINE dataset name, e.g. STRING/mDC/500")
    src.add_argument("--genes", help="gene list file (one symbol per line, or a CSV with a 'gene' column)")
    src.add_argument("--expression", help="expression matrix (genes × cells CSV/TSV, or cells × genes .h5ad): its genes "
                                          "form the gene set and methods that need expression can run")
    p.add_argument("--tfs", help="TF list file (default: the species' BEELINE TF list ∩ genes)")
    p.add_argument("--edges", help="known edges CSV/TSV (TF,target) to label the output")
    p.add_argument("--species", choices=["human", "mouse"], default="human")
    p.add_argument("--translator", default=None, help="translator folder (default: bundled, trained on STRING/hESC/500)")
    p.add_argument("--method", default=DEFAULT_METHOD, help=_method_help("method to rank edges by"))
    p.add_argument("--background", default="auto",
                   help="context genes for short gene lists (VVP/GDT/Ens): 'auto' (default: a list under half the "
                        "translator's training context is probed among its training genes, 818 for the bundled one; "
                        "see benchmarks/results/context_size.md), 'none' (the list alone: scores saturate for short "
                        "lists), 'translator' (always), a BEELINE dataset name (e.g. STRING/mESC/500) or a gene-list "
                        "file")
    p.add_argument("--top", type=_number(int, 0), default=0, help="keep only the top N edges (0 = all)")
    p.add_argument("--out", required=True, help="output file; its suffix picks the format unless --format is given: "
                                                ".tsv, .csv, .graphml, .cyjs/.json (Cytoscape)")
    p.add_argument("--format", default=None,
                   help="network file format: tsv/csv (source, target, weight, score, rank, label), decoupler "
                        "(source, target, weight), pyscenic (TF, target, importance), beeline (rankedEdges.csv: "
                        "Gene1, Gene2, EdgeWeight), celloracle (JSON {target: [TFs]}), graphml, cytoscape (JSON)")
    p.set_defaults(func=cmd_predict)

    from . import cli_grn

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
