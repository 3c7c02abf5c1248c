"""RegDiffusion peer: recovers planted regulation on simulated expression; a clear error without the package."""

import sys

import numpy as np
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
