"""UGRN explorer core: probe a frozen single-cell foundation model (scGPT) with virtual cells and
translate the probes into gene-regulatory predictions for genes and datasets never seen in training.

Data flows one way: ``data`` → ``scfm`` (foundation model) → ``features`` → ``translator`` →
``predict`` / ``benchmark`` → CLI and Streamlit app.
"""

__version__ = "0.1.0"
