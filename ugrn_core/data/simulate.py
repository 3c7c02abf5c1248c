"""Simulated single-cell expression from a known gene regulatory network (SERGIO), the one place where the right
answer is known.

SERGIO (Dibaeinia & Sinha, Cell Systems 2020) integrates a chemical Langevin equation per gene: a target gene's
production rate is a sum of Hill functions of its regulators' expression, ``Σ_r k_rj · x_r^n / (h_rj^n + x_r^n)``
(repression: ``k < 0``, with the complementary Hill form), master regulators (genes without regulators) have a fixed
basal production rate per *cell state*, and every gene decays at rate ``decay``. Steady-state cells are sampled after
convergence; ``noise_s`` scales the intrinsic (biological) noise. Technical noise (SERGIO's outlier genes,
library-size effect, dropout and Poisson counts) is a separate, optional step. We use the Rust port ``sergio-rs``
0.2.3 (same equations as SERGIO v2, ~20× faster); its network must be acyclic (a cycle would never converge), which
:func:`simulate_network` checks before calling it.

Networks: :func:`beeline_subgraph` cuts a few hundred genes out of a BEELINE reference network (the GENELink
folders in the data directory), keeps the real gene symbols (so vocabularies and orthologs work), makes it acyclic
and caps the regulators per target. Its TFs are the genes with at least one outgoing edge: master regulators and
internal TFs regulated by them.

Output: a :class:`~ugrn_core.data.datasets.GRNDataset` whose ``edges`` are the simulated network's edges (the ground
truth), ``tfs`` its regulators, and ``expression`` an AnnData, cells × genes: ``layers["raw"]`` = SERGIO's output
(noise-free expression levels, or UMI-like counts after technical noise), ``X`` = log1p of it, the counts first
scaled to the median library size when technical noise was added (log-normalised like BEELINE's files, which the expression-based peers read as given; scGPT's per-cell binning is rank-based, so it
sees the same bins either way), ``layers["clean"]`` = the noise-free levels when technical noise was added,
``obs["cell_state"]``, ``uns["simulation"]`` the settings, ``uns["interactions"]`` a DataFrame [tf, target, k] of
each edge's interaction strength (k < 0: repression; its sign is the edge's true sign). Every method and metric of the project runs on it unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import anndata
import networkx as nx
import numpy as np
import pandas as pd

from .datasets import GRNDataset, load_beeline
from ..errors import DataError, ParameterError

NOISE_SETTINGS = ("DS1", "DS2", "DS3", "DS4", "DS5", "DS6", "DS7", "DS8", "DS13", "DS14")


@dataclass(frozen=True)
class SimulationConfig:
    """SERGIO settings of one simulation (defaults: SERGIO's DS1–DS3 style, several cell states, ≥ 2000 cells).

    Attributes:
        n_cell_states: cell states (SERGIO "cell types"): master-regulator production rates differ between them.
        cells_per_state: cells sampled per state (total cells = n_cell_states × cells_per_state).
        mr_low_range, mr_high_range: a master regulator's basal production rate in a state is drawn from the low
            or the high range (``sergio_rs.MrProfile.from_random``).
        k_range: |interaction strength| k ~ U(k_range) per edge; ``repression_frac`` of the edges get k < 0.
        hill_n: Hill coefficient (an integer in sergio-rs).
        decay: decay rate of every gene.
        noise_s: intrinsic noise amplitude of the Langevin equation (SERGIO's ``noise_params``).
        safety_iter, scale_iter, dt: SERGIO's convergence iterations and integration step.
        technical_noise: None (clean expression levels) or one of SERGIO's dataset noise profiles
            (:data:`NOISE_SETTINGS`, e.g. "DS6": outlier genes, library-size effect, dropout, Poisson counts).
    """

    n_cell_states: int = 3
    cells_per_state: int = 700
    mr_low_range: tuple[float, float] = (0.5, 2.0)
    mr_high_range: tuple[float, float] = (3.0, 5.0)
    k_range: tuple[float, float] = (1.0, 5.0)
    repression_frac: float = 0.3
    hill_n: int = 2
    decay: float = 0.8
    noise_s: float = 1.0
    safety_iter: int = 150
    scale_iter: int = 10
    dt: float = 0.01
    technical_noise: str | None = None

    def __post_init__(self):
        if self.n_cell_states < 1 or self.cells_per_state < 1:
            raise ParameterError(f"n_cell_states ({self.n_cell_states}) and cells_per_state ({self.cells_per_state}) "
                                 "must be ≥ 1")
        if int(self.hill_n) != self.hill_n or self.hill_n < 1:
            raise ParameterError(f"hill_n must be a positive integer (sergio-rs), got {self.hill_n!r}")
        if not 0 <= self.repression_frac <= 1:
            raise ParameterError(f"repression_frac must be in [0, 1], got {self.repression_frac!r}")
        if self.technical_noise is not None and self.technical_noise not in NOISE_SETTINGS:
            raise ParameterError(f"technical_noise {self.technical_noise!r} unknown; expected None or one of "
                                 f"{list(NOISE_SETTINGS)} (SERGIO's dataset noise profiles)")


def _sergio():
    try:
        import sergio_rs
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("simulation needs sergio-rs: pip install sergio-rs==0.2.3 (or the 'sim' extra)") from None
    return sergio_rs


def check_acyclic(edges: pd.DataFrame, name: str = "network") -> None:
    """Raise DataError naming one cycle (and any self-loop) when the directed ``edges`` [tf, target] are not acyclic.

    SERGIO simulates a network by levels (regulators before their targets); a cycle has no such order.
    """
    G = nx.DiGraph(list(zip(edges["tf"], edges["target"])))
    loops = [a for a, b in zip(edges["tf"], edges["target"]) if a == b]
    if loops:
        raise DataError(f"{name}: self-loop on {loops[0]} ({len(loops)} self-loops); SERGIO needs an acyclic network "
                        "(make_acyclic removes them)")
    if not nx.is_directed_acyclic_graph(G):
        cycle = [a for a, _ in nx.find_cycle(G)]
        raise DataError(f"{name}: the network has a cycle {' → '.join(cycle + cycle[:1])}; SERGIO needs an acyclic "
                        "network (make_acyclic removes the edges that close cycles)")


def make_acyclic(edges: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Drop the fewest-looking edges that close cycles: order genes by out-degree − in-degree (ties at random,
    seeded; Eades–Lin–Smyth's greedy feedback-arc-set heuristic, one pass) and keep only edges that point forward.

    Args:
        edges: DataFrame [tf, target] (other columns kept). Self-loops are dropped.
    Returns: the acyclic subset of ``edges`` (index reset).
    """
    e = edges[edges["tf"] != edges["target"]].drop_duplicates(["tf", "target"]).reset_index(drop=True)
    genes = pd.unique(e[["tf", "target"]].to_numpy().ravel())
    out_deg = e["tf"].value_counts().reindex(genes, fill_value=0).to_numpy()
    in_deg = e["target"].value_counts().reindex(genes, fill_value=0).to_numpy()
    tie = np.random.default_rng(seed).random(len(genes))
    order = np.lexsort((tie, -(out_deg - in_deg)))  # most "source-like" first
    rank = pd.Series(np.empty(len(genes), dtype=np.int64), index=genes)
    rank.iloc[order] = np.arange(len(genes))
    keep = rank[e["tf"]].to_numpy() < rank[e["target"]].to_numpy()
    return e[keep].reset_index(drop=True)


def beeline_subgraph(name: str, n_genes: int = 200, max_regulators: int = 3, exclude=(), seed: int = 0,
                     data_dir=None) -> tuple[pd.DataFrame, str]:
    """An acyclic subnetwork of about ``n_genes`` genes of BEELINE reference network ``name`` (e.g. "STRING/mDC/500").

    Steps: the dataset's edges (minus genes in ``exclude``, compared upper-case) are made acyclic
    (:func:`make_acyclic`); regulators are then taken in order of out-degree (ties at random) with their targets
    until ``n_genes`` genes are chosen; edges among the chosen genes are kept, each target keeping at most
    ``max_regulators`` regulators (drawn at random, seeded); genes left without any edge are dropped.

    Returns: (edges DataFrame [tf, target] with the real upper-case symbols, species of the dataset).
    Raises: ParameterError for n_genes < 3 or max_regulators < 1; DataError when the network has too few edges.
    """
    if n_genes < 3 or max_regulators < 1:
        raise ParameterError(f"n_genes ({n_genes}) must be ≥ 3 and max_regulators ({max_regulators}) ≥ 1")
    ds = load_beeline(name, data_dir)
    rng = np.random.default_rng(seed)
    ex = {str(g).upper() for g in exclude}
    e = ds.edges[~ds.edges["tf"].isin(ex) & ~ds.edges["target"].isin(ex)]
    dag = make_acyclic(e, seed)
    if len(dag) < 2:
        raise DataError(f"{name}: only {len(dag)} acyclic edges outside the excluded genes; cannot cut a subnetwork")
    out_deg = dag["tf"].value_counts()
    regs = out_deg.index.to_numpy()[np.lexsort((rng.random(len(out_deg)), -out_deg.to_numpy()))]
    chosen: dict[str, None] = {}
    by_tf = dag.groupby("tf")["target"].apply(list)
    for tf in regs:
        if len(chosen) >= n_genes:
            break
        chosen[tf] = None
        targets = [t for t in rng.permutation(by_tf[tf]) if t not in chosen]
        for t in targets[: max(0, n_genes - len(chosen))]:
            chosen[t] = None
    sub = dag[dag["tf"].isin(chosen) & dag["target"].isin(chosen)]
    sub = sub.sample(frac=1.0, random_state=int(rng.integers(2**31))).groupby("target", sort=False).head(max_regulators)
    sub = sub.sort_values(["tf", "target"]).reset_index(drop=True)[["tf", "target"]]
    return sub, ds.species


def _simulate_levels(edges: pd.DataFrame, cfg: SimulationConfig, seed: int) -> tuple[np.ndarray, list[str], np.ndarray,
                                                                                   np.ndarray]:
    """SERGIO expression levels float64 (cells, genes), the gene order, each cell's state index (cells,) and each
    edge's interaction strength k (edges,; k < 0 = repression), in ``edges``' row order."""
    sg = _sergio()
    rng = np.random.default_rng(seed)
    k = rng.uniform(*cfg.k_range, size=len(edges)) * np.where(rng.random(len(edges)) < cfg.repression_frac, -1, 1)
    grn = sg.GRN()
    for (tf, tg), kk in zip(edges[["tf", "target"]].itertuples(index=False), k):
        grn.add_interaction(reg=sg.Gene(tf, cfg.decay), tar=sg.Gene(tg, cfg.decay), k=float(kk), h=None,
                            n=int(cfg.hill_n))
    grn.set_mrs()
    mr = sg.MrProfile.from_random(grn, num_cell_types=cfg.n_cell_states, low_range=tuple(cfg.mr_low_range),
                                  high_range=tuple(cfg.mr_high_range), seed=int(rng.integers(2**31)))
    sim = sg.Sim(grn, num_cells=cfg.cells_per_state, safety_iter=cfg.safety_iter, scale_iter=cfg.scale_iter,
                 dt=cfg.dt, noise_s=cfg.noise_s, seed=int(rng.integers(2**31)))
    df = sim.simulate(mr)
    genes = [str(g) for g in df["Genes"].to_list()]
    cols = [c for c in df.columns if c != "Genes"]
    states = np.asarray([int(c.split("_")[1]) for c in cols])  # "type_<s>_cell_<c>"
    return df.drop("Genes").to_numpy().T, genes, states, k


def simulate_network(edges: pd.DataFrame, cfg: SimulationConfig | None = None, seed: int = 0,
                     name: str = "simulated", species: str = "human") -> GRNDataset:
    """Simulate single-cell expression of the acyclic network ``edges`` with SERGIO; deterministic for a seed.

    Args:
        edges: DataFrame [tf, target], gene symbols; the ground truth (activation or repression is drawn per edge).
        cfg: :class:`SimulationConfig` (default: 3 cell states × 700 cells, no technical noise).
        seed: seeds interaction strengths, master-regulator rates, the Langevin noise and the technical noise.
        name, species: of the returned dataset (species decides the vocabulary mapping of the symbols).
    Returns: GRNDataset with genes (sorted symbols), tfs (genes with an outgoing edge), edges, expression (see the
        module docstring).
    Raises: DataError for a cycle or self-loop (naming it) or an empty network; ParameterError for bad settings.
    """
    cfg = cfg or SimulationConfig()
    edges = edges[["tf", "target"]].astype(str).apply(lambda c: c.str.strip().str.upper())
    edges = edges.drop_duplicates(ignore_index=True)
    if edges.empty:
        raise DataError(f"{name}: the network has no edge; expected a DataFrame [tf, target] with ≥ 1 edge")
    check_acyclic(edges, name)
    X, genes, states, k = _simulate_levels(edges, cfg, seed)
    layers = {}
    if cfg.technical_noise is not None:
        sg = _sergio()
        layers["clean"] = X
        X = sg.add_technical_noise(np.ascontiguousarray(X.T), getattr(sg.NoiseSetting, cfg.technical_noise),
                                   seed=int(seed) + 1).T
    layers["raw"] = X
    X = np.maximum(X, 0)
    if cfg.technical_noise is not None:  # library-size normalisation of the counts (SERGIO adds a library-size effect)
        lib = X.sum(1, keepdims=True)
        X = X / np.where(lib > 0, lib, 1) * np.median(lib)
    order = np.argsort(genes)
    genes = [genes[i] for i in order]
    adata = anndata.AnnData(
        X=np.log1p(X[:, order]).astype(np.float32),
        obs=pd.DataFrame({"cell_state": pd.Categorical([f"state_{s}" for s in states])},
                         index=[f"cell_{i}" for i in range(len(states))]),
        var=pd.DataFrame(index=genes),
        layers={k: np.asarray(v[:, order], dtype=np.float32) for k, v in layers.items()},
        uns={"simulation": {**{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()
                               if v is not None}, "seed": int(seed), "simulator": "sergio-rs 0.2.3"},
             "species": species,
             # the simulator's interaction strength per edge: sign(k) = +1 activation, −1 repression
             "interactions": pd.DataFrame({"tf": edges["tf"].to_numpy(), "target": edges["target"].to_numpy(),
                                          "k": np.asarray(k, dtype=np.float64)})},
    )
    tfs = sorted(set(edges["tf"]))
    return GRNDataset(name=name, genes=genes, tfs=tfs, edges=edges.sort_values(["tf", "target"], ignore_index=True),
                      species=species, expression=adata)


def simulate_beeline(name: str, n_genes: int = 200, max_regulators: int = 3, cfg: SimulationConfig | None = None,
                     exclude=(), seed: int = 0, data_dir=None, label: str | None = None) -> GRNDataset:
    """:func:`beeline_subgraph` of BEELINE network ``name`` simulated with :func:`simulate_network`.

    The dataset is named ``label`` or ``"sim:<name>:<n_genes>:<seed>[:<noise>]"``; deterministic for a seed.
    """
    cfg = cfg or SimulationConfig()
    edges, species = beeline_subgraph(name, n_genes, max_regulators, exclude, seed, data_dir)
    label = label or f"sim:{name}:{n_genes}:{seed}" + (f":{cfg.technical_noise}" if cfg.technical_noise else "")
    return simulate_network(edges, cfg, seed, label, species)
