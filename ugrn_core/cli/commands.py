"""What each ``ugrn`` command does once its arguments are parsed (``cmd_*``), and the helpers they share."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from .._io import check_writable_output
from ..errors import ParameterError
from .options import _number, _train_options


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
    from ..probes.params import ProbeParams

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



def _probe_args(p):
    p.add_argument("--v0", type=_number(float, 0), default=None, help="VVP virtual base value (bin space 0..50; default 25)")
    p.add_argument("--target-values", default=None, help="comma-separated VVP target values (default 8 values over 0..50)")
    p.add_argument("--base-values", default=None, help="comma-separated GDT base values (default 8 values over 5..50)")
    from ..probes.params import FEATURE_NORMS, ProbeParams

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
        *(["--init-checkpoint", args.init_checkpoint] if args.init_checkpoint else [])])
    summary = pretrain(args.out, data_dir=args.data_dir, cfg=cfg, device=resolve_device(args.device), corpora=corpora,
                       exclude=exclude, command=command, init_checkpoint=args.init_checkpoint, corpus=args.corpus)
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

    from .suite import seed_list

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
    from .. import api
    from . import suite as cli_suite

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
    from .. import api
    from ..export import edge_format

    fmt = edge_format(args.out, args.format)  # a bad output name, format or unwritable path fails before any work
    if args.use_raw or args.layer is not None:
        flag = "--use-raw" if args.use_raw else f"--layer {args.layer}"
        if not args.expression or not str(args.expression).lower().endswith(".h5ad"):
            raise ParameterError(f"{flag} chooses the matrix of an AnnData: it needs --expression FILE.h5ad"
                                 + (f" (got --expression {args.expression})" if args.expression else "") + ".")
    _check_cache()
    fm = api.load_model(args.checkpoint, args.device, args.precision)
    translator = api.load_translator(args.translator)
    if args.dataset:
        ds = api.load_beeline(args.dataset, args.data_dir)
    else:
        source = args.genes or args.expression
        ds = api.dataset_from_files(genes=args.genes, expression=args.expression, edges=args.edges, tfs=args.tfs,
                                    species=args.species, name=f"genes:{Path(source).name}", data_dir=args.data_dir,
                                    use_raw=args.use_raw, layer=args.layer)
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


def _note_barely_seen(fm, ds, data_dir, min_cells: int = 10) -> None:
    """Name on stderr the genes of ``ds`` the checkpoint saw expressed in fewer than ``min_cells`` pretraining cells
    (checkpoints with ``gene_counts.tsv``, from ``ugrn pretrain --corpus broad``; silent for others)."""
    from ..data.readers import first_items
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
