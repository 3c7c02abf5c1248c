"""Expression peers: RegDiffusion recovers planted regulation on simulated expression; GRNBoost2 through arboreto's own
code equals arboreto's grnboost2 on real expression; a clear error without either package; the peers' disk cache."""

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
    key = cache_key("GRNBoost2", *grnboost2.arboreto_settings(), 0, sorted(genes[:4]),
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


_ARBORETO_GRNBOOST2 = """
import os
os.environ["DASK_DATAFRAME__QUERY_PLANNING"] = "False"  # arboreto 0.1.6 + dask 2024.12: notes/libraries.md
import sys

import numpy as np
import pandas as pd


def main():
    from arboreto.algo import grnboost2
    from distributed import Client

    d = np.load(sys.argv[1])
    genes, tfs = [str(g) for g in d["genes"]], [str(t) for t in d["tfs"]]
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        net = grnboost2(expression_data=pd.DataFrame(d["X"], columns=genes), tf_names=tfs, seed=0,
                        client_or_address=client)
    net.to_csv(sys.argv[2], index=False)


if __name__ == "__main__":
    main()
"""


def test_grnboost2_equals_arboretos_own_grnboost2_on_real_expression(tmp_path):
    """``grnboost2_matrix`` (arboreto's per-target ``infer_partial_network`` over a process pool, no dask) gives the
    importances of ``arboreto.algo.grnboost2`` itself (dask, a ``distributed.Client``) with the same seed, on a real
    subset: BEELINE STRING/mHSC-L/500, its first 150 cells, 6 TFs and 14 other genes. arboreto runs in a subprocess:
    its dask needs ``DASK_DATAFRAME__QUERY_PLANNING=False`` before dask.dataframe is first imported."""
    import subprocess
    import sys

    pytest.importorskip("arboreto")
    pytest.importorskip("distributed")
    from ugrn_core.data.datasets import load_beeline
    from ugrn_core.methods._peer_matrix import sorted_expression
    from ugrn_core.methods.grnboost2 import grnboost2_matrix

    ds = load_beeline("STRING/mHSC-L/500")
    X, col = sorted_expression(ds)
    X = X[:150]
    tfs = sorted(t for t in ds.tfs if t in col)[:6]
    others = [g for g in col if g not in set(ds.tfs) and np.ptp(X[:, col[g]]) > 0][:14]
    genes = sorted(tfs + others)
    X = np.ascontiguousarray(X[:, [col[g] for g in genes]])
    M = grnboost2_matrix(X, genes, tfs, seed=0, n_workers=2)
    assert M.shape == (6, 20) and (M > 0).sum() > 60
    assert all(M[i, genes.index(t)] == 0 for i, t in enumerate(tfs))  # no self-edges

    np.savez(tmp_path / "in.npz", X=X, genes=np.array(genes), tfs=np.array(tfs))
    (tmp_path / "run.py").write_text(_ARBORETO_GRNBOOST2)
    r = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path / "in.npz"), str(tmp_path / "net.csv")],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    net = pd.read_csv(tmp_path / "net.csv")
    ref = np.zeros_like(M)
    ref[[tfs.index(t) for t in net["TF"]], [genes.index(g) for g in net["target"]]] = net["importance"]
    assert len(net) == int((M > 0).sum())  # the same links (arboreto lists importance > 0 only)
    np.testing.assert_allclose(M, ref, rtol=1e-12, atol=0)


def test_grnboost2_missing_arboreto_names_the_install(monkeypatch):
    from ugrn_core.methods.grnboost2 import grnboost2_matrix

    monkeypatch.setitem(sys.modules, "arboreto", None)  # import arboreto now raises ImportError
    with pytest.raises(ParameterError, match=r"pip install arboreto==0\.1\.6 .*'\.\[peers\]'"):
        grnboost2_matrix(np.ones((10, 3)), ["A", "B", "C"], ["A"])
