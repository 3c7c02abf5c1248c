"""Public facade of ugrn_core: the calls the Streamlit app and the CLI make.

Everything here delegates to the modules that hold the work (``data`` → ``scfm`` → ``features`` →
``translator`` → ``predict`` / ``benchmark``); this file adds defaults (bundled checkpoint and translator),
in-process caching of loaded models, and stable names. ``progress`` arguments are callables
``progress(done: int, total: int, message: str)``.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from . import data as _data
from .benchmark import BenchmarkResult, resolve_datasets, run_benchmark  # noqa: F401  (re-exported)
from .config import ASSETS_DIR, DEFAULT_CHECKPOINT_DIR, DEFAULT_TRANSLATOR_DIR, default_device
from .data import GRNDataset, list_datasets, read_edge_list, read_expression, read_gene_list  # noqa: F401
from .features import METHODS, DatasetProbes, MethodSpec, ProbeParams  # noqa: F401
from .metrics import curves, evaluate  # noqa: F401
from .predict import edges_to_graph, predict_edges, score_pairs, write_edges  # noqa: F401
from .predict import train_translator as _train_translator
from .scfm import ScFM, load_checkpoint
from .translator import Translator

DEFAULT_CHECKPOINT = DEFAULT_CHECKPOINT_DIR
DEFAULT_TRANSLATOR = DEFAULT_TRANSLATOR_DIR
DEFAULT_BENCHMARK = ASSETS_DIR / "benchmark_default"  # bundled result of `make benchmark` (train STRING/hESC/500)
PAPER_TABLES_DIR = ASSETS_DIR / "paper"


def device_name() -> str:
    """The torch device new models load on: "cuda" when available, else "cpu" (``UGRN_DEVICE`` overrides)."""
    return default_device()


@functools.lru_cache(maxsize=4)
def _load_model(path: str, device: str) -> ScFM:
    return load_checkpoint(path, device)


def load_model(checkpoint=None, device=None) -> ScFM:
    """Load (once per process) a checkpoint folder in the official scGPT layout; default: the bundled compact model."""
    return _load_model(str(Path(checkpoint or DEFAULT_CHECKPOINT).expanduser().resolve()), device or default_device())


def load_dataset(name: str, data_dir=None) -> GRNDataset:
    """A BEELINE dataset by name "<network>/<cell>/<500|1000>" (see ``data.load_beeline``)."""
    return _data.load_beeline(name, data_dir)


def dataset_from_upload(genes, tfs=None, species="human", edges=None, expression=None, name="upload", data_dir=None) -> GRNDataset:
    """A dataset from user input (gene list, optional TFs, known edges, expression); see ``data.dataset_from_genes``."""
    return _data.dataset_from_genes(genes, tfs=tfs, species=species, edges=edges, expression=expression, name=name,
                                    data_dir=data_dir)


_PROBES: "OrderedDict[tuple, DatasetProbes]" = OrderedDict()


def probes(fm: ScFM, ds: GRNDataset, params: ProbeParams | None = None) -> DatasetProbes:
    """The ``DatasetProbes`` of ``ds`` under ``fm`` and ``params``, kept in memory for the 16 most recent gene sets."""
    params = params or ProbeParams()
    expr_id = None if ds.expression is None else (ds.expression.n_obs, id(ds.expression))
    key = (fm.checkpoint_id, str(fm.device), ds.name, hash(tuple(ds.genes)), hash(tuple(ds.tfs)), expr_id, params)
    if key not in _PROBES:
        _PROBES[key] = DatasetProbes(fm, ds, params)
        while len(_PROBES) > 16:
            _PROBES.popitem(last=False)
    _PROBES.move_to_end(key)
    return _PROBES[key]


def vocab_mapping(fm: ScFM, ds: GRNDataset) -> _data.VocabMapping:
    """How ``ds``'s genes map into ``fm``'s vocabulary (coverage, unmapped genes)."""
    return _data.map_to_vocab(ds.genes, fm.vocab, ds.species, warn=False)


def context_warning(fm: ScFM, ds: GRNDataset, translator: Translator) -> str | None:
    """A message when ``ds``'s context (its vocabulary-mapped genes) is far smaller or larger than the translator's
    training context, else None (``Translator.context_warning``)."""
    return translator.context_warning(len(vocab_mapping(fm, ds).tokens))


def cached_probes(fm: ScFM, ds: GRNDataset, params: ProbeParams | None = None) -> list[str]:
    """Probe arrays already on disk for this gene set and parameters (subset of VVP, GDT, Pert, Attn)."""
    p = probes(fm, ds, params)
    return [name for name in ("VVP", "GDT", "Pert", "Attn") if p.is_cached(name)]


def pair_curves(fm: ScFM, ds: GRNDataset, source: str, target: str, params: ProbeParams | None = None, n_points: int = 21) -> dict:
    """VVP response curves and GDT trajectories for one gene pair, both directions (``DatasetProbes.pair_curves``)."""
    return probes(fm, ds, params).pair_curves(source, target, n_points=n_points)


def load_translator(path=None) -> Translator:
    """A saved translator folder; default: the bundled one trained on STRING/hESC/500."""
    return Translator.load(path or DEFAULT_TRANSLATOR)


def train_translator(fm: ScFM, dataset, methods=("VVP", "GDT", "Emb"), params: ProbeParams | None = None,
                     np_ratio: float = 1.0, seed: int = 0, epochs: int = 50, progress=None) -> Translator:
    """Train projectors on a labelled dataset (name or ``GRNDataset``); see ``predict.train_translator``."""
    ds = load_dataset(dataset) if isinstance(dataset, str) else dataset
    params = params or ProbeParams()
    translator, _ = _train_translator(fm, ds, methods, params, np_ratio=np_ratio, seed=seed, epochs=epochs,
                                      progress=progress, probes=probes(fm, ds, params))
    return translator


def predict_pairs(fm: ScFM, ds: GRNDataset, translator: Translator, pairs: pd.DataFrame, methods=None, progress=None) -> pd.DataFrame:
    """Scores of ``methods`` (default: all the translator's, plus zero-shot ones when ``ds`` has expression) for ``pairs``."""
    if methods is None:
        methods = list(translator.methods) + ([m for m, s in METHODS.items() if s.zero_shot] if ds.has_expression else [])
    return score_pairs(probes(fm, ds, translator.params), pairs, methods, translator, progress)


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


def graph_of(edges: pd.DataFrame) -> nx.DiGraph:
    """Directed networkx graph of an edge list [tf, target, score, label] (for GraphML export)."""
    return edges_to_graph(edges)


# ---------------------------------------------------------------------------------------------------------------------
# InfoSEM within-dataset benchmark and SEM networks (issue 10)
# ---------------------------------------------------------------------------------------------------------------------
def run_unseen_genes(datasets, methods, seeds=(0,), split: str = "unseen-genes", fm=None, sem_options=None,
                     data_dir=None, progress=None, label: str = "", candidates: str = "known"):
    """InfoSEM within-dataset benchmark (``unseen_genes.run_unseen_genes``); datasets may be names, globs or "all"."""
    from .unseen_genes import run_unseen_genes as _run

    return _run(resolve_datasets(datasets, data_dir), methods, seeds=seeds, split=split, fm=fm,
                sem_options=sem_options, data_dir=data_dir, progress=progress, label=label, candidates=candidates)


def load_unseen_genes(path):
    """A saved within-dataset benchmark folder (results.csv, summary.csv, meta.json)."""
    from .unseen_genes import UnseenGenesResult

    return UnseenGenesResult.load(path)


def sem_options(epochs: int | None = None, hidden: int | None = None, prior: str = "scgpt", sigma_w=None, sigma_l=None,
                n_runs: int | None = None, fm=None):
    """``sem.scoring.SEMOptions`` from plain values (None keeps the published preset / default grid)."""
    from .sem.scoring import SEMOptions

    over = {k: v for k, v in (("epochs", epochs), ("hidden", hidden), ("n_runs", n_runs)) if v}
    kw = {}
    if sigma_w:
        kw["sigma_w_grid"] = tuple(float(x) for x in sigma_w)
    if sigma_l:
        kw["sigma_l_grid"] = tuple(float(x) for x in sigma_l)
    return SEMOptions(config_overrides=over, prior=prior, fm=fm, **kw)


def expression_network(ds: GRNDataset, method: str = "InfoSEM-B", options=None, train_pairs=None, fm=None,
                       progress=None) -> pd.DataFrame:
    """Ranked TF→target edges [tf, target, score, label] of a method that scores pairs from ``ds``'s own expression
    (registry methods with ``needs_expression`` and a ``score``: DeepSEM, InfoSEM-B, InfoSEM-BC, ...), over every
    TF × gene pair. ``score`` is the method's score divided by its maximum absolute value (in [-1, 1]; |A|-based
    scores in [0, 1]). Methods that read labels (InfoSEM-BC's known-edge prior) get ``train_pairs`` (default: the
    dataset's own labelled candidate pairs). ``options``: ``sem_options(...)`` for the SEM fits; ``fm`` for the
    "scgpt" gene-embedding prior. Raises ValueError for a method that does not fit this description or a dataset
    without expression."""
    from . import methods as registry
    from .methods.base import ScoringContext

    spec = registry.get(method)
    if spec.score is None or not spec.needs_expression:
        raise ValueError(f"{spec.name} does not score pairs from a dataset's expression")
    if not ds.has_expression:
        raise ValueError(f"{spec.name} needs expression; dataset {ds.name!r} has none")
    pairs = _data.candidate_pairs(ds, tf_mode="file")
    options = options if options is not None else sem_options(fm=fm)
    ctx = ScoringContext(dataset=ds, train_dataset=ds, train_pairs=train_pairs if train_pairs is not None else pairs,
                         progress=progress, cache={"sem_options": options})
    s = np.asarray(spec.score(ctx, pairs), dtype=np.float64)
    out = pairs.assign(score=s / max(float(np.abs(s).max()), 1e-300))
    out["label"] = out["label"] if ds.has_ground_truth else np.nan
    return out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)[["tf", "target", "score", "label"]]


def paper_infosem_table() -> pd.DataFrame:
    """InfoSEM paper-reported numbers (Cui et al., ICML 2025, Tables 2 and 5): interactions between unseen genes,
    columns [source, ground_truth, split, dataset, method, AUPRC, AUPRC_se, Hit@1%, Hit@1%_se]."""
    return paper_table("infosem_table1")
