"""What each ``ugrn`` command does once its arguments are parsed (``cmd_*``), and the helpers they share."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

from .._io import atomic_write, check_writable_output
from ..errors import DataError, ParameterError
from .options import TqdmProgress, _number, _train_options


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default=None, help="data directory (default $UGRN_DATA_DIR or ../shared/data)")
    p.add_argument("--checkpoint", default=None,
                   help="scGPT checkpoint folder (default: $UGRN_APP_CHECKPOINT, else the bundled compact model)")
    p.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    p.add_argument("--precision", choices=["fp32", "tf32", "bf16", "fp16"], default=None,
                   help="model arithmetic: fp32 (default), tf32 (TensorFloat-32 matmuls, GPU) or bf16/fp16 autocast")


def _values(text: str, flag: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ParameterError(f"{flag} {text!r}: expected comma-separated numbers in 0..50, e.g. 0,10,50") from None


def _params(args):
    from .. import methods
    from ..probes.params import ProbeParams

    d = {}
    for option in methods.probe_options():  # each method's probe parameters (its file declares them)
        value = getattr(args, option.field, None)
        if option.many and value:
            d[option.field] = _values(value, option.flag)
        elif not option.many and value is not None:
            d[option.field] = value
    if getattr(args, "feature_norm", None):
        d["feature_norm"] = args.feature_norm
    return ProbeParams.from_dict(d)



def _probe_args(p):
    from .. import methods
    from ..probes.params import FEATURE_NORMS, ProbeParams

    for option in methods.probe_options():  # VVP's --v0 and --target-values, GDT's --base-values, …
        p.add_argument(option.flag, dest=option.field, default=None, help=option.help,
                       type=None if option.many else _number(float, 0))

    p.add_argument("--feature-norm", choices=FEATURE_NORMS, default=None,
                   help=f"normalise VVP/GDT/Pert probes within each context before the translator (default "
                        f"{ProbeParams.feature_norm}; see params.normalise_probe)")


def _probe_list(text: str) -> list[str]:
    """Probe names from a comma-separated string, matched case-insensitively against ``methods.probe_names()``."""
    from .. import methods

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
    from ..config import default_cache_dir

    path, origin = default_cache_dir()
    check_writable_output(path, "into", f"probe cache ({origin})")


def _announce(fm, datasets, probes, params, background=None) -> None:
    """Print the estimated time of the probes still to compute (a short calibration on this device), before the run."""
    from .. import api

    seconds = api.estimate_probe_seconds(fm, datasets, probes, params, background=background)
    if seconds > 0:
        print(f"probes to compute ({','.join(probes)}): {api.format_seconds(seconds)} on this device "
              f"({fm.device.type}, {fm.precision})", file=sys.stderr, flush=True)


def cmd_pretrain(args) -> int:
    from ..scfm.pretrain import PretrainConfig, corpora_from_anndata, pretrain

    check_writable_output(args.out, "folder", "--out")
    cfg = PretrainConfig(steps=args.steps, seed=args.seed, seq_len=args.seq_len, batch_size=args.batch_size,
                         save_every=args.save_every, embsize=args.embsize, nlayers=args.nlayers, nheads=args.nheads,
                         d_hid=args.d_hid)
    from ..config import resolve_device

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
        *(["--storage", args.storage] if args.storage != "fp32" else []),
        *(["--init-checkpoint", args.init_checkpoint] if args.init_checkpoint else [])])
    summary = pretrain(args.out, data_dir=args.data_dir, cfg=cfg, device=resolve_device(args.device), corpora=corpora,
                       exclude=exclude, command=command, init_checkpoint=args.init_checkpoint, corpus=args.corpus,
                       storage=args.storage)
    print(f"wrote {args.out}: vocabulary {summary['vocab_size']} tokens, final training loss {summary['final_train_loss']}, "
          f"{summary['seconds']} s")
    for s in summary["sources"]:
        print(f"  {s['source']}: held-out masked MSE {s['heldout_masked_mse']} vs gene-mean baseline {s['gene_mean_baseline_mse']}")
    return 0


def cmd_datasets(args) -> int:
    from .. import api

    for name in api.list_datasets(args.data_dir):
        print(name)
    return 0


def cmd_probe(args) -> int:
    from .. import api

    _check_cache()
    fm = api.load_model(args.checkpoint, args.device, args.precision)
    params = _params(args)
    names = api.resolve_datasets(args.datasets, args.data_dir)
    if args.scheduler:
        return _probe_on_cluster(args, fm, params, names)
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


def _probe_on_cluster(args, fm, params, names) -> int:
    """``ugrn probe --scheduler``: the missing probes as tasks of a Dask cluster, one line per probe as serially."""
    from ..bench.engine import Engine

    with Engine(args.scheduler, TqdmProgress(), args.device, args.precision) as engine:
        print(f"engine: {engine.describe()}", file=sys.stderr, flush=True)
        records = engine.run_probes(fm, names, _probe_list(args.probes), params, args.data_dir)
    for r in records:
        where = "(cached)" if not r["computed"] else f"{r['seconds']:.1f} s on {r['worker']}"
        print(f"{r['name']} over {r['n_genes']} genes {where}")
    return 0


def cmd_train(args) -> int:
    from .. import api

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
    from .. import api

    from .options import seed_list

    seeds = seed_list(args.seeds) or [args.seed]
    check_writable_output(args.out, "folder", "--out")
    _check_cache()
    fm = api.load_model(args.checkpoint, args.device, args.precision) if args.prior == "scgpt" else None
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
    """``ugrn benchmark`` without ``--preset``: one cross-dataset run, or a within-dataset protocol (presets:
    ``cli.suite.run_presets``, dispatched by the parser)."""
    from .. import api

    if args.protocol != "cross-dataset":
        if args.scheduler:
            raise ParameterError("--scheduler runs the cross-dataset benchmark and its presets; the within-dataset "
                                 "protocols (--protocol unseen-genes / seen-genes) run serially: leave it out")
        return cmd_benchmark_within(args)
    _check_cache()
    check_writable_output(args.out, "folder", "--out")
    if args.save_translator:
        check_writable_output(args.save_translator, "folder", "--save-translator")
    fm = api.load_model(args.checkpoint, args.device, args.precision)
    negatives = (args.negatives or "uniform").split(",")
    if len(negatives) != 1:
        raise ParameterError(f"--negatives {args.negatives!r}: a plain benchmark takes one mode (presets take several)")
    methods = api.methods.canonical(args.methods) if args.methods else None
    names = api.resolve_datasets(",".join([args.train, args.test]), args.data_dir)
    probes = api.probes_for_methods(methods or api.default_methods())
    if args.scheduler:  # the probes as tasks of the cluster; the benchmark below then reads them from the cache
        from ..bench.engine import Engine

        with Engine(args.scheduler, TqdmProgress(), args.device, args.precision) as engine:
            print(f"engine: {engine.describe()}", file=sys.stderr, flush=True)
            engine.run_probes(fm, names, probes, _params(args), args.data_dir)
    else:
        _announce(fm, [api.load_beeline(n, args.data_dir) for n in names], probes, _params(args))
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


def _predict_context(args):
    """(model, translator, dataset) of ``ugrn predict`` (the network and ``--pair``): ``--use-raw`` / ``--layer``
    checked against ``--expression`` first, then the checkpoint, the translator and the BEELINE dataset or the user's
    files. Raises ParameterError for ``--use-raw`` / ``--layer`` without an ``.h5ad`` expression file."""
    from .. import api

    if args.use_raw or args.layer is not None:
        flag = "--use-raw" if args.use_raw else f"--layer {args.layer}"
        if not args.expression or not str(args.expression).lower().endswith(".h5ad"):
            raise ParameterError(f"{flag} chooses the matrix of an AnnData: it needs --expression FILE.h5ad"
                                 + (f" (got --expression {args.expression})" if args.expression else "") + ".")
    _check_cache()
    fm = api.load_model(args.checkpoint, args.device, args.precision)
    translator = api.load_translator(args.translator)
    if args.dataset:
        return fm, translator, api.load_beeline(args.dataset, args.data_dir)
    source = args.genes or args.expression
    ds = api.dataset_from_files(genes=args.genes, expression=args.expression, edges=args.edges, tfs=args.tfs,
                                species=args.species, name=f"genes:{Path(source).name}", data_dir=args.data_dir,
                                use_raw=args.use_raw, layer=args.layer)
    return fm, translator, ds


def cmd_predict(args) -> int:
    from .. import api
    from ..export import edge_format

    if args.pair:
        return _predict_pairs(args)
    if not args.out:
        raise ParameterError("--out: missing; expected the output file of the ranked network (or --pair TF,TARGET "
                             "to score single pairs)")
    fmt = edge_format(args.out, args.format)  # a bad output name, format or unwritable path fails before any work
    fm, translator, ds = _predict_context(args)
    if not args.dataset:
        _note_barely_seen(fm, ds, args.data_dir)
    method = api.methods.get(args.method).name

    def announce(p):  # the context is resolved once (background included), before any probe is computed
        if p.background is not None:
            print(f"context: {len(p.scored)} genes of the list + {len(p.tokens) - len(p.scored)} background genes from "
                  f"{p.background.name} (only pairs among the list's genes are scored; --background none to disable)",
                  file=sys.stderr, flush=True)
        _announce(fm, [ds], api.probes_for_methods([method]), translator.params, p.background)

    net = api.network(fm, ds, translator, method, progress=TqdmProgress(), background=args.background,
                      data_dir=args.data_dir, on_context=announce).top(args.top)
    net.write(args.out, fmt)
    print(f"wrote {len(net.edges)} ranked TF→target edges to {args.out} ({fmt})")
    return 0


def _parse_pairs(values) -> list[tuple[str, str]]:
    out = []
    for v in values:
        parts = [x.strip() for x in str(v).split(",")]
        if len(parts) != 2 or not all(parts):
            raise ParameterError(f"--pair {v!r}: expected two gene symbols separated by a comma, e.g. --pair Gata1,Klf1")
        if parts[0] == parts[1]:
            raise ParameterError(f"--pair {v!r}: a gene paired with itself; expected two different genes")
        out.append((parts[0], parts[1]))
    return out


def _predict_pairs(args) -> int:
    """``ugrn predict --pair TF,TARGET``: both directions of each pair, every method asked for (``--method`` a
    comma-separated list), on the fast pair path (``api.predict_pairs``); a table on stdout and in ``--out``."""
    import pandas as pd

    from .. import api

    pairs = _parse_pairs(args.pair)
    names = [api.methods.get(m.strip()).name for m in str(args.method).split(",") if m.strip()]
    if args.out and Path(args.out).suffix.lower() not in (".tsv", ".csv", ".txt"):
        raise ParameterError(f"--out {args.out}: with --pair the output is a table; expected a .tsv or .csv file")
    if args.out:
        check_writable_output(args.out, "file")
    fm, translator, ds = _predict_context(args)
    upper = {g.upper(): g for g in ds.genes}  # symbols in any case (Gata1 / GATA1), the dataset's spelling kept
    pairs = [tuple(g if g in set(ds.genes) else upper.get(g.upper(), g) for g in p) for p in pairs]
    known = set(api.vocab_mapping(fm, ds).genes)
    bad = [g for g in dict.fromkeys(g for p in pairs for g in p) if g not in known]
    if bad:  # named before any model work
        why = [f"{g} ({'not in the checkpoint vocabulary' if g in set(ds.genes) else f'not a gene of {ds.name}'})"
               for g in bad]
        raise DataError(f"--pair: {', '.join(why)}; expected genes of {ds.name} that the model knows")
    table = pd.DataFrame([(a, b) for x, y in pairs for a, b in ((x, y), (y, x))], columns=["tf", "target"])
    todo, est = api.pair_probe_cost(fm, ds, translator, names, background=args.background)
    if todo:
        print(f"first pairs of {ds.name}: {' + '.join(todo)} context statistics sampled once and cached "
              f"({api.format_seconds(est)} on {fm.device.type})", file=sys.stderr, flush=True)
    out = api.predict_pairs(fm, ds, translator, table, methods=names, progress=TqdmProgress(),
                            background=args.background)
    sampled = [p for p, k in api.pair_statistics(fm, ds, translator, names, args.background).items() if k == "sampled"]
    if sampled:
        print(f"note: {' + '.join(sampled)} context statistics of {ds.name} are sampled from "
              f"{api.PairProbes.sample_lines} genes' probes: rankings kept, probabilities can differ from the whole "
              "network's by a few hundredths", file=sys.stderr)
    out.insert(2, "direction", ["forward", "reverse"] * len(pairs))
    if ds.has_ground_truth:
        known = set(zip(ds.edges["tf"], ds.edges["target"]))
        out["label"] = [int((a, b) in known) for a, b in zip(out["tf"], out["target"])]
    print(out.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.out:
        sep = "," if Path(args.out).suffix.lower() == ".csv" else "\t"
        atomic_write(args.out, lambda tmp: out.to_csv(tmp, sep=sep, index=False))
        print(f"wrote {len(out)} scored directions of {len(pairs)} pair{'s' * (len(pairs) > 1)} to {args.out}")
    return 0


def _note_barely_seen(fm, ds, data_dir, min_cells: int = 10) -> None:
    """Name on stderr the genes of ``ds`` the checkpoint saw expressed in fewer than ``min_cells`` pretraining cells
    (checkpoints with ``gene_counts.tsv``, from ``ugrn pretrain --corpus broad``; silent for others)."""
    from ..errors import first_items
    from ..scfm.corpus import GENE_COUNTS_FILE, barely_seen

    if fm.path is None or not (Path(fm.path) / GENE_COUNTS_FILE).is_file():
        return
    seen = barely_seen(fm, ds.genes, min_cells, ds.species, data_dir)
    if len(seen):
        print(f"{len(seen)} gene{'s' if len(seen) > 1 else ''} barely seen in pretraining (cells with a non-zero value "
              f"< {min_cells}; their scores rest on little data): "
              f"{first_items([f'{g} ({n})' for g, n in zip(seen.gene, seen.cells_nonzero)], 20)}",
              file=sys.stderr, flush=True)


def cmd_doctor(args) -> int:
    import json

    from .. import doctor

    show = None if args.json else (lambda c: print(doctor.format_check(c), flush=True))
    checks = doctor.run_checks(args.data_dir, args.checkpoint, args.translator, device=args.device,
                               load_model=not args.no_load, on_check=show)
    if args.json:
        print(json.dumps(doctor.as_dicts(checks), indent=2))
    else:
        print(doctor.format_report(checks).splitlines()[-1])
    return doctor.exit_code(checks)


def _method_help(what: str) -> str:
    from .. import methods

    return f"{what} (any case); known: " + ", ".join(methods.names())


def _probes_of(names) -> list[str]:
    from .. import methods

    return [methods.get(m).probe for m in names if methods.get(m).probe]


def _probe_names() -> list[str]:
    from .. import methods

    return methods.probe_names()


def cmd_make_checkpoint(args) -> int:
    from ..scfm.checkpoint import random_checkpoint

    check_writable_output(args.out, "folder", "--out")
    shape = {"embsize": args.embsize, "nheads": args.nheads, "d_hid": args.d_hid, "nlayers": args.nlayers}
    path = random_checkpoint(args.out, like=args.like, vocab=args.vocab, n_genes=args.n_genes, seed=args.seed, **shape)
    size = sum(f.stat().st_size for f in Path(path).iterdir()) / 2**20
    print(f"wrote random {args.like}-shaped checkpoint {path} ({size:.0f} MiB)")
    return 0
