"""UGRN explorer core: probe a frozen single-cell foundation model (scGPT) with virtual cells and translate the
probes into gene-regulatory predictions for genes and datasets never seen in training.

Data flows one way (docs/architecture.md): ``data`` (datasets, readers) → ``scfm`` (the foundation model, its
checkpoints and vocabulary) → ``probes`` (virtual-cell probes, their cache and parameters) → ``methods`` (the
registry: one file per method) → ``translator`` (projectors) → ``predict`` → ``bench`` (the benchmark) and the
public face: ``api`` (what the app calls), ``cli`` (the ``ugrn`` command), ``export``, ``doctor``. ``sem`` holds the
DeepSEM / InfoSEM networks, ``config`` and ``errors`` the settings and error types every layer uses.
"""

__version__ = "0.1.0"
