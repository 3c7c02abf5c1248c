"""Predictions: score TF→target pairs with any registered method and rank a whole network.

Every method is scored the same way (``methods.MethodSpec.run`` on a ``ScoringContext``): translator methods through
the trained projectors, all others through their own ``score``. Methods that need no expression (e.g. the translator
methods on probes of virtual cells) work on a plain gene list (``datasets.dataset_from_genes``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Sequence

import networkx as nx
import numpy as np
import pandas as pd

from . import export
from . import methods as registry
from .methods.base import ScoringContext
from .probes import background as backgrounds
from .probes.background import Background
from .data.datasets import GRNDataset
from .errors import DataError, ParameterError
from .probes.features import DatasetProbes
from .data.pairs import candidate_pairs
from .scfm.vocab import map_to_vocab
# ScFM (scfm.model) and Translator (translator.artifact) appear in annotations only (duck-typed here).

ProgressFn = Callable[[int, int, str], None]
DEFAULT_METHOD = registry.default_rank()  # the method ``ugrn predict`` and the app's Network page rank by default


def context_background(fm: ScFM, ds: GRNDataset, translator: Translator | None, methods,
                       background: str | Background | None = backgrounds.AUTO, data_dir=None) -> Background | None:
    """The background context (``background.Background``) that scoring ``ds`` with ``methods`` uses, or None.

    ``background``: "auto" (default: the translator's training context when ``ds``'s vocabulary-mapped gene list is
    smaller than half of it and a method is context-dependent; ``background.wanted``), "none" or None, "translator", a
    BEELINE dataset name, a gene-list file or a ``Background`` (``background.resolve``).
    Raises: CheckpointError when a translator method is asked of a translator trained with another checkpoint;
    ParameterError / DataError for a background that cannot be resolved.
    """
    specs = [registry.get(m) for m in ([methods] if isinstance(methods, str) else methods)]
    if translator is not None and any(s.uses_translator for s in specs):
        translator.check_model(fm)  # its context genes are tokens of its own checkpoint's vocabulary
    n_user = len(map_to_vocab(ds.genes, fm.vocab, ds.species, warn=False).tokens)
    return backgrounds.resolve(background, fm, translator, n_user, specs, species=ds.species, data_dir=data_dir)


@dataclass
class Network:
    """A ranked gene regulatory network and what made it (what ``network`` returns).

    Attributes:
        edges: DataFrame [tf, target, score, label] sorted by score (descending, ties by name); ``label`` is 1/0 when
            the dataset has ground truth, else NaN.
        method: the registry method that scored it; dataset: the dataset's name.
        genes: the genes its pairs are among (vocabulary-mapped for model methods); tfs: the dataset's TFs.
        checkpoint_id: the foundation model that computed the probes (None when no model was involved).
        background: name of the background context the genes were probed in, or None.
        note: a caveat about the context size (``Translator.context_warning``), or None.
    """

    edges: pd.DataFrame
    method: str
    dataset: str
    genes: tuple[str, ...]
    tfs: tuple[str, ...]
    checkpoint_id: str | None = None
    background: str | None = None
    note: str | None = None

    def top(self, n: int) -> "Network":
        """The same network keeping its ``n`` best-scored edges (all when ``n`` is 0)."""
        return replace(self, edges=self.edges.head(n) if n else self.edges)

    def to_graph(self, **kw):
        """``networkx.DiGraph`` source → target (``export.edges_to_graph``; ``weight``, ``sign`` as there)."""
        return export.edges_to_graph(self.edges, **kw)

    def table(self, **kw) -> pd.DataFrame:
        """The network table in the field's columns (``export.edge_table``)."""
        return export.edge_table(self.edges, **kw)

    def to_bytes(self, fmt: str, **kw) -> bytes:
        """File contents in ``fmt`` (``export.FORMATS``; ``export.edges_bytes``)."""
        return export.edges_bytes(self.edges, fmt, **kw)

    def write(self, path, fmt: str | None = None, **kw):
        """Write atomically in ``fmt`` (default: from ``path``'s suffix; ``export.write_edges``); returns the Path."""
        return export.write_edges(self.edges, path, fmt, **kw)


def network(fm: ScFM, ds: GRNDataset, translator: Translator | None = None, method: str | None = None, *,
            tf_mode: str = "file", progress: ProgressFn | None = None, probes: DatasetProbes | None = None,
            background: str | Background | None = backgrounds.AUTO, data_dir=None,
            on_context: Callable[[DatasetProbes], None] | None = None) -> Network:
    """Rank every TF→target candidate pair of ``ds`` by ``method`` (any registered method, any case; default
    ``DEFAULT_METHOD``): the one prediction path of the CLI (``ugrn predict``), the API and the app's Network page.

    The translator is checked against ``fm`` once, the background context resolved once and the probes built once
    (one ``ScoringContext``). A short gene list is scored inside a background context of the translator's training
    size (``background``: "auto" by default, see ``context_background``; measured in
    ``benchmarks/results/context_size.md``): the model sees the list plus background genes, and only pairs among the
    list's genes are ranked. ``probes``, when given, fixes the context instead. ``on_context(probes)`` is called once
    the context is known, before any probe is computed (the CLI prints the context and a time estimate there).
    Warns (UserWarning) when the context size is far from the translator's training context (``context_warning``)
    and ``method`` depends on it: a long list, or a short one with the background disabled.
    Raises: CheckpointError when the translator was trained with another checkpoint; ParameterError when it lacks
    ``method`` or its probe parameters differ from ``probes``, or for an unknown background; DataError when
    ``method`` needs expression and ``ds`` has none (all ValueErrors).
    """
    spec = registry.get(method or DEFAULT_METHOD)
    checked = False
    if spec.uses_translator:
        if translator is None:
            raise ParameterError(f"method {spec.name!r} needs a trained translator; load or train one first")
        translator.check_model(fm)
        checked = True
        if spec.name not in translator.methods:
            raise ParameterError(f"method {spec.name!r}: the translator (trained on {translator.trained_on}) has "
                                 f"{translator.methods}; expected one of those")
    why = spec.na_reason(ds)
    if why:
        raise DataError(why)
    if probes is None:
        if not isinstance(background, Background):
            n_user = len(map_to_vocab(ds.genes, fm.vocab, ds.species, warn=False).tokens)
            background = backgrounds.resolve(background, fm, translator, n_user, [spec], species=ds.species,
                                             data_dir=data_dir)
        probes = DatasetProbes(fm, ds, translator.params if translator is not None else None, background=background)
    if translator is not None and probes.params != translator.params:
        raise ParameterError(f"probe parameters {probes.params} differ from the translator's {translator.params}")
    note = (translator.context_warning(len(probes.tokens))
            if translator is not None and spec.uses_translator and spec.context_dependent else None)
    if note:
        small = len(probes.tokens) < (translator.n_context or 0) and not spec.needs_expression
        warnings.warn(f"{ds.name}: {note}" + (" Or keep the default background context (background='auto', CLI "
                                              "--background auto)." if small else ""))
    if on_context is not None:
        on_context(probes)
    pairs = candidate_pairs(ds, genes=probes.genes, tf_mode=tf_mode)
    ctx = ScoringContext(dataset=probes.dataset, probes=probes, translator=translator, progress=progress)
    edges = pairs.assign(score=spec.run(ctx, pairs))[["tf", "target", "score", "label"]]
    if not ds.has_ground_truth:
        edges["label"] = np.nan
    edges = edges.sort_values(["score", "tf", "target"], ascending=[False, True, True], kind="mergesort")
    return Network(edges.reset_index(drop=True), spec.name, ds.name, tuple(probes.genes), tuple(ds.tfs),
                   checkpoint_id=fm.checkpoint_id, background=probes.background.name if probes.background else None,
                   note=note)


def expression_network(ds: GRNDataset, method: str | None = None, *, options=None, train_pairs=None,
                       progress: ProgressFn | None = None) -> Network:
    """The network of a method that scores pairs from ``ds``'s own expression (registry methods with
    ``needs_expression`` and a ``score``: DeepSEM, InfoSEM-B, InfoSEM-BC, ...; default ``methods.default_expression()``),
    over every TF × gene pair of ``ds`` (no foundation model, no context). ``score`` is the method's score divided by
    its maximum absolute value (in [-1, 1]; |A|-based scores in [0, 1]), sorted descending (stable). Methods that read
    labels (InfoSEM-BC's known-edge prior) get ``train_pairs`` (default: the dataset's own labelled candidate pairs).
    ``options``: ``sem.scoring.SEMOptions`` for the SEM fits (``api.sem_options``).
    Raises ValueError for a method that does not fit this description or a dataset without expression."""
    spec = registry.get(method or registry.default_expression())
    if spec.score is None or not spec.needs_expression:
        raise ValueError(f"{spec.name} does not score pairs from a dataset's expression")
    if not ds.has_expression:
        raise ValueError(f"{spec.name} needs expression; dataset {ds.name!r} has none")
    pairs = candidate_pairs(ds, tf_mode="file")
    ctx = ScoringContext(dataset=ds, train_dataset=ds, train_pairs=train_pairs if train_pairs is not None else pairs,
                         progress=progress, cache={} if options is None else {"sem_options": options})
    s = np.asarray(spec.score(ctx, pairs), dtype=np.float64)
    out = pairs.assign(score=s / max(float(np.abs(s).max()), 1e-300))
    out["label"] = out["label"] if ds.has_ground_truth else np.nan
    edges = out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)[["tf", "target", "score",
                                                                                            "label"]]
    return Network(edges, spec.name, ds.name, tuple(ds.genes), tuple(ds.tfs))


def predict_edges(fm: ScFM, ds: GRNDataset, translator: Translator | None, method: str = DEFAULT_METHOD,
                  tf_mode: str = "file", progress: ProgressFn | None = None,
                  probes: DatasetProbes | None = None, background: str | Background | None = backgrounds.AUTO,
                  data_dir=None) -> pd.DataFrame:
    """The edges of ``network(...)``: DataFrame [tf, target, score, label] sorted by score (descending, ties by name).
    Same arguments and errors as ``network``."""
    return network(fm, ds, translator, method, tf_mode=tf_mode, progress=progress, probes=probes,
                   background=background, data_dir=data_dir).edges


# ------------------------------------------------------------------------------ reading a ranked edge table
def missed_edges(edges: pd.DataFrame, shown: pd.DataFrame) -> pd.DataFrame:
    """Known edges (label 1) of the full ranking ``edges`` that ``shown`` (a filtered view of it) leaves out:
    DataFrame [source, target, score, rank] (rank 1 = best score in ``edges``)."""
    ranked = edges.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    ranked["rank"] = np.arange(1, len(ranked) + 1)
    pos = ranked[pd.to_numeric(ranked["label"], errors="coerce") == 1]
    shown_pairs = set(zip(shown["tf"], shown["target"]))
    keep = [(a, b) not in shown_pairs for a, b in zip(pos["tf"], pos["target"])]
    fn = pos.loc[keep, ["tf", "target", "score", "rank"]].rename(columns={"tf": "source"})
    return fn.reset_index(drop=True)


def node_degrees(shown: pd.DataFrame, tfs: Iterable[str]) -> pd.DataFrame:
    """Degree of every gene in the shown edges, sorted by degree (descending) then gene: columns gene, degree (the
    sort key, kept next to the name so a narrow table still shows it), out (targets regulated), in, role (TF /
    target)."""
    tfs = set(tfs)
    out_deg = shown["tf"].value_counts()
    in_deg = shown["target"].value_counts()
    genes = list(dict.fromkeys(list(shown["tf"]) + list(shown["target"])))
    df = pd.DataFrame({"gene": genes})
    df["role"] = ["TF" if g in tfs else "target" for g in genes]
    df["out"] = df["gene"].map(out_deg).fillna(0).astype(int)
    df["in"] = df["gene"].map(in_deg).fillna(0).astype(int)
    df["degree"] = df["out"] + df["in"]
    df = df[["gene", "degree", "out", "in", "role"]]
    return df.sort_values(["degree", "gene"], ascending=[False, True], kind="stable").reset_index(drop=True)


def graph_layout(
    edges: pd.DataFrame, nodes: Sequence[str] | None = None, seed: int = 0, iterations: int = 60
) -> pd.DataFrame:
    """Force-directed (Fruchterman–Reingold) 2-D positions: DataFrame[gene, x, y] for ``nodes`` (default: the
    genes of ``edges``), weighted by score. Compute it once for a large edge set and reuse it for every filtered
    view so nodes keep their place while the user moves the sliders."""
    g = nx.Graph()
    g.add_nodes_from(nodes if nodes is not None else [])
    for a, b, s in zip(edges["tf"], edges["target"], edges["score"]):
        if a != b:
            g.add_edge(a, b, weight=float(max(s, 1e-3)))
    if g.number_of_nodes() == 0:
        return pd.DataFrame({"gene": [], "x": [], "y": []})
    names = list(g.nodes)
    try:  # the dense solver is ~4x faster than networkx's sparse one above 500 nodes; same algorithm
        from networkx.drawing.layout import _fruchterman_reingold  # noqa: PLC0415

        adj = nx.to_numpy_array(g, nodelist=names, weight="weight")
        xy = _fruchterman_reingold(
            adj,
            k=None,
            pos=None,
            fixed=None,
            iterations=iterations,
            threshold=1e-4,
            dim=2,
            seed=np.random.RandomState(seed),
        )
        xy = np.asarray(xy, dtype=float)
        xy = (xy - xy.mean(axis=0)) / max(np.abs(xy - xy.mean(axis=0)).max(), 1e-12)
    except Exception:  # private helper moved: fall back to the public API
        pos = nx.spring_layout(g, seed=seed, iterations=iterations, weight="weight")
        xy = np.array([pos[n] for n in names], dtype=float)
    return pd.DataFrame({"gene": names, "x": xy[:, 0], "y": xy[:, 1]})
