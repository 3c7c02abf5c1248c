"""Streamlit glue shared by every page: session-state defaults, cached wrappers around ``ugrn_core.api``,
progress bars, upload validation and the sidebar summary. No science here.

Shared selections live in ``st.session_state``:

- ``ckpt_path``: checkpoint folder ("" = the bundled compact scGPT; ``UGRN_APP_CHECKPOINT`` sets the default);
- ``dataset_key``: a BEELINE dataset name (default "STRING/mHSC-L/500", or ``UGRN_APP_DATASET``) or
  "upload:<name>:<digest>" for an upload;
- ``translator_path``: translator folder ("" = the bundled translator trained on STRING/hESC/500;
  ``UGRN_APP_TRANSLATOR`` sets the default);
- ``uploads``: upload key → GRNDataset.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import streamlit as st

from ugrn_core import api

from . import MAX_GRAPH_EDGES, REPO_ROOT, RESULTS_DIR

check_allowed_path, UGRNInputError = api.check_allowed_path, api.UGRNInputError
DEFAULT_DATASET = os.environ.get("UGRN_APP_DATASET", "STRING/mHSC-L/500")
TRANSLATOR_DIR = Path(os.environ.get("UGRN_TRANSLATOR_DIR") or REPO_ROOT / "results" / "translators")
MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
BUNDLED = "bundled"

# Home-page widget keys kept alive while the user is on another page (Streamlit drops keys of unrendered widgets).
PERSISTENT_WIDGETS = (
    "home_ckpt_mode",
    "home_ckpt_folder",
    "home_ds_mode",
    "home_beeline",
    "home_translator",
    "home_species",
    "home_upload_name",
    "home_paste",
    "home_cells_matrix",
    "home_cells_groupby",
    "home_cells_species",
    "home_cells_genes",
)


# ----------------------------------------------------------------------------------------------- state
def init_state() -> None:
    """Defaults for the shared selections, so any page works when opened directly."""
    ss = st.session_state
    for key, default in (("ckpt_path", api.default_checkpoint_dir), ("translator_path", api.default_translator_dir)):
        path, origin = default()  # the core's one resolver: UGRN_APP_CHECKPOINT / UGRN_APP_TRANSLATOR, else bundled
        ss.setdefault(key, "" if origin == api.BUNDLED else str(path))
    ss.setdefault("uploads", {})
    if "dataset_key" not in ss:
        names = list_datasets_cached()
        ss["dataset_key"] = DEFAULT_DATASET if (DEFAULT_DATASET in names or not names) else names[0]
    for k in PERSISTENT_WIDGETS:
        if k in ss:
            ss[k] = ss[k]


# app.py's st.Page objects (filled by app.py before a page runs), for st.page_link / st.switch_page
NAV: dict[str, Any] = {}


def setup_page(title: str, icon: str = "🧬") -> None:
    """Common first lines of every page: state defaults (app.py sets the page config and the navigation)."""
    init_state()


def home_link(label: str = "Change on Home") -> None:
    if "home" in NAV:
        st.page_link(NAV["home"], label=label, icon="🏠")


# ----------------------------------------------------------------------------------------------- cached loaders
@st.cache_data(show_spinner=False, ttl=600)
def list_datasets_cached() -> list[str]:
    try:
        return list(api.list_datasets())
    except (FileNotFoundError, ValueError):
        return []


@st.cache_resource(show_spinner="Loading the foundation model…", max_entries=4)
def _get_model(ckpt_path: str):
    return api.load_model(ckpt_path or api.DEFAULT_CHECKPOINT)  # "" = the bundled model, whatever the environment


def get_model(ckpt_path: str):
    """``api.load_model`` once per checkpoint folder ("" = bundled), shared by every session of this server
    (``st.cache_resource``). A typed folder must lie inside ``UGRN_ALLOWED_ROOTS`` when that is set.

    Raises: ``ParameterError`` for a folder outside the allowed roots; the checkpoint loader's errors."""
    if ckpt_path:
        check_path(ckpt_path, "checkpoint folder")
    return _get_model(ckpt_path)


def check_path(path: str, what: str) -> Path:
    """A user-typed folder, resolved, after checking it against ``UGRN_ALLOWED_ROOTS`` (``config.check_allowed_path``).

    Raises: ``ParameterError`` naming the setting when the path is outside every allowed root."""
    return check_allowed_path(path, what)


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=16)
def get_beeline(name: str):
    return api.load_beeline(name)


def _mtime(path: str) -> float:
    p = Path(path) if path else Path(api.DEFAULT_TRANSLATOR)
    try:
        return max((f.stat().st_mtime for f in p.rglob("*") if f.is_file()), default=p.stat().st_mtime)
    except OSError:
        return 0.0


@st.cache_resource(show_spinner="Loading the translator…", max_entries=8)
def _get_translator(path: str, mtime: float):
    return api.load_translator(path or api.DEFAULT_TRANSLATOR)  # "" = the bundled translator


def get_translator(path: str):
    """``api.load_translator`` once per folder and modification time ("" = bundled)."""
    return _get_translator(path, _mtime(path))


def _warm_up() -> None:
    """Load the default checkpoint, translator and dataset into the very ``st.cache_resource`` entries the pages read
    (``_get_model``, ``_get_translator``, ``get_beeline``), so sessions find them loaded instead of each waiting on
    the first. A failure here is left to the page that needs the object, which shows it in its error box."""
    try:
        _get_model(os.environ.get("UGRN_APP_CHECKPOINT", ""))
        get_translator(os.environ.get("UGRN_APP_TRANSLATOR", ""))
        if DEFAULT_DATASET in list_datasets_cached():
            get_beeline(DEFAULT_DATASET)
    except Exception:  # noqa: BLE001 - reported by the page that loads it
        pass


def start_warm_up() -> threading.Thread:
    """Start ``_warm_up`` once per server process, in a background thread (called when this module is first
    imported, i.e. when the server runs its first session's script). Returns the thread (already started)."""
    global _WARM_UP
    with _WARM_UP_LOCK:
        if _WARM_UP is None:
            _WARM_UP = threading.Thread(target=_warm_up, name="ugrn-warm-up", daemon=True)
            _WARM_UP.start()
        return _WARM_UP


_WARM_UP: threading.Thread | None = None
_WARM_UP_LOCK = threading.Lock()


def saved_translators() -> dict[str, str]:
    """Label → folder of every translator the user can pick: the bundled one plus those saved by the Train page."""
    out = {"bundled (trained on STRING/hESC/500)": ""}
    if TRANSLATOR_DIR.is_dir():
        for d in sorted(p for p in TRANSLATOR_DIR.iterdir() if p.is_dir() and not p.name.startswith(".")):
            out[f"saved: {d.name}"] = str(d)
    return out


def translator_key(path: str) -> str:
    return f"{path or BUNDLED}@{_mtime(path):.0f}"


@dataclass
class Context:
    """What every page works on: the model, the dataset, the translator and the keys that identify them."""

    fm: Any
    ds: Any
    ds_key: str
    translator: Any
    tr_key: str

    @property
    def ckpt_id(self) -> str:
        return str(getattr(self.fm, "checkpoint_id", getattr(self.fm, "path", "model")))

    @property
    def params(self):
        return getattr(self.translator, "params", None) or api.ProbeParams()


def get_dataset(key: str):
    """The GRNDataset behind a ``dataset_key`` (BEELINE name or an upload key)."""
    if key.startswith("upload:"):
        ds = st.session_state.get("uploads", {}).get(key)
        if ds is None:
            raise ValueError(
                f"The uploaded dataset '{key.split(':')[1]}' is no longer in this session; "
                "upload it again on the Home page."
            )
        return ds
    return get_beeline(key)


def _fail(what: str, e: Exception) -> None:
    st.error(f"{what}: {e}")
    home_link("Change the selection on the Home page")


def load_context(need_translator: bool = True) -> Context | None:
    """Load the selected model, dataset and translator; on failure show the reason in the page and return None."""
    ss = st.session_state
    try:
        fm = get_model(ss["ckpt_path"])
    except Exception as e:  # a bad folder must not crash a page
        _fail(f"Could not load the checkpoint '{ss['ckpt_path'] or api.DEFAULT_CHECKPOINT}'", e)
        return None
    try:
        with warnings_shown():  # e.g. a dataset folder without Label.csv
            ds = get_dataset(ss["dataset_key"])
    except Exception as e:
        _fail(f"Could not load the dataset '{ss['dataset_key']}'", e)
        return None
    tr = None
    if need_translator:
        try:
            tr = get_translator(ss["translator_path"])
        except Exception as e:
            _fail(f"Could not load the translator '{ss['translator_path'] or api.DEFAULT_TRANSLATOR}'", e)
            return None
        try:
            tr.check_model(fm)
        except ValueError as e:
            _fail("The translator does not fit the checkpoint", e)
            return None
    return Context(fm, ds, ss["dataset_key"], tr, translator_key(ss["translator_path"]))


def require_context(need_translator: bool = True) -> Context:
    ctx = load_context(need_translator)
    if ctx is None:
        st.stop()
    return ctx


def dataset_label(key: str) -> str:
    return f"upload “{key.split(':')[1]}”" if key.startswith("upload:") else key


def sidebar_summary() -> None:
    """The current selection, shown in the sidebar of every page."""
    ss = st.session_state
    with st.sidebar:
        st.markdown("**Current selection**")
        st.caption(
            f"Checkpoint: {Path(ss['ckpt_path']).name if ss['ckpt_path'] else 'bundled compact scGPT'}  \n"
            f"Dataset: {dataset_label(ss['dataset_key'])}  \n"
            f"Translator: {Path(ss['translator_path']).name if ss['translator_path'] else 'bundled (STRING/hESC/500)'}  \n"
            f"Device: {api.device_name()}"
        )
        home_link()


# ----------------------------------------------------------------------------------------------- progress
def progress_callback(text: str) -> tuple[Any, Callable[[int, int, str], None]]:
    """An ``st.progress`` bar and a ``progress(done, total, message)`` callback for ``ugrn_core.api`` (throttled to
    1% steps so a long run sends ~100 updates)."""
    bar = st.progress(0.0, text=text)
    last = {"frac": -1.0, "msg": None}

    def cb(done: int, total: int, message: str = "") -> None:
        frac = 0.0 if not total else min(max(float(done) / float(total), 0.0), 1.0)
        if frac - last["frac"] >= 0.01 or message != last["msg"] or frac >= 1.0:
            last.update(frac=frac, msg=message)
            bar.progress(frac, text=f"{text} — {message}" if message else text)

    return bar, cb


# ----------------------------------------------------------------------------------------------- cached science calls
@st.cache_data(show_spinner=False, max_entries=32)
def predicted_edges(ckpt_id: str, ds_key: str, tr_key: str, method: str, _fm, _ds, _tr,
                    background: str = "auto") -> pd.DataFrame:
    """``api.predict_edges`` once per (checkpoint, dataset, translator, method, background choice: "auto" / "none");
    the progress bar is made inside so Streamlit's cache replay of it is self-contained."""
    bar, cb = progress_callback(f"Predicting the {method} network of {dataset_label(ds_key)}")
    df = api.predict_edges(_fm, _ds, _tr, method=method, progress=cb, background=background)
    bar.empty()
    return df


@st.cache_data(show_spinner=False, max_entries=256)
def pair_curves(ckpt_id: str, ds_key: str, source: str, target: str, params_json: str, _fm, _ds, _params) -> dict:
    """``api.pair_curves`` once per (checkpoint, dataset, pair, probe parameters)."""
    with st.spinner(f"Probing {source} ↔ {target} with virtual cells…"):
        return api.pair_curves(_fm, _ds, source, target, params=_params)


@st.cache_data(show_spinner=False, max_entries=256)
def pair_probabilities(
    ckpt_id: str, ds_key: str, tr_key: str, source: str, target: str, methods: tuple, _fm, _ds, _tr, _note: str = ""
) -> pd.DataFrame:
    """``api.predict_pairs`` of ``methods`` for both directions of one pair: rows source→target, target→source.
    ``_note`` (not part of the cache key) is added to the progress bar's text, e.g. the one-off probe estimate."""
    bar, cb = progress_callback(f"Scoring the pair ({', '.join(methods)}){_note}")
    pairs = pd.DataFrame({"tf": [source, target], "target": [target, source]})
    out = api.predict_pairs(_fm, _ds, _tr, pairs, methods=list(methods), progress=cb)
    bar.empty()
    return out


@st.cache_data(show_spinner="Laying out the network…", max_entries=32)
def layout_cached(ckpt_id: str, ds_key: str, tr_key: str, method: str, _edges: pd.DataFrame) -> pd.DataFrame:
    top = _edges.sort_values("score", ascending=False, kind="stable").head(MAX_GRAPH_EDGES)
    return api.graph_layout(top)


def params_json(params) -> str:
    return json.dumps(params.to_dict() if hasattr(params, "to_dict") else params, sort_keys=True, default=str)


# ----------------------------------------------------------------------------------------------- uploads
def upload_ok(uploaded, what: str) -> bool:
    """Size checks for an ``st.file_uploader`` result; shows the problem with ``st.error``."""
    if uploaded is None:
        return False
    size = getattr(uploaded, "size", None)
    if size is None:
        size = len(uploaded.getvalue())
    if size > MAX_UPLOAD_BYTES:
        st.error(
            f"The {what} '{uploaded.name}' is {size / 1024 / 1024:.1f} MB; the limit is {MAX_UPLOAD_MB} MB. "
            "Subset it to the genes you need (or use .h5ad, which is smaller) and upload again."
        )
        return False
    if size == 0:
        st.error(f"The {what} '{uploaded.name}' is empty.")
        return False
    return True


def methods_table() -> pd.DataFrame:
    """One row per registered method (``api.methods``): name, family, what it needs, description, reference."""
    return pd.DataFrame(
        [
            {
                "method": s.name,
                "family": s.family.value,
                "needs expression": s.needs_expression,
                "needs training labels": s.needs_labels,
                "depends on context size": s.context_dependent,
                "combines": ", ".join(s.members),
                "description": s.description,
                "reference": s.reference,
            }
            for s in api.methods.all_specs()
        ]
    )


def method_help(names) -> str:
    """Help text for a method picker: one line per method with its description and what it needs (from the specs)."""
    lines = []
    for name in names:
        s = api.methods.get(name)
        needs = [w for w, flag in (("expression", s.needs_expression), ("a trained translator", s.uses_translator)) if flag]
        lines.append(f"- **{s.name}** ({s.reference}): {s.description}" + (f"; needs {' and '.join(needs)}" if needs else ""))
    return "\n".join(lines)


def safe_call(what: str, fn: Callable, *args, **kwargs):
    """Run a reader / builder; the project's own input errors (``errors.UGRNInputError``: a bad file, gene or
    parameter, the message naming it) become an ``st.error`` in the page and None is returned. Anything else is a
    bug and propagates. (Its warnings are not shown: the pages call it for the vocabulary mapping and the context
    size, which they show themselves.)"""
    try:
        return fn(*args, **kwargs)
    except UGRNInputError as e:
        st.error(str(e))
    return None


@contextlib.contextmanager
def warnings_shown():
    """Show the warnings raised inside the block (e.g. ugrn_core's "no Label.csv …", "mapped 5/8 genes …") in the
    page, one ``st.warning`` per distinct message with whitespace collapsed to one line, instead of Python's
    file:line format on the server's stderr. Shown also when the block raises.

    ``warnings.catch_warnings`` swaps process-wide state: a warning raised at the same moment by another session's
    thread can land in this page's list (shown here) or outside it (server log), never lost from both.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for text in dict.fromkeys(" ".join(str(w.message).split()) for w in caught):
                st.warning(text)


@contextlib.contextmanager
def warnings_kept():
    """Collect the warnings raised inside the block as one-line messages (distinct, in order) in the list it yields,
    for a page to show on every rerun (``warnings_shown`` shows them once)."""
    kept: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield kept
        finally:
            kept.extend(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))


def check_output(path: str | os.PathLike, kind: str, what: str, show: Callable[[str], Any] | None = None) -> bool:
    """True when output ``path`` can be written (``api.check_writable_output``: kind "file" / "folder" / "into",
    checked before any work, creating nothing); otherwise the reason, naming the path and what was expected, is
    shown with ``show`` (default ``st.error``, prefixed by nothing) and False returned."""
    try:
        api.check_writable_output(path, kind, what)
    except UGRNInputError as e:
        (show or st.error)(str(e))
        return False
    return True


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:12]


# ------------------------------------------------------------------------------------------- Network page helpers
def expression_methods(ds) -> list[str]:
    """Registry methods that infer a network from ``ds``'s own expression (DeepSEM, InfoSEM-B/BC, ...); [] without
    expression."""
    if ds is None or not ds.has_expression:
        return []
    registry = api.methods
    return [n for n in registry.names(family=registry.Family.EXPRESSION_UNSUPERVISED) if registry.get(n).score]


def expression_edges(ctx, method: str):
    """Edges [tf, target, score, label] of expression method ``method`` on the page's dataset, fitted on demand
    (a button; results kept for the session and SEM fits cached on disk), or None while not fitted yet."""
    store = st.session_state.setdefault("expr_edges", {})
    key = (ctx.ds_key, method)
    if key in store:
        return store[key]
    quick = api.sem_quick_settings(method)
    st.info(
        f"**{method}** is fitted on this dataset's own expression (every TF × gene pair), not by the translator. "
        f"Quick settings ({quick['epochs']} epochs, hidden {quick['hidden']}; about 1–3 min per fit "
        "on 2 CPU cores, cached on disk). InfoSEM uses scGPT's gene embeddings as its prior; InfoSEM-BC also uses the "
        "dataset's known edges as its known-edge prior, so its network echoes them."
    )
    if not st.button(f"▶ Fit {method}", type="primary", key=f"fit_{method}"):
        return None
    bar, cb = progress_callback(f"Fitting {method} on {dataset_label(ctx.ds_key)}")
    opts = api.sem_options(quick=True, fm=ctx.fm, method=method)
    edges = safe_call(f"fitting {method}", api.expression_network, ctx.ds, method, options=opts, fm=ctx.fm,
                      progress=cb)
    bar.empty()
    if edges is not None:
        store[key] = edges
    return edges


def _in_server() -> bool:
    from streamlit import runtime

    return runtime.exists()


# in a running server (not a bare import or a unit test); UGRN_APP_WARM_UP=0 switches it off
if os.environ.get("UGRN_APP_WARM_UP", "1") != "0" and _in_server():
    start_warm_up()
