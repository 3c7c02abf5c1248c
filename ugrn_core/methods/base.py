"""The method contract: what every GRN method declares once, and the context it is scored in.

A method is one module in ``ugrn_core/methods/`` that defines ``SPEC = MethodSpec(...)``. The registry
(``ugrn_core.methods``) discovers the modules; features, translator, predict, benchmark, api, CLI and app ask it what a
method needs and does instead of comparing method names (decoupler keeps one file per method the same way).

Two kinds of behaviour:

- ``features(probes, pairs, progress) -> float32 (P, D)``: a *translator* method (family ``PROBE_TRANSLATOR``)
  turns each TF→target pair into a feature row; a projector is trained on them (``translator.Translator``).
- ``score(ctx, pairs) -> float64 (P,)``: every other method scores pairs directly (higher = more likely an edge):
  zero-shot probes, expression-based peers (|Pearson|, GRNBoost2, …), supervised baselines, controls, ensembles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

import numpy as np
import pandas as pd

from ..errors import CheckpointError, DataError, ParameterError

# Type hints name GRNDataset (``data.datasets``), DatasetProbes and ProbeParams (``probes.features``) and Translator
# (``translator``) as strings: the method contract imports none of them, so the layers below never import the registry
# back (data → foundation model → probes → methods → translator / prediction).

ProgressFn = Callable[[int, int, str], None]

# the benchmark's control variants of a method, as row names: "X (twin)" (scored on the random-init twin checkpoint),
# "X (shuffled labels)" (a translator trained on permuted labels); ``MethodSpec.comparisons`` name them this way
TWIN_SUFFIX, SHUFFLED_SUFFIX = " (twin)", " (shuffled labels)"


class Family(str, Enum):
    """What kind of method it is (how it is trained and what it reads)."""

    PROBE_TRANSLATOR = "probe + translator"  # foundation-model features → MLP trained on a labelled dataset
    ZERO_SHOT_PROBE = "zero-shot probe"  # foundation-model score used as is (no training)
    EXPRESSION_UNSUPERVISED = "expression-based unsupervised"  # run within a dataset on its expression, no labels
    SUPERVISED_BASELINE = "supervised baseline"  # trained on labelled pairs without the foundation model
    CONTROL = "control"  # a reference that should carry no regulatory knowledge (degree prior, shuffled labels)


@dataclass
class ScoringContext:
    """Everything a ``score`` function may read for one test dataset.

    Attributes:
        dataset: the dataset whose pairs are scored (genes, TFs, optional expression and ground truth).
        probes: its foundation-model probes (``features.DatasetProbes``), or None when no model is involved.
        translator: trained projectors (``translator.Translator``) for translator-based methods, else None.
        train_dataset: the labelled dataset training happened on (cross-dataset protocol), else None.
        train_pairs: labelled training pairs, DataFrame [tf, target, label (0/1)], in ``train_dataset``'s symbols.
        seed: seed for stochastic methods.
        progress: ``progress(done, total, message)`` callback or None.
        cache: per-context memo shared by the methods scored in it (e.g. an ensemble's member logits).
    """

    dataset: "GRNDataset"
    probes: "DatasetProbes | None" = None
    translator: "Translator | None" = None
    train_dataset: "GRNDataset | None" = None
    train_pairs: pd.DataFrame | None = None
    seed: int = 0
    progress: ProgressFn | None = None
    cache: dict = field(default_factory=dict)

    def features(self, spec: "MethodSpec", pairs: pd.DataFrame) -> np.ndarray:
        """Pair features float32 (P, D) of translator method ``spec`` for ``pairs``, computed once per context.

        A context scores one pair set; the memo is keyed by method and the pairs' identity.
        Raises: ValueError when the context has no probes or ``spec`` has no features.
        """
        if spec.features is None or self.probes is None:
            raise ParameterError(f"{spec.name} has no pair features here (a translator method with probes is needed)")
        key = ("features", spec.name, id(pairs))
        if key not in self.cache:
            self.cache[key] = spec.features(self.probes, pairs, self.progress)
        return self.cache[key]

    def logits(self, spec: "MethodSpec", pairs: pd.DataFrame) -> np.ndarray:
        """Logits float64 (P,) of the translator's projector for ``method`` on ``pairs`` (UGRN Eq. 5 before the sigmoid).

        Raises: ValueError when there is no translator or it has no projector for ``spec`` (names what it has).
        """
        name = spec.name
        if self.translator is None:
            raise CheckpointError(f"{name} needs a trained translator")
        if name not in self.translator.projectors:
            raise CheckpointError(f"translator (trained on {self.translator.trained_on}) has no projector for {name}; "
                             f"it has {list(self.translator.projectors)}")
        key = ("logits", name, id(pairs))
        if key not in self.cache:
            self.cache[key] = self.translator.projectors[name].logits(self.features(spec, pairs))
        return self.cache[key]


@dataclass(frozen=True)
class ProbeOption:
    """One probe parameter a method declares in its file: the ``probes.params.ProbeParams`` field it reads (recorded
    in every cache entry, translator and result), its command-line flag and help (``ugrn probe|train|benchmark``
    build their flags from the registry: ``methods.probe_options``).

    Attributes:
        field: the ``ProbeParams`` attribute ("v0", "target_values", "base_values").
        flag: the CLI flag ("--v0").
        help: the flag's help text.
        many: a comma-separated list of numbers (a tuple field) rather than one number.
    """

    field: str
    flag: str
    help: str
    many: bool = False

    def key(self, params: "ProbeParams") -> dict:
        """{field: value} of ``params`` (what enters a probe's cache key)."""
        return {self.field: getattr(params, self.field)}


@dataclass(frozen=True)
class MethodSpec:
    """One GRN method, declared once.

    Attributes:
        name: display name used in tables, CLI and app ("VVP", "Origin-Pert", "GRNBoost2"); looked up case-insensitively.
        family: ``Family``.
        description: one line for help texts and the app.
        reference: paper and equation it implements ("UGRN Eq. 8").
        needs_expression: reads the dataset's expression; "n/a" on datasets without it.
        needs_labels: needs labelled training pairs (a translator, a supervised baseline, the degree prior).
        context_dependent: its scores depend on the number of context genes (VVP, GDT, Pert respond ~1/N).
        members: for an ensemble, the methods it combines (Ens: VVP, GDT); their projectors are trained for it.
        probe: the cached probe array it reads ("VVP", "GDT", "Pert", "Attn", "Emb"), or None.
        cache_params: probe parameters → dict of what enters the probe cache key besides the context genes.
        probe_options: the probe parameters it reads, with their CLI flags (``ProbeOption``; VVP: v0 and the target
            values, GDT: the base values); its ``cache_params`` are usually built from them (``probe_key``).
        probe_rows: for the method that owns a probe: ``(n_scored_genes, params) -> (forward rows, Jacobian rows)``
            of model work computing it takes (for time estimates before a run); the scored genes are all context
            genes unless the probes run in a background context (``features.DatasetProbes.scored``).
        compute_probe: for the method that owns probe array ``probe``: ``(probes, progress) -> float32 (K, S, S)``
            indexed [k, source, target] over the scored genes (``probes.scored``; all N context genes without a
            background). A probe of a method that ``needs_expression`` is taken
            at the dataset's mean cell, which then enters its cache key too.
        probe_lines: for the method that owns a probe, optionally: ``(probes, idx, progress) -> float32 (K, m, S)``,
            the probe's *lines* at scored-gene indices ``idx`` (m,) computed from only the model rows they need:
            ``P[:, idx[r], :]`` (``line_axis`` "source") or ``P[:, :, idx[r]]`` ("target"); equal to those of
            ``compute_probe``'s array. The fast pair path reads pairs from them (``probes.pairs.PairProbes``).
        line_axis: "source" or "target", what a line of ``probe_lines`` holds (see there).
        features: translator methods: ``(probes, pairs, progress) -> float32 (P, D)`` pair features.
        jacobian_block: its probe array is the Jacobian of the reconstruction at each of ``params.base_values``
            (``P[k, s, t] = J_k[t, s]``), so TF→gene pairs can read only its TF rows and columns (``probes.blocks``).
        score: all other methods: ``(ctx: ScoringContext, pairs) -> float64 (P,)``, higher = more likely an edge.
        order: position in tables and pickers (lower first); ties by name.

    Roles (what the rest of the code asks the registry instead of listing names):
        paper_table: a model method of the UGRN paper's tables (``bench.suite.model_methods``: the default
            methods of ``ugrn benchmark`` and its presets).
        twin: also scored on the random-init twin checkpoint in the benchmark (``bench.controls``).
        shuffled_control: also scored with a translator trained on shuffled labels in the benchmark.
        default_trained: its projector is trained by default (``ugrn train``, the app's Train page).
        default_rank: the method ``ugrn predict`` and the app's Network page rank by default (one method).
        default_expression: the expression method the app's Network page and ``api.expression_network`` use by
            default (one method).
        default_peer: an expression peer the benchmark runs by default.
        comparisons: paired tests the benchmark report makes, as (this method or its variant, other method or
            variant) names, e.g. ("Ens", "Emb") or ("Ens", "Ens (twin)").
        quick_options: settings of a quick fit, as (name, value) pairs (the app's on-demand fits of expression methods:
            ``sem.scoring.quick_settings``); the SEM methods share DeepSEM's.
        control_kind: the benchmark control (``bench.suite.CONTROL_KINDS``) this method computes, e.g.
            "degree-prior".
        roles: further roles the reports ask for by name (``methods.with_role``, ``methods.role``); the README's
            generated results (``bench.readme_figures``) read: "summary column" (a column of the README's result
            tables), "table1 column" (a column of its Table 1 table only), "embedding translator" (the translator
            on the two genes' embeddings, the model baseline), "zero-shot knockout" (the zero-shot in-silico
            knockout), "zero-shot attention" (the zero-shot attention score), "deep expression peer" (the deep
            learning expression method the findings compare with).
    """

    name: str
    family: Family
    description: str
    reference: str
    needs_expression: bool = False
    needs_labels: bool = False
    context_dependent: bool = False
    members: tuple[str, ...] = ()
    probe: str | None = None
    cache_params: Callable[["ProbeParams"], dict] | None = None
    probe_options: tuple[ProbeOption, ...] = ()
    compute_probe: Callable[["DatasetProbes", ProgressFn | None], np.ndarray] | None = None
    probe_rows: Callable[[int, "ProbeParams"], tuple[int, int]] | None = None
    probe_lines: Callable[["DatasetProbes", np.ndarray, ProgressFn | None], np.ndarray] | None = None
    line_axis: str = "source"
    features: Callable[["DatasetProbes", pd.DataFrame, ProgressFn | None], np.ndarray] | None = None
    jacobian_block: bool = False
    score: Callable[[ScoringContext, pd.DataFrame], np.ndarray] | None = None
    order: float = 100.0
    paper_table: bool = False
    twin: bool = False
    shuffled_control: bool = False
    default_trained: bool = False
    default_rank: bool = False
    default_expression: bool = False
    default_peer: bool = False
    comparisons: tuple[tuple[str, str], ...] = ()
    control_kind: str | None = None
    quick_options: tuple[tuple[str, object], ...] = ()
    roles: tuple[str, ...] = ()

    @property
    def trainable(self) -> bool:
        """True when a projector is trained on this method's features (family PROBE_TRANSLATOR)."""
        return self.features is not None

    @property
    def zero_shot(self) -> bool:
        """True when the method uses no training labels at all."""
        return not self.needs_labels

    @property
    def uses_translator(self) -> bool:
        """True when its scores come from a trained translator (its own projector, or its members' for an ensemble)."""
        return self.family is Family.PROBE_TRANSLATOR

    def run(self, ctx: ScoringContext, pairs: pd.DataFrame) -> np.ndarray:
        """Scores float64 (P,) of ``pairs`` (columns tf, target), higher = more likely an edge.

        Trainable methods: the translator's regulation probability sigmoid(logit) in [0, 1] (UGRN Eq. 5);
        all others: ``score(ctx, pairs)``.
        Raises: ValueError when the method needs expression and ``ctx.dataset`` has none, or needs a translator
        that ``ctx`` lacks.
        """
        if self.needs_expression and not ctx.dataset.has_expression:
            raise DataError(f"{self.name} needs expression and dataset {ctx.dataset.name} has none")
        if self.trainable:
            return sigmoid(ctx.logits(self, pairs))
        if self.score is None:
            raise ParameterError(f"method {self.name} defines neither features nor score")
        return np.asarray(self.score(ctx, pairs), dtype=np.float64)

    def na_reason(self, dataset: "GRNDataset") -> str | None:
        """Why this method cannot score ``dataset`` ("needs expression; … has none"), or None when it can."""
        if self.needs_expression and not dataset.has_expression:
            return f"{self.name} needs expression; {dataset.name} has none"
        return None


def probe_key(options: tuple[ProbeOption, ...]) -> Callable[["ProbeParams"], dict]:
    """A ``cache_params`` function from a method's ``probe_options``: {field: value} in the options' order."""
    def key(params: "ProbeParams") -> dict:
        out = {}
        for option in options:
            out.update(option.key(params))
        return out
    return key


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + e^(−z)), float64, elementwise."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))
