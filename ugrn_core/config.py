"""Paths and run-time settings: data directory, bundled assets, cache directory, torch device.

Every path can be overridden by an argument or an environment variable:

- ``UGRN_DATA_DIR``: the data directory (default ``<repo>/../shared/data``).
- ``UGRN_CACHE_DIR``: where probe features are cached (default ``<repo>/.cache/ugrn``).
- ``UGRN_DEVICE``: force a torch device (default ``cuda`` when available, else ``cpu``).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS_DIR = REPO_ROOT / "assets"
DEFAULT_CHECKPOINT_DIR = ASSETS_DIR / "scgpt_compact"
DEFAULT_TRANSLATOR_DIR = ASSETS_DIR / "translators" / "STRING_hESC_500"

DATA_HELP = (
    "Expected the BEELINE benchmark in GENELink layout under '<data dir>/beeline/<Net> Dataset/<cell>/TFs+<500|1000>/' "
    "(TF.csv, Target.csv, Label.csv, BL--network.csv, optional BL--ExpressionData.csv[.gz]) and the ortholog table "
    "'<data dir>/gene_annotation/ensembl105_human2mouse_genes.csv.gz'. Get the networks from GENELink "
    "(github.com/zpliulab/GENELink, 'Dataset/Benchmark Dataset') and the expression from BEELINE (Zenodo record 3701939), "
    "then pass --data-dir or set UGRN_DATA_DIR."
)


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the data directory: ``data_dir`` if given, else ``$UGRN_DATA_DIR``, else ``<repo>/../shared/data``.

    Raises:
        FileNotFoundError: the directory does not exist; the message says where it was expected and how to get it.
    """
    if data_dir is None:
        data_dir = os.environ.get("UGRN_DATA_DIR") or (REPO_ROOT.parent / "shared" / "data")
    path = Path(data_dir).expanduser().resolve()
    if not path.is_dir():
        raise FileNotFoundError(f"Data directory not found: '{path}'. {DATA_HELP}")
    return path


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Return (and create) the feature cache directory: ``path``, ``$UGRN_CACHE_DIR`` or ``<repo>/.cache/ugrn``."""
    p = Path(path or os.environ.get("UGRN_CACHE_DIR") or (REPO_ROOT / ".cache" / "ugrn")).expanduser()
    p.mkdir(parents=True, exist_ok=True)
    return p


def default_device() -> str:
    """Return the torch device name to use: ``$UGRN_DEVICE`` if set, else ``'cuda'`` when available, else ``'cpu'``."""
    env = os.environ.get("UGRN_DEVICE")
    if env:
        return env
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
