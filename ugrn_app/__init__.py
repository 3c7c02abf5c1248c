"""UI-only helpers for the Streamlit app (``app.py`` and ``app_pages/``).

- ``figures``: pure functions of DataFrames → plotly figures and tables (no Streamlit, no science);
- ``state``: session-state defaults, cached loaders around ``ugrn_core.api``, upload wrappers, the sidebar.

All science lives in ``ugrn_core``; nothing here computes a feature, a score or a metric.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "results"  # where the app writes benchmark runs and looks for saved results
MAX_GRAPH_EDGES = 3000  # edges drawn in a network graph (the strongest; layout and plotting time grow with it)
