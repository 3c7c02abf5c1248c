"""Paths and run-time settings: data directory, bundled assets, cache directory, torch device.

Works from a source checkout (``make run``, ``pip install -e .``) and from an installed wheel alike. Every path can be
overridden by an argument or an environment variable:

- ``UGRN_DATA_DIR``: the data directory. Default: ``<repo>/../shared/data`` in a source checkout; for an installed
  package ``$XDG_DATA_HOME/ugrn/data`` (``~/.local/share/ugrn/data``), which usually does not exist, so installed
  users pass ``--data-dir`` or set the variable (the error says so).
- ``UGRN_CACHE_DIR``: where probe features are cached. Default: ``<repo>/.cache/ugrn`` in a source checkout,
  ``$XDG_CACHE_HOME/ugrn`` (``~/.cache/ugrn``; ``%LOCALAPPDATA%\\ugrn\\cache`` on Windows) for an installed package.
- ``UGRN_DEVICE``: force a torch device (default ``cuda`` when available, else ``cpu``).
- ``UGRN_ALLOWED_ROOTS``: when the app is served to others, the folders (``:``-separated) that path fields
  (checkpoint folder, results folder) may point into; unset = any path (see :func:`check_allowed_path`).

The bundled assets (compact scGPT checkpoint, default translator, default benchmark, paper tables) live in
``<repo>/assets`` in a source checkout and are shipped inside the wheel as ``ugrn_core/assets`` (see setup.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent  # the source checkout's root when running from one (site-packages when installed)
#: True when ugrn_core is imported from a source checkout (editable install or ``python -m`` in the repository),
#: False when imported from an installed wheel.
SOURCE_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "assets").is_dir()
ASSETS_DIR = REPO_ROOT / "assets" if SOURCE_CHECKOUT else PACKAGE_DIR / "assets"
DEFAULT_CHECKPOINT_DIR = ASSETS_DIR / "scgpt_compact"
DEFAULT_TRANSLATOR_DIR = ASSETS_DIR / "translators" / "STRING_hESC_500"


def _user_dir(kind: str) -> Path:
    """Per-user folder for ``kind`` "cache" or "data": XDG base directories (Linux, macOS), LOCALAPPDATA on Windows."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "ugrn" / kind
    if kind == "cache":
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ugrn"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "ugrn" / "data"


def default_data_dir() -> tuple[Path, str]:
    """The data directory used when none is passed, and where that choice came from (for messages and ``doctor``).

    Returns ``(path, origin)`` with origin ``"UGRN_DATA_DIR"``, ``"source checkout default"`` or
    ``"installed default"``; the path need not exist.
    """
    if os.environ.get("UGRN_DATA_DIR"):
        return Path(os.environ["UGRN_DATA_DIR"]).expanduser(), "UGRN_DATA_DIR"
    if SOURCE_CHECKOUT:
        return REPO_ROOT.parent / "shared" / "data", "source checkout default"
    return _user_dir("data"), "installed default"


def default_cache_dir() -> tuple[Path, str]:
    """The cache directory used when none is passed, and where that choice came from (like :func:`default_data_dir`)."""
    if os.environ.get("UGRN_CACHE_DIR"):
        return Path(os.environ["UGRN_CACHE_DIR"]).expanduser(), "UGRN_CACHE_DIR"
    if SOURCE_CHECKOUT:
        return REPO_ROOT / ".cache" / "ugrn", "source checkout default"
    return _user_dir("cache"), "installed default"


BUNDLED = "bundled"  # origin of a default that is the bundled asset (``default_checkpoint_dir`` and friends)


def _default_folder(env: str, bundled: Path) -> tuple[Path, str]:
    if os.environ.get(env):
        return Path(os.environ[env]).expanduser().resolve(), env
    return bundled, BUNDLED


def default_checkpoint_dir() -> tuple[Path, str]:
    """The checkpoint folder used when none is passed, and where that choice came from: ``$UGRN_APP_CHECKPOINT``
    when set, else the bundled compact scGPT (origin ``BUNDLED``). The one place the default is chosen: the CLI,
    the app, ``ugrn doctor`` and the benchmark report ask here (``resolve_checkpoint_dir``)."""
    return _default_folder("UGRN_APP_CHECKPOINT", DEFAULT_CHECKPOINT_DIR)


def default_translator_dir() -> tuple[Path, str]:
    """The translator folder used when none is passed, and where that choice came from: ``$UGRN_APP_TRANSLATOR``
    when set, else the bundled translator (trained on STRING/hESC/500; origin ``BUNDLED``)."""
    return _default_folder("UGRN_APP_TRANSLATOR", DEFAULT_TRANSLATOR_DIR)


def resolve_checkpoint_dir(checkpoint: str | os.PathLike | None = None) -> Path:
    """``checkpoint`` expanded and resolved, or the default (``default_checkpoint_dir``) when it is None or empty.
    The folder need not exist (the loader names what is missing)."""
    return Path(checkpoint).expanduser().resolve() if checkpoint else default_checkpoint_dir()[0]


def resolve_translator_dir(translator: str | os.PathLike | None = None) -> Path:
    """``translator`` expanded and resolved, or the default (``default_translator_dir``) when None or empty."""
    return Path(translator).expanduser().resolve() if translator else default_translator_dir()[0]


DATA_HELP = (
    "Expected the BEELINE benchmark in GENELink layout under '<data dir>/beeline/<Net> Dataset/<cell>/TFs+<500|1000>/' "
    "(TF.csv, Target.csv, Label.csv, BL--network.csv, optional BL--ExpressionData.csv[.gz]) and the ortholog table "
    "'<data dir>/gene_annotation/ensembl105_human2mouse_genes.csv.gz'. Get the networks from GENELink "
    "(github.com/zpliulab/GENELink, 'Dataset/Benchmark Dataset') and the expression from BEELINE (Zenodo record 3701939), "
    "then pass --data-dir or set UGRN_DATA_DIR."
)


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the data directory: ``data_dir`` if given, else ``$UGRN_DATA_DIR``, else the default
    (``<repo>/../shared/data`` in a source checkout, ``~/.local/share/ugrn/data`` when installed; see module doc).

    Raises:
        InputFileNotFound (a FileNotFoundError): the directory does not exist; the message says where it was expected,
            where that path came from, and how to get the data.
    """
    origin = "--data-dir"
    if data_dir is None:
        data_dir, origin = default_data_dir()
    path = Path(data_dir).expanduser().resolve()
    if not path.is_dir():
        from .errors import InputFileNotFound

        raise InputFileNotFound(f"Data directory not found: '{path}' (from {origin}). {DATA_HELP}")
    return path


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Return (and create) the feature cache directory: ``path``, ``$UGRN_CACHE_DIR``, or the default
    (``<repo>/.cache/ugrn`` in a source checkout, ``~/.cache/ugrn`` when installed)."""
    p = Path(path).expanduser() if path else default_cache_dir()[0]
    p.mkdir(parents=True, exist_ok=True)
    return p


def default_device() -> str:
    """Return the torch device name to use: ``$UGRN_DEVICE`` if set, else ``'cuda'`` when available, else ``'cpu'``."""
    env = os.environ.get("UGRN_DEVICE")
    if env:
        return env
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_device(name: str | None = None) -> str:
    """Check a torch device name (default :func:`default_device`) and return it.

    Raises:
        ParameterError: not a torch device name, or a device this machine does not have (CUDA / MPS absent,
            a CUDA index beyond the GPUs present); the message names the device and what exists.
    """
    import torch

    from .errors import ParameterError

    name = str(name or default_device()).strip()
    source = "" if name != os.environ.get("UGRN_DEVICE") else " (from UGRN_DEVICE)"
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise ParameterError(f"device {name!r}{source} is not a torch device name; expected cpu, cuda or cuda:<index>") from None
    if dev.type == "cuda":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0:
            raise ParameterError(f"device {name!r}{source}: this machine has no CUDA GPU; use --device cpu")
        if dev.index is not None and dev.index >= n:
            raise ParameterError(f"device {name!r}{source}: this machine has {n} CUDA GPU(s), cuda:0..cuda:{n - 1}")
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ParameterError(f"device {name!r}{source}: MPS is not available on this machine; use --device cpu")
    elif dev.type != "cpu":
        raise ParameterError(f"device {name!r}{source}: unsupported device type {dev.type!r}; expected cpu or cuda")
    return name


def allowed_roots() -> list[Path] | None:
    """Folders path fields may point into, from ``UGRN_ALLOWED_ROOTS`` (``:``-separated), or None = unrestricted."""
    raw = os.environ.get("UGRN_ALLOWED_ROOTS", "").strip()
    if not raw:
        return None
    return [Path(r).expanduser().resolve() for r in raw.split(os.pathsep) if r.strip()]


def check_allowed_path(path: str | os.PathLike, what: str) -> Path:
    """Resolve a user-given folder (symlinks and ``..`` followed) and check it lies inside ``UGRN_ALLOWED_ROOTS``.

    Args:
        path: the folder typed by the user.
        what: what it is, for the message (e.g. "checkpoint folder").
    Returns: the resolved path.
    Raises:
        ParameterError: the setting is active and the path is outside every allowed root (the message names the
            setting and the roots).
    """
    from .errors import ParameterError

    resolved = Path(path).expanduser().resolve()
    roots = allowed_roots()
    if roots is not None and not any(resolved == r or resolved.is_relative_to(r) for r in roots):
        raise ParameterError(
            f"{what} '{path}' is outside the folders this server allows (UGRN_ALLOWED_ROOTS = "
            f"{os.pathsep.join(map(str, roots))}); choose a folder inside one of them"
        )
    return resolved
