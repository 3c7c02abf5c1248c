"""RegDiffusion peer: recovers planted regulation on simulated expression; a clear error without the package."""

import sys

import numpy as np
import pandas as pd
import pytest

from ugrn_core import methods
from ugrn_core.errors import ParameterError
from ugrn_core.methods.regdiffusion import regdiffusion_adjacency


def _planted(seed: int, n: int = 600) -> np.ndarray:
    """Columns T0..T3 (regulators), G0 = T0 + noise, G1 = T1 − T2 + noise, G2 = noise; softplus-transformed."""
    rng = np.random.default_rng(seed)
    tf = rng.normal(size=(n, 4))
    g0 = tf[:, 0] + 0.3 * rng.normal(size=n)
    g1 = tf[:, 1] - tf[:, 2] + 0.3 * rng.normal(size=n)
    g2 = rng.normal(size=n)
    return np.log1p(np.exp(np.column_stack([tf, g0, g1, g2])))


def test_regdiffusion_recovers_planted_regulation():
    pytest.importorskip("regdiffusion")
    A = regdiffusion_adjacency(_planted(0), seed=0, device="cpu")
    assert A.shape == (7, 7) and np.all(np.diag(A) == 0)
    assert np.abs(A[:, 4]).argmax() == 0  # T0 → G0 is G0's strongest regulator
    assert np.abs(A[:4, 5]).argmax() in (1, 2)  # G1's strongest regulator among the TFs is T1 or T2
    assert abs(A[0, 4]) > 5 * np.abs(A[:4, 6]).max()  # the planted edge beats every TF → noise gene weight


def test_regdiffusion_missing_package_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "regdiffusion", None)  # import regdiffusion now raises ImportError
    with pytest.raises(ParameterError, match="pip install regdiffusion==0.2.3"):
        regdiffusion_adjacency(np.ones((10, 3)))
    assert methods.get("regdiffusion").needs_expression


def test_peer_matrix_is_cached_on_disk_and_read_by_pair(monkeypatch):
    """GRNBoost2 through the registry: the planted edge scores highest, a pair with a gene outside the expression
    scores 0, and a second scoring context reads the cached matrix instead of recomputing it, also for the same
    expression with its genes and TFs in another order (as BEELINE's networks of one cell type store it)."""
    import anndata

    from ugrn_core.probes.cache import cache_key
    from ugrn_core.config import cache_dir
    from ugrn_core.data.datasets import dataset_from_genes
    from ugrn_core.methods import ScoringContext
    from ugrn_core.methods import grnboost2
    from ugrn_core.methods._peer_matrix import expression_fingerprint

    X = _planted(1, n=300)
    genes = ["T0", "T1", "T2", "T3", "G0", "G1", "G2"]
    expr = anndata.AnnData(X=X.astype(np.float32), var=pd.DataFrame(index=genes))
    ds = dataset_from_genes(genes, tfs=genes[:4], name="planted", expression=expr)
    pairs = pd.DataFrame({"tf": ["T0", "T1", "T2", "T3", "T0"], "target": ["G0", "G0", "G0", "G0", "NOTAGENE"]})
    spec = methods.get("GRNBoost2")
    first = spec.run(ScoringContext(ds), pairs)
    assert first[:4].argmax() == 0 and first[4] == 0.0

    Xd = np.asarray(ds.expression.X, dtype=np.float64)
    order = np.argsort(genes)  # the matrix is computed on the genes sorted by symbol
    key = cache_key("GRNBoost2", grnboost2.SGBM_KWARGS, grnboost2.EARLY_STOP_WINDOW, 0, sorted(genes[:4]),
                    sorted(genes), *expression_fingerprint(Xd[:, order]))
    path = cache_dir() / "peers" / f"GRNBoost2-{key}.npy"
    assert path.is_file() and path.with_suffix(".json").is_file()

    def recompute(*a, **k):
        raise AssertionError("the cached matrix should have been read")

    monkeypatch.setattr(grnboost2, "grnboost2_matrix", recompute)
    np.testing.assert_array_equal(spec.run(ScoringContext(ds), pairs), first)
    perm = [6, 2, 4, 0, 5, 3, 1]
    shuffled = anndata.AnnData(X=X[:, perm].astype(np.float32), var=pd.DataFrame(index=[genes[k] for k in perm]))
    ds2 = dataset_from_genes([genes[k] for k in perm], tfs=genes[3::-1], name="planted, other order",
                             expression=shuffled)
    np.testing.assert_array_equal(spec.run(ScoringContext(ds2), pairs), first)
