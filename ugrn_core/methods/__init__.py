"""The method registry: one module per GRN method in this package, each defining ``SPEC = MethodSpec(...)``.

Adding a method means adding one file here (or calling ``register`` with a ``MethodSpec`` from anywhere); the rest of
the code asks the registry what a method is and does (its spec's roles: ``paper_table``, ``twin``, ``default_rank``, …). Look-ups are case-insensitive.

    >>> from ugrn_core import methods
    >>> methods.get("vvp").name
    'VVP'
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .base import SHUFFLED_SUFFIX, TWIN_SUFFIX, Family, MethodSpec, ProbeOption, ScoringContext, sigmoid

__all__ = ["SHUFFLED_SUFFIX", "TWIN_SUFFIX", "Family", "MethodSpec", "ScoringContext", "all_specs", "canonical", "comparisons", "control_method",
           "default_expression", "default_rank", "get", "markdown_table", "names", "probe_options", "ProbeOption", "probe_names", "probe_owner",
           "probes_of", "register", "role", "score_pairs", "sigmoid", "unregister", "with_role"]

_REGISTRY: dict[str, MethodSpec] = {}
# Discovery runs once per process, possibly from several threads at once (concurrent Streamlit sessions): it builds
# the registry in a local dict under this lock and publishes it with one assignment, so no thread ever sees a
# half-filled registry or fills it twice.
_LOCK = threading.RLock()
_BUILDING = False


def _discover() -> None:
    global _REGISTRY, _BUILDING
    if _REGISTRY:
        return
    with _LOCK:
        if _REGISTRY:  # another thread built it while this one waited
            return
        if _BUILDING:
            raise ImportError("a method module looked up the registry while it was being built (at import time); "
                              "look methods up inside functions instead")
        _BUILDING = True
        try:
            found = []
            for info in pkgutil.iter_modules(__path__):
                if info.name.startswith("_") or info.name == "base":
                    continue
                module = importlib.import_module(f"{__name__}.{info.name}")
                spec = getattr(module, "SPEC", None)
                if spec is None:
                    raise ImportError(f"method module {module.__name__} defines no SPEC")
                found.append(spec)
            registry: dict[str, MethodSpec] = {}
            for spec in sorted(found, key=lambda s: (s.order, s.name)):
                key = spec.name.lower()
                if key in registry:
                    raise ImportError(f"two method modules declare the name {spec.name!r}")
                registry[key] = spec
            _REGISTRY = registry  # publish once, complete
        finally:
            _BUILDING = False


def all_specs() -> list[MethodSpec]:
    """Every registered method, in display order."""
    _discover()
    return list(_REGISTRY.values())


def names(**where) -> list[str]:
    """Method names in display order, filtered by spec attributes, e.g. ``names(family=Family.CONTROL)``,
    ``names(trainable=True)``, ``names(needs_expression=False)``."""
    return [s.name for s in all_specs() if all(getattr(s, k) == v for k, v in where.items())]


def get(name: str) -> MethodSpec:
    """The spec of ``name`` (case-insensitive). Raises ParameterError (a ValueError) naming the known methods."""
    _discover()
    spec = _REGISTRY.get(str(name).strip().lower())
    if spec is None:
        raise ParameterError(f"unknown method {name!r}; known: {', '.join(names())}; expected one of those (any case)")
    return spec


def probe_owner(probe: str) -> MethodSpec:
    """The method that computes (``compute_probe``) the cached probe array ``probe`` (e.g. "VVP", "Pert").

    Raises: ParameterError (a ValueError) naming the known probes.
    """
    for spec in all_specs():
        if spec.probe == probe and spec.compute_probe is not None:
            return spec
    raise ParameterError(f"unknown probe {probe!r}; known: {', '.join(probe_names())}")


def probe_names() -> list[str]:
    """Names of the cached probe arrays, in display order of the methods that compute them."""
    return [s.probe for s in all_specs() if s.probe and s.compute_probe is not None]


def probe_options() -> list[ProbeOption]:
    """The probe parameters every registered method declares (``MethodSpec.probe_options``), in display order, each
    flag once: what ``ugrn probe|train|benchmark`` offer as flags."""
    seen, out = set(), []
    for spec in all_specs():
        for option in spec.probe_options:
            if option.flag not in seen:
                seen.add(option.flag)
                out.append(option)
    return out


def probes_of(method_names) -> list[str]:
    """Probe arrays that ``method_names`` read, their ensemble members included, in display order."""
    want, todo = set(), [get(n) for n in method_names]
    while todo:
        spec = todo.pop()
        todo += [get(m) for m in spec.members]
        if spec.probe:
            want.add(spec.probe)
    return [p for p in probe_names() if p in want]


def canonical(names_or_csv) -> list[str]:
    """Canonical names for a comma-separated string or list of method names (case-insensitive, order kept)."""
    items = names_or_csv.split(",") if isinstance(names_or_csv, str) else list(names_or_csv)
    return [get(n).name for n in items if str(n).strip()]


def markdown_table() -> str:
    """The registry as a Markdown table (README "Methods" section; ``python -m ugrn_core.methods`` prints it)."""
    yes = lambda flag: "yes" if flag else "no"  # noqa: E731
    rows = ["| method | family | needs expression | needs training labels | what it is (reference) |",
            "|---|---|---|---|---|"]
    for s in all_specs():
        what = s.description.replace("|", "\\|")
        rows.append(f"| {s.name.replace('|', chr(92) + '|')} | {s.family.value} | {yes(s.needs_expression)} | {yes(s.needs_labels)} | {what} ({s.reference}) |")
    return "\n".join(rows) + "\n"


def register(spec: MethodSpec) -> MethodSpec:
    """Add a method defined outside this package (a plugin, a notebook, a test) to the registry; returns it.

    Everything that asks the registry (``ugrn predict --method``, ``ugrn train``, the benchmark presets with
    ``paper_table=True``, the app's method pickers) sees it from then on. The new registry is published with one
    assignment under the discovery lock, as discovery does. Raises: ParameterError when another method already has
    its name (any case).
    """
    global _REGISTRY
    _discover()
    with _LOCK:
        key = spec.name.lower()
        if key in _REGISTRY and _REGISTRY[key] is not spec:
            raise ParameterError(f"a method named {spec.name!r} is already registered; expected a new name")
        specs = [s for k, s in _REGISTRY.items() if k != key] + [spec]
        _REGISTRY = {s.name.lower(): s for s in sorted(specs, key=lambda s: (s.order, s.name))}
    return spec


def unregister(name: str) -> None:
    """Remove a method added with ``register`` (tests); unknown names are ignored."""
    global _REGISTRY
    _discover()
    with _LOCK:
        _REGISTRY = {k: s for k, s in _REGISTRY.items() if k != str(name).strip().lower()}


def _one(flag: str) -> str:
    found = names(**{flag: True})
    if len(found) != 1:
        raise ImportError(f"exactly one method must declare {flag}=True; found {found}")
    return found[0]


def default_rank() -> str:
    """The method ``ugrn predict`` and the app's Network page rank by default (the spec with ``default_rank``)."""
    return _one("default_rank")


def default_expression() -> str:
    """The expression method the Network page and ``api.expression_network`` use by default."""
    return _one("default_expression")


def comparisons() -> list[tuple[str, str]]:
    """The benchmark report's paired tests, from every method's ``comparisons``: the default method's first, then
    the others' in display order."""
    specs = sorted(all_specs(), key=lambda s: not s.default_rank)
    return [c for s in specs for c in s.comparisons]


def control_method(kind: str) -> MethodSpec:
    """The method computing benchmark control ``kind`` (e.g. "degree-prior"). Raises ParameterError if none."""
    for s in all_specs():
        if s.control_kind == kind:
            return s
    raise ParameterError(f"no method computes the control {kind!r}")


def with_role(role_name: str) -> list[str]:
    """Names of the methods declaring ``role_name`` in their spec's ``roles``, in display order (possibly none)."""
    return [s.name for s in all_specs() if role_name in s.roles]


def role(role_name: str) -> str:
    """The one method declaring ``role_name`` in its ``roles``. Raises ParameterError when none or several do."""
    found = with_role(role_name)
    if len(found) != 1:
        raise ParameterError(f"exactly one method must declare the role {role_name!r}; found {found}")
    return found[0]


def score_pairs(probes: "DatasetProbes | None", pairs: pd.DataFrame, methods, translator: "Translator | None" = None,
                progress=None, train_dataset: "GRNDataset | None" = None, train_pairs: pd.DataFrame | None = None,
                seed: int = 0, *, dataset: "GRNDataset | None" = None, cache: dict | None = None) -> pd.DataFrame:
    """Scores of each method for ``pairs`` (columns tf, target) of ``probes.dataset`` (or ``dataset`` when no model
    is involved: ``probes`` None): one float64 column per method. The one runner every method goes through.

    Builds one ``methods.ScoringContext`` (dataset, probes, translator, training dataset and pairs, seed, progress,
    ``cache``: a memo shared with earlier calls, e.g. an expression method's fitted model) and calls each method's
    ``run``. Translator methods give probabilities in [0, 1]; others their own scores
    (higher = more likely an edge). Methods that need expression give NaN on a dataset without it.
    Columns are the canonical method names (``methods`` may be given in any case).
    Raises: ValueError for an unknown method, a translator method without a translator (or with one trained for
    another checkpoint: ``Translator.check_model``).
    """
    specs = [get(m) for m in methods]
    if translator is not None and any(s.uses_translator for s in specs):
        translator.check_model(probes.fm)
    ds = probes.dataset if probes is not None else dataset
    if ds is None:
        raise ParameterError("score_pairs: give probes or a dataset")
    ctx = ScoringContext(dataset=ds, probes=probes, translator=translator, train_dataset=train_dataset,
                         train_pairs=train_pairs, seed=seed, progress=progress,
                         cache=cache if cache is not None else {})
    out = pairs.copy()
    for spec in specs:
        out[spec.name] = np.nan if spec.na_reason(ds) else spec.run(ctx, pairs)
    return out
