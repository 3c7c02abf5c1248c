"""Public facade of ugrn_core: the calls the Streamlit app and the CLI make.

Everything here delegates to the packages that hold the work (``data`` → ``scfm`` → ``probes`` → ``methods`` →
``translator`` → ``predict`` → ``bench`` / ``export``), under the same names (the public names: ``__all__``);
the network readers of ``tl`` (``get_network``, ``activity``, ``hubs``; ``tl.grn`` and ``tl.compare`` run methods
and sit beside this file, not under it: the import-level limit);
this file adds defaults (``config.default_checkpoint_dir`` / ``default_translator_dir``), in-process caching of loaded
models, and assembling user uploads.
What a method needs and does comes from the registry, re-exported as ``api.methods``. ``progress`` arguments are callables
``progress(done: int, total: int, message: str)``.
"""

from __future__ import annotations

import anndata
import numpy as np
import pandas as pd

from . import export, methods
from ._io import check_writable_output
from .data.anndata_io import read_cells, select_matrix
from .bench.benchmark import (BenchmarkResult, default_methods, np_sweep, resolve_datasets, run_benchmark,
                              with_averages)
from .bench.metrics import curves, evaluate
from .bench.report import auprc_figure
from .bench.tables import fmt_p, main_table, paired_tests, twin_margin
from .config import (ASSETS_DIR, BUNDLED, DEFAULT_CHECKPOINT_DIR, DEFAULT_TRANSLATOR_DIR, check_allowed_path,
                     default_checkpoint_dir, default_device, default_translator_dir, resolve_checkpoint_dir,
                     resolve_translator_dir)
from .data.datasets import GRNDataset, dataset_from_genes, list_datasets, load_beeline
from .data.gene_ids import ensembl_to_symbols
from .data.pairs import sample_pairs
from .data.readers import read_edge_list, read_expression, read_gene_list
from .errors import DataError, UGRNInputError
from .export import edge_table, edges_bytes, edges_to_graph, read_network, write_edges
from .methods import MethodSpec, probe_owner, score_pairs
from .predict import (DEFAULT_METHOD, Network, context_background, graph_layout, missed_edges, network, node_degrees,
                      predict_edges)
from .predict import expression_network as expression_net
from .probes.background import Background
from .probes.features import DatasetProbes, dataset_probes
from .probes.pairs import PairProbes, check_pair_genes, pair_probes
from .probes.params import ProbeParams
from .scfm.checkpoint import load_model
from .scfm.corpus import barely_seen
from .scfm.model import ScFM
from .scfm.vocab import VocabMapping, map_to_vocab
from .tl._downstream import activity, hubs
from .tl._store import ALL_CELLS, get_network
from .translator.artifact import DEFAULT_METHODS as DEFAULT_TRAIN_METHODS
from .translator.artifact import Translator, load_translator, projectors_needed
from .sem.scoring import quick_settings as sem_quick_settings
from .sem.scoring import sem_options

__all__ = ["activity", "ALL_CELLS", "ASSETS_DIR", "auprc_figure", "available_methods", "Background", "barely_seen",
           "BenchmarkResult", "BUNDLED", "BUNDLED_TABLES", "cached_probes", "check_allowed_path",
           "check_writable_output", "context_background", "context_warning", "curves",
           "dataset_from_files", "dataset_from_genes", "DatasetProbes", "DEFAULT_BENCHMARK", "DEFAULT_CHECKPOINT",
           "default_checkpoint_dir", "DEFAULT_METHOD", "default_methods", "DEFAULT_TRAIN_METHODS",
           "DEFAULT_TRANSLATOR", "default_translator_dir", "device_name", "edge_table", "edges_bytes",
           "edges_to_graph", "ensembl_to_symbols", "estimate_probe_seconds", "evaluate", "export",
           "expression_network", "fmt_p", "format_seconds", "get_network", "graph_layout", "GRNDataset",
           "hubs", "list_datasets", "load_beeline", "load_benchmark", "load_model", "load_translator",
           "load_unseen_genes", "main_table", "methods", "MethodSpec", "missed_edges", "Network", "network",
           "node_degrees", "np_sweep", "pair_curves", "pair_probe_cost", "pair_probes", "pair_statistics",
           "paired_tests", "PairProbes",
           "paper_infosem_table", "paper_table", "PAPER_TABLES_DIR", "predict_edges", "predict_pairs", "ProbeParams",
           "probes", "probes_for_methods", "projectors_needed", "read_cells", "read_edge_list", "read_expression",
           "read_gene_list", "read_network", "resolve_checkpoint_dir", "resolve_datasets", "resolve_translator_dir",
           "run_benchmark", "run_unseen_genes", "ScFM", "score_pairs", "sem_options", "sem_quick_settings",
           "train_translator", "Translator", "twin_margin", "UGRNInputError", "vocab_mapping", "VocabMapping",
           "with_averages", "write_edges"]

DEFAULT_CHECKPOINT = DEFAULT_CHECKPOINT_DIR
DEFAULT_TRANSLATOR = DEFAULT_TRANSLATOR_DIR
DEFAULT_BENCHMARK = ASSETS_DIR / "benchmark_default"  # bundled result of `make benchmark` (train STRING/hESC/500)
BUNDLED_TABLES = ASSETS_DIR / "benchmark_tables"  # bundled Tables 2–6 of `make benchmark-all` (<preset>/results.csv)
PAPER_TABLES_DIR = ASSETS_DIR / "paper"



def device_name() -> str:
    """The torch device new models load on: "cuda" when available, else "cpu" (``UGRN_DEVICE`` overrides)."""
    return default_device()


def _read(what: str, reader, source, *args):
    """Run a file reader; failures other than ValueError (e.g. a corrupt .h5ad) become a DataError naming the file."""
    try:
        return reader(source, *args)
    except ValueError:
        raise
    except Exception as e:  # a bad file must give a clear message, not a traceback
        name = getattr(source, "name", source)
        raise DataError(f"Could not read the {what} '{name}': {type(e).__name__}: {e}") from e


def dataset_from_files(genes=None, gene_symbols=(), expression=None, expression_name: str | None = None, edges=None,
                       tfs=None, species: str = "human", name: str = "upload", data_dir=None, use_raw: bool = False,
                       layer: str | None = None) -> GRNDataset:
    """A dataset assembled from user files (paths or uploaded file objects): what ``ugrn predict`` and the app's Home
    page take.

    Args:
        genes: gene list file (``readers.read_gene_list``).
        gene_symbols: further gene symbols (e.g. pasted), appended to the file's.
        expression: expression matrix file (``readers.read_expression``: genes × cells CSV/TSV or cells × genes
            .h5ad, optionally .gz), or an AnnData (cells × genes) itself; ``expression_name`` gives its file name when
            it is an unnamed file object. Without a gene list, its genes form the gene set.
        use_raw, layer: for an .h5ad or AnnData: take ``.raw.X`` or ``layers[layer]`` instead of ``X``
            (``anndata_io.select_matrix``); a scaled ``X`` (negative values) fails naming these.
        edges: known TF→target edges file (``readers.read_edge_list``), used as ground truth.
        tfs: TF list file (default: the species' BEELINE TF list ∩ genes).
        species: "human" or "mouse"; name: the dataset's name.
    Raises: ValueError when no gene is given, or from the readers / ``datasets.dataset_from_genes`` (naming the file
    and the offending genes).
    """
    gene_list = list(_read("gene list", read_gene_list, genes)) if genes is not None else []
    gene_list += [str(g) for g in gene_symbols]
    adata = None
    if isinstance(expression, anndata.AnnData):
        if use_raw or layer is not None:
            M, var_names, _ = select_matrix(expression, use_raw, layer)
            expression = anndata.AnnData(X=M, obs=expression.obs, var=pd.DataFrame(index=var_names))
        adata = expression
        if not gene_list:
            gene_list = list(adata.var_names)
    elif expression is not None:
        adata = _read("expression matrix", read_expression, expression,
                      expression_name or getattr(expression, "name", None) or str(expression), use_raw, layer)
        if not gene_list:
            gene_list = list(adata.var_names)
    if not gene_list:
        raise DataError("no genes given: pass a gene list, gene symbols or an expression matrix")
    return dataset_from_genes(gene_list, tfs=_read("TF list", read_gene_list, tfs) if tfs is not None else None,
                              species=species, edges=_read("edge list", read_edge_list, edges) if edges is not None else None,
                              expression=adata, name=name, data_dir=data_dir)


probes = probes_ = dataset_probes  # the name ``probes`` is also a parameter below


def vocab_mapping(fm: ScFM, ds: GRNDataset) -> VocabMapping:
    """How ``ds``'s genes map into ``fm``'s vocabulary (coverage, unmapped genes; ``vocab.map_to_vocab``)."""
    return map_to_vocab(ds.genes, fm.vocab, ds.species, warn=False)


def context_warning(fm: ScFM, ds: GRNDataset, translator: Translator, background="auto",
                    method: str = DEFAULT_METHOD) -> str | None:
    """A message when the context ``method`` scores ``ds`` in (its vocabulary-mapped genes, plus the background genes
    that ``background`` adds: ``context_background``) is far smaller or larger than the translator's training
    context, else None (``Translator.context_warning``). With the default background a short list gets none."""
    own = vocab_mapping(fm, ds).tokens
    bg = context_background(fm, ds, translator, [method], background)
    return translator.context_warning(len(own) + (len(bg.extra_tokens(own)) if bg is not None else 0))


def cached_probes(fm: ScFM, ds: GRNDataset, params: ProbeParams | None = None) -> list[str]:
    """Probe arrays already on disk for this gene set and parameters (a subset of ``methods.probe_names()``)."""
    p = probes(fm, ds, params)
    return [name for name in methods.probe_names() if p.is_cached(name)]


def pair_curves(fm: ScFM, ds: GRNDataset, source: str, target: str, params: ProbeParams | None = None, n_points: int = 21) -> dict:
    """VVP response curves and GDT trajectories for one gene pair, both directions (``DatasetProbes.pair_curves``)."""
    return probes(fm, ds, params).pair_curves(source, target, n_points=n_points)


def probes_for_methods(method_names) -> list[str]:
    """The model probes that scoring ``method_names`` reads, ensemble members included (``methods.probes_of``;
    Emb needs no model call), display order."""
    return [p for p in methods.probes_of(method_names) if p in methods.probe_names()]


def estimate_probe_seconds(fm: ScFM, datasets, probes=None, params: ProbeParams | None = None,
                           background: Background | None = None) -> float:
    """Estimated wall seconds to compute the not-yet-cached ``probes`` of ``datasets`` on ``fm``'s device (default:
    the probes the default method reads, ``methods.probes_of([DEFAULT_METHOD])``).

    Gene sets shared by several datasets count once; cached probes count zero. Rows per probe
    (``DatasetProbes.probe_rows``) × seconds per row from a short timed calibration on this device and context size
    (``ScFM.seconds_per_row``, itself a few model calls, kept for the process).

    Args:
        datasets: ``GRNDataset`` objects or BEELINE names (one or a list).
        probes: subset of VVP, GDT, Pert, Attn (Emb is free).
        background: background genes the datasets are probed among (``DatasetProbes``), or None.
    Returns: float seconds ≥ 0.
    """
    if isinstance(datasets, (str, GRNDataset)):
        datasets = [datasets]
    if probes is None:
        probes = probes_for_methods([DEFAULT_METHOD])
    seen, total = set(), 0.0
    for ds in datasets:
        p = probes_(fm, load_beeline(ds) if isinstance(ds, str) else ds, params, background)
        if (tuple(p.tokens), tuple(p.scored)) in seen:
            continue
        seen.add((tuple(p.tokens), tuple(p.scored)))
        total += p.estimate_seconds(probes)
    return total


def format_seconds(seconds: float) -> str:
    """A duration for people: "about 40 s", "about 3.5 min", "about 1.2 h"."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    if seconds < 5400:
        return f"about {seconds / 60:.1f} min"
    return f"about {seconds / 3600:.1f} h"


def train_translator(fm: ScFM, dataset, methods=DEFAULT_TRAIN_METHODS, params: ProbeParams | None = None,
                     np_ratio: float = 1.0, seed: int = 0, epochs: int | None = None, tf_mode: str = "file",
                     progress=None, options=None) -> Translator:
    """Train projectors on a labelled dataset (name or ``GRNDataset``): all its positives plus N/P-sampled negatives
    (``pairs.sample_pairs``), then ``Translator.fit``. ``methods`` in any case; an ensemble brings its members.
    ``options``: ``translator.TrainOptions`` (default ``translator.DEFAULT_OPTIONS``); ``epochs`` overrides its epochs.

    Raises: ValueError when the dataset has no ground-truth edges or no method can be trained.
    """
    ds = load_beeline(dataset) if isinstance(dataset, str) else dataset
    p = probes(fm, ds, params or ProbeParams())
    train_pairs = sample_pairs(ds, genes=p.genes, np_ratio=np_ratio, seed=seed, tf_mode=tf_mode)
    return Translator.fit(p, train_pairs, methods, epochs=epochs, seed=seed, progress=progress, options=options)


def available_methods(ds: GRNDataset, translator: Translator | None) -> list[str]:
    """Methods that can score ``ds`` now without training: the translator's, plus zero-shot probes when ``ds`` has
    the expression they need (registry order)."""
    have = set(translator.methods) if translator is not None else set()
    return [s.name for s in methods.all_specs()
            if (s.name in have or (s.family is methods.Family.ZERO_SHOT_PROBE)) and not s.na_reason(ds)]


def predict_pairs(fm: ScFM, ds: GRNDataset, translator: Translator, pairs: pd.DataFrame, methods=None, progress=None,
                  background="auto", fast: bool = True) -> pd.DataFrame:
    """Scores of ``methods`` (default ``available_methods``) for ``pairs`` (columns tf, target); see ``score_pairs``.
    ``background`` as in ``predict_edges`` (the default puts a short gene list in the translator's training context
    unless a method needs expression), so a pair scores as it does in the Network view.

    ``fast`` (default): the fast pair path (``pair_probes``): only the model rows the pairs' genes need, and
    "context-z" statistics exact when the full probes are cached or the checkpoint ships them for this gene set
    (``pair_statistics``; scores then equal the full path's), else sampled once per gene set (cached).
    ``fast=False``: the full path (every pair of the set probed first).
    Raises: DataError naming a gene of ``pairs`` that is not in ``ds`` or not in the checkpoint vocabulary; as
    ``score_pairs`` otherwise."""
    if methods is None:
        methods = available_methods(ds, translator)
    bg = context_background(fm, ds, translator, methods, background)
    p = pair_probes(fm, ds, translator.params, bg) if fast else probes(fm, ds, translator.params, bg)
    check_pair_genes(p, list(pairs["tf"]) + list(pairs["target"]))
    return score_pairs(p, pairs, methods, translator, progress)


def pair_probe_cost(fm: ScFM, ds: GRNDataset, translator: Translator, methods=None, background="auto",
                    pair=None):
    """What scoring pairs of ``ds`` with ``methods`` on the fast pair path (``predict_pairs``) still computes.

    Returns: (the probes with a one-off computation left for this gene set: their sampled "context-z" statistics,
    or the full array for a probe read from no lines (e.g. Pert), display order; estimated wall seconds on ``fm``'s
    device for that plus, when ``pair`` = (gene, gene) is given, the model rows of that pair's lines; 0.0 when no
    one-off computation is left: a pair's own lines then take about a second, and the device calibration behind an
    estimate would take longer than they do), the estimate from ``PairProbes.estimate_pair_seconds``.
    """
    if methods is None:
        methods = available_methods(ds, translator)
    bg = context_background(fm, ds, translator, methods, background)
    p = pair_probes(fm, ds, translator.params, bg)
    need = probes_for_methods(methods)
    todo = [name for name in need if p.one_off(name)]
    if not todo:
        return [], 0.0
    genes = [g for g in (pair or ()) if g in set(p.genes)]
    return todo, p.estimate_pair_seconds(need, genes)


def pair_statistics(fm: ScFM, ds: GRNDataset, translator: Translator, methods=None, background="auto") -> dict:
    """Where the fast pair path (``predict_pairs``) takes each "context-z" probe's feature statistics from in ``ds``:
    probe → "full probe" (the whole set's probes cached: exact), "shipped" (exact, shipped with the checkpoint for
    this gene set, ``probes.context_stats``), "reference" (a background context's stored ones) or "sampled"
    (estimated from a fixed sample of lines: rankings kept, probabilities can move by a few hundredths). Only
    probes read from lines with "context-z" features appear."""
    if methods is None:
        methods = available_methods(ds, translator)
    if translator.params.feature_norm != "context-z":
        return {}
    p = pair_probes(fm, ds, translator.params, context_background(fm, ds, translator, methods, background))
    return {name: p.statistics_kind(name) for name in probes_for_methods(methods)
            if probe_owner(name).probe_lines is not None}


def load_benchmark(path) -> BenchmarkResult:
    """A saved benchmark result folder (results.csv, meta.json, scores.npz)."""
    return BenchmarkResult.load(path)


def paper_table(name: str = "table1_auprc") -> pd.DataFrame:
    """Paper-reported numbers (UGRN paper, scGPT backbone) as DataFrame [network, dataset, method, <metric>].

    Raises: FileNotFoundError naming the table when it is not bundled.
    """
    path = PAPER_TABLES_DIR / f"{name}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"paper table {name!r} not bundled (expected {path})")
    return pd.read_csv(path)


# ---------------------------------------------------------------------------------------------------------------------
# InfoSEM within-dataset benchmark and SEM networks (issue 10)
# ---------------------------------------------------------------------------------------------------------------------
def run_unseen_genes(datasets, methods, seeds=(0,), split: str = "unseen-genes", fm=None, sem_options=None,
                     data_dir=None, progress=None, label: str = "", candidates: str = "known"):
    """InfoSEM within-dataset benchmark (``unseen_genes.run_unseen_genes``); datasets may be names, globs or "all"."""
    from .bench.unseen_genes import run_unseen_genes as _run

    return _run(resolve_datasets(datasets, data_dir), methods, seeds=seeds, split=split, fm=fm,
                sem_options=sem_options, data_dir=data_dir, progress=progress, label=label, candidates=candidates)


def load_unseen_genes(path):
    """A saved within-dataset benchmark folder (results.csv, summary.csv, meta.json)."""
    from .bench.unseen_genes import UnseenGenesResult

    return UnseenGenesResult.load(path)


def expression_network(ds: GRNDataset, method: str | None = None, options=None, train_pairs=None, fm=None,
                       progress=None) -> pd.DataFrame:
    """Ranked TF→target edges [tf, target, score, label] of a method that scores pairs from ``ds``'s own expression
    (registry methods with ``needs_expression`` and a ``score``: DeepSEM, InfoSEM-B, InfoSEM-BC, ...), over every
    TF × gene pair. ``score`` is the method's score divided by its maximum absolute value (in [-1, 1]; |A|-based
    scores in [0, 1]). Methods that read labels (InfoSEM-BC's known-edge prior) get ``train_pairs`` (default: the
    dataset's own labelled candidate pairs). ``options``: ``sem_options(...)`` for the SEM fits; ``fm`` for the
    "scgpt" gene-embedding prior. Raises ValueError for a method that does not fit this description or a dataset
    without expression."""
    options = options if options is not None else sem_options(fm=fm)
    return expression_net(ds, method, options=options, train_pairs=train_pairs, progress=progress).edges


def paper_infosem_table() -> pd.DataFrame:
    """InfoSEM paper-reported numbers (Cui et al., ICML 2025, Tables 2 and 5): interactions between unseen genes,
    columns [source, ground_truth, split, dataset, method, AUPRC, AUPRC_se, Hit@1%, Hit@1%_se]."""
    return paper_table("infosem_table1")
