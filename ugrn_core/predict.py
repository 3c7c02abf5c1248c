"""Predictions: train a translator on a labelled dataset, score TF→target pairs, rank a whole network.

No expression is needed for Emb, VVP, GDT and Ens: a plain gene list is enough (``data.dataset_from_genes``).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import networkx as nx
import numpy as np
import pandas as pd

from ._io import atomic_write
from .errors import DataError, ParameterError
from .data import GRNDataset, candidate_pairs, sample_pairs
from .features import METHODS, DatasetProbes, ProbeParams
from .scfm import ScFM
from .translator import Translator, fit_projector, trainable

ProgressFn = Callable[[int, int, str], None]


def train_translator(fm: ScFM, ds: GRNDataset, methods=("VVP", "GDT", "Emb"), params: ProbeParams | None = None,
                     np_ratio: float = 1.0, seed: int = 0, epochs: int = 50, tf_mode: str = "file",
                     progress: ProgressFn | None = None, probes: DatasetProbes | None = None) -> tuple[Translator, pd.DataFrame]:
    """Train one projector per trainable method on ``ds``'s labelled pairs (all positives + N/P-sampled negatives).

    Methods that need expression are skipped with a warning when ``ds`` has none. Ens needs VVP and GDT.
    Returns: the ``Translator`` and the training pairs (DataFrame tf, target, label).
    Raises: ValueError when ``ds`` has no ground-truth edges or no method can be trained.
    """
    probes = probes or DatasetProbes(fm, ds, params or ProbeParams())
    pairs = sample_pairs(ds, genes=probes.genes, np_ratio=np_ratio, seed=seed, tf_mode=tf_mode)
    projectors, n_train = {}, {}
    for m in trainable(methods):
        if METHODS[m].needs_expression and not ds.has_expression:
            warnings.warn(f"{m} needs expression and {ds.name} has none: not trained")
            continue
        X = probes.pair_features(m, pairs, progress=progress)
        projectors[m] = fit_projector(X, pairs["label"].to_numpy(), epochs=epochs, seed=seed, progress=progress,
                                      desc=f"training {m}")
        n_train[m] = len(pairs)
    if not projectors:
        raise DataError(f"no translator could be trained on {ds.name} for methods {list(methods)}; methods that need "
                        "expression cannot be trained on a dataset without it")
    return Translator(projectors, probes.params, ds.name, fm.checkpoint_id, n_train, len(probes.tokens)), pairs


def score_pairs(probes: DatasetProbes, pairs: pd.DataFrame, methods, translator: Translator | None = None,
                progress: ProgressFn | None = None) -> pd.DataFrame:
    """Scores of each method for ``pairs`` (columns tf, target): one float column per method.

    Trained methods give probabilities in [0, 1]; zero-shot methods give raw scores (higher = more likely).
    Methods that need expression give NaN on a dataset without it.
    """
    out = pairs.copy()
    feats: dict[str, np.ndarray] = {}
    for m in methods:
        spec = METHODS[m]
        if spec.needs_expression and not probes.dataset.has_expression:
            out[m] = np.nan
        elif not spec.needs_training:
            out[m] = probes.zero_shot_scores(m, pairs, progress)
        else:
            if translator is None:
                raise ParameterError(f"{m} needs a trained translator")
            for need in trainable([m]):
                if need not in feats:
                    feats[need] = probes.pair_features(need, pairs, progress)
            out[m] = translator.predict(m, feats)
    return out


def predict_edges(fm: ScFM, ds: GRNDataset, translator: Translator, method: str = "Ens", tf_mode: str = "file",
                  progress: ProgressFn | None = None, probes: DatasetProbes | None = None) -> pd.DataFrame:
    """Rank every TF→target candidate pair of ``ds`` by ``method``.

    Returns: DataFrame [tf, target, score, label] sorted by score (descending, ties by name); ``label`` is 1/0 when
    ``ds`` has ground truth, else NaN.
    Warns (UserWarning) when the context size is far from the translator's training context (``context_warning``).
    Raises: ValueError when the translator lacks ``method`` or its probe parameters differ from ``probes``.
    """
    if method not in translator.methods:
        raise ParameterError(f"method {method!r}: the translator (trained on {translator.trained_on}) has "
                             f"{translator.methods}; expected one of those")
    translator.check_checkpoint(fm.checkpoint_id)
    probes = probes or DatasetProbes(fm, ds, translator.params)
    if probes.params != translator.params:
        raise ParameterError(f"probe parameters {probes.params} differ from the translator's {translator.params}")
    note = translator.context_warning(len(probes.tokens)) if method != "Emb" else None
    if note:
        warnings.warn(f"{ds.name}: {note}")
    pairs = candidate_pairs(ds, genes=probes.genes, tf_mode=tf_mode)
    scored = score_pairs(probes, pairs, [method], translator, progress)
    edges = scored.rename(columns={method: "score"})[["tf", "target", "score", "label"]]
    if not ds.has_ground_truth:
        edges["label"] = np.nan
    return edges.sort_values(["score", "tf", "target"], ascending=[False, True, True], kind="mergesort").reset_index(drop=True)


def edges_to_graph(edges: pd.DataFrame) -> nx.DiGraph:
    """Directed graph TF → target with edge attributes ``score`` (and ``label`` when known); nodes carry ``is_tf``."""
    g = nx.DiGraph()
    tfs = set(edges["tf"])
    for row in edges.itertuples(index=False):
        attrs = {"score": float(row.score)}
        if "label" in edges and not pd.isna(row.label):
            attrs["label"] = int(row.label)
        g.add_edge(row.tf, row.target, **attrs)
    nx.set_node_attributes(g, {n: n in tfs for n in g.nodes}, "is_tf")
    return g


def edge_format(path: str | os.PathLike) -> str:
    """The edge-list format of an output path (".tsv", ".csv" or ".graphml", from its suffix).

    Raises: ParameterError for another suffix, or when the folder it would go into is a file."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".tsv", ".csv", ".graphml"):
        raise ParameterError(f"output '{path}': expected a .tsv, .csv or .graphml file name")
    parent = Path(path).parent
    if parent.exists() and not parent.is_dir():
        raise ParameterError(f"output '{path}': '{parent}' is a file, not a folder")
    return suffix


def write_edges(edges: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write an edge list atomically: ``.tsv``/``.csv`` by suffix (columns TF, target, score, label) or ``.graphml``."""
    suffix = edge_format(path)

    def write(tmp):
        if suffix == ".graphml":
            nx.write_graphml(edges_to_graph(edges), tmp)
        else:
            edges.rename(columns={"tf": "TF"}).to_csv(tmp, sep="\t" if suffix == ".tsv" else ",", index=False)

    return atomic_write(path, write)
