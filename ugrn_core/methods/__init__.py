"""The method registry: one module per GRN method in this package, each defining ``SPEC = MethodSpec(...)``.

Adding a method means adding one file here; nothing else compares method names. Look-ups are case-insensitive.

    >>> from ugrn_core import methods
    >>> methods.get("vvp").name
    'VVP'
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

from ..errors import ParameterError
from .base import Family, MethodSpec, ScoringContext, sigmoid  # noqa: F401

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
