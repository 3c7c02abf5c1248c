"""Start the explorer with its defaults loaded before the first visitor: ``python -m ugrn_app.serve [streamlit run
options]`` (what ``make run`` does).

``streamlit run app.py`` runs nothing until a browser connects, so the first visitor of a fresh server waited for the
science stack's imports (torch, anndata, scikit-learn: ≈ 3.5 s on 2 cores) and the default dataset's expression
(≈ 1.1 s) before the page could draw (issue 28). Here those load first, in this process, then Streamlit's own
command line starts the server in the same process: its scripts find the modules imported and the bundled model,
translator and default dataset in ``ugrn_core``'s per-process caches (``api.load_model`` / ``load_beeline`` are
memoised), so the pages' ``st.cache_resource`` entries fill in milliseconds. ``streamlit run app.py`` still works;
only the first visit is slower.

Environment: ``UGRN_APP_CHECKPOINT`` / ``UGRN_APP_TRANSLATOR`` / ``UGRN_APP_DATASET`` choose what is preloaded, as in
the app; ``UGRN_APP_PRELOAD=0`` skips the preload. A failure while preloading is printed and left to the page that
needs the object (it shows the error in its box).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"
DEFAULT_DATASET = "STRING/mHSC-L/500"  # the app's default (ugrn_app.state.DEFAULT_DATASET)


def preload() -> float:
    """Import the science stack and load the default checkpoint, translator and dataset into this process's caches.
    Returns the seconds it took; errors are printed, not raised."""
    t0 = time.perf_counter()
    try:
        import plotly.graph_objects  # noqa: F401  the pages' figures

        from ugrn_core import api

        api.load_model(os.environ.get("UGRN_APP_CHECKPOINT") or api.DEFAULT_CHECKPOINT)
        api.load_translator(os.environ.get("UGRN_APP_TRANSLATOR") or api.DEFAULT_TRANSLATOR)
        name = os.environ.get("UGRN_APP_DATASET", DEFAULT_DATASET)
        if name in api.list_datasets():
            api.load_beeline(name)
    except Exception as e:  # noqa: BLE001 - the page that needs the object shows the error
        print(f"ugrn_app.serve: preload stopped: {type(e).__name__}: {e}", file=sys.stderr)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    """Preload (unless ``UGRN_APP_PRELOAD=0``), then ``streamlit run app.py`` with ``argv`` (default
    ``sys.argv[1:]``) as its options, in this process."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not APP.is_file():
        print(f"ugrn_app.serve: {APP} not found; the app runs from a checkout of the repository", file=sys.stderr)
        return 2
    if os.environ.get("UGRN_APP_PRELOAD", "1") != "0":
        print(f"ugrn_app.serve: defaults loaded in {preload():.1f} s", file=sys.stderr, flush=True)
    from streamlit.web import cli as stcli

    sys.argv = ["streamlit", "run", str(APP), *argv]
    return stcli.main()


if __name__ == "__main__":
    sys.exit(main())
