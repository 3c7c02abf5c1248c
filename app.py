"""UGRN explorer — the Streamlit app. Run with ``streamlit run app.py`` from the repository root.

This file only sets the page config and the navigation (st.navigation) to the pages in ``app_pages/`` (not
``pages/``: that name would switch Streamlit to its older multipage mode, where a page opened by URL runs without
this file). Streamlit puts this file's folder on ``sys.path``, so ``ugrn_app`` and ``ugrn_core`` import from here.
All science comes from ``ugrn_core.api``.
"""

from __future__ import annotations

import streamlit as st

from ugrn_app import state

st.set_page_config(page_title="UGRN explorer", page_icon="🧬", layout="wide")
state.init_state()

NAV = {
    "home": st.Page("app_pages/0_Home.py", title="Home", icon="🧬", default=True),
    "gene_pair": st.Page("app_pages/1_Gene_pair.py", title="Gene pair", icon="🔬", url_path="Gene_pair"),
    "network": st.Page("app_pages/2_Network.py", title="Network", icon="🕸️", url_path="Network"),
    "compare": st.Page("app_pages/5_Compare.py", title="Compare", icon="⚖️", url_path="Compare"),
    "benchmark": st.Page("app_pages/3_Benchmark.py", title="Benchmark", icon="📊", url_path="Benchmark"),
    "train": st.Page("app_pages/4_Train.py", title="Train", icon="🏋️", url_path="Train"),
}
state.NAV.update(NAV)
st.navigation(list(NAV.values())).run()
