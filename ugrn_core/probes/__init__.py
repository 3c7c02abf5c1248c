"""Virtual-cell probes of the foundation model: ``features.DatasetProbes`` (probes per context gene set and the pair
features read from them), ``params`` (``ProbeParams``: virtual values, feature normalisation), ``cache`` (probe arrays
on disk, keyed by checkpoint, context and parameters) and ``background`` (background contexts for short gene lists).
What each probe computes is declared by the method that owns it (``ugrn_core/methods/``)."""
