"""The benchmark: the cross-dataset protocol of the UGRN paper (``benchmark``: one run, ``runner.run_preset``; ``suite``: seeds,
negatives, controls, per-cell cache; ``presets``: the paper's six tables), its statistics, tables and report
(``stats``, ``tables``, ``report``, ``readme_figures``), test-pair sampling (``negatives``), controls (``controls``),
ranking metrics (``metrics``) and the InfoSEM within-dataset protocols (``splits``, ``unseen_genes``)."""
