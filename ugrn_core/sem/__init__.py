"""Structural-equation VAEs for GRN inference from expression: DeepSEM (Shu et al. 2021) and InfoSEM (Cui et al. 2025).

``deepsem``: the β-VAE with a structural-equation layer and its trainer (``fit_sem``); ``infosem``: the informative
priors on the adjacency (gene embeddings, known edges) that turn DeepSEM into InfoSEM-B and InfoSEM-BC.
"""
