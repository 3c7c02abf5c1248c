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
import pandas as pd

from . import data as _data
from .benchmark import BenchmarkResult, resolve_datasets, run_benchmark  # noqa: F401  (re-exported)
from .config import ASSETS_DIR, DEFAULT_CHECKPOINT_DIR, DEFAULT_TRANSLATOR_DIR, default_device, resolve_device
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
    return _load_model(str(Path(checkpoint or DEFAULT_CHECKPOINT).expanduser().resolve()), resolve_device(device))


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
