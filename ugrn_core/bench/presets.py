"""The UGRN paper's six benchmark tables as presets (arXiv 2605.08128, Sec. 4.3), plus a reduced CI preset.

Each preset is a list of jobs (training dataset, test datasets, N/P ratios) and a table layout:

- table1: train STRING/hESC, test every dataset of another cell type of the same size (19 per size; the paper's
  Table 1 lists exactly these 19 for TFs+500), sizes 500 and 1000.
- table2: every TFs+500 dataset in turn as the training source (22), tested on the datasets of the other cell types;
  one row per source, averaged over its test datasets (paper Table 2).
- table3: cross-dataset within one network: train network N / cell c, test N / other cells, for STRING,
  Non-Specific and Specific; one row per training cell type, averaged over networks and test datasets (Table 3).
- table4: cross-species within one network: train on the human datasets, test the mouse ones, and the reverse; rows
  Human (human → mouse) and Mouse (mouse → human) (Table 4).
- table5: cross-network within one cell type: train network N / cell c, test the other networks of cell c; one row
  per training network (Table 5). These test sets share the training cell type by construction (labelled so).
- table6: Table 1's jobs (TFs+500) at N/P 1, 2, 3, 5, 10 with AUROC, AUPRC and AUPRC ratio (Table 6).
- ci: a reduced preset for continuous integration (Emb only, two test datasets, two seeds, 10 epochs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..data.names import parse_dataset_name
from ..errors import ParameterError

HUMAN_CELLS = ("hESC", "hHEP")
NETWORK_ABBREV = {"STRING": "Str", "Non-Specific": "Nsp", "Lofgof": "L/G", "Specific": "Spc"}


@dataclass(frozen=True)
class Preset:
    """One benchmark table.

    Attributes:
        name: "table1" … "table6", "ci".
        title: what the table shows (paper table it reproduces).
        group_by: how rows are formed: "test" (one row per test dataset), "train" (per training source),
            "train_cell" (per training cell type), "species" (per training species), "train_network", "np_ratio".
        metrics: metrics reported (first is the main one).
        include_train_cell: test datasets may share the training cell type (table5 only).
        config: suite settings that differ from ``SuiteConfig``'s defaults.
    """

    name: str
    title: str
    group_by: str = "test"
    metrics: tuple[str, ...] = ("AUPRC", "AUROC")
    include_train_cell: bool = False
    config: dict = field(default_factory=dict)


PRESETS = {
    "table1": Preset("table1", "Table 1: train STRING/hESC, test the 19 datasets of other cell types (per size)"),
    "table2": Preset("table2", "Table 2: each TFs+500 dataset as training source, averaged over the other cell types",
                     group_by="train", config={"peers": ()}),
    "table3": Preset("table3", "Table 3: cross-dataset within one network (STRING, Non-Specific, Specific), by "
                               "training cell type", group_by="train_cell", config={"peers": ()}),
    "table4": Preset("table4", "Table 4: cross-species within one network (Human = train human, test mouse)",
                     group_by="species", config={"peers": ()}),
    "table5": Preset("table5", "Table 5: cross-network within one cell type, by training network",
                     group_by="train_network", include_train_cell=True, config={"peers": ()}),
    "table6": Preset("table6", "Table 6: N/P ratio 1, 2, 3, 5, 10 (train STRING/hESC/500, Table 1's test datasets)",
                     group_by="np_ratio", metrics=("AUPRC", "AUROC", "AUPRC_ratio"),
                     config={"np_ratios": (1.0, 2.0, 3.0, 5.0, 10.0), "negatives": ("uniform",), "peers": ()}),
    "ci": Preset("ci", "CI: reduced Table 1 (Emb, two test datasets, two seeds)",
                 config={"methods": ("Emb",), "seeds": (0, 1), "epochs": 10, "peers": ("|Pearson|",)}),
}
TABLE_PRESETS = ("table1", "table2", "table3", "table4", "table5", "table6")


def jobs(name: str, available: list[str], sizes=(500,), include_train_cell: bool = False) -> list[tuple[str, list[str], tuple | None]]:
    """The (train, tests, N/P ratios or None) jobs of preset ``name`` over the ``available`` dataset names.

    ``sizes``: gene-set sizes to include (table1 runs each size separately; the others use TFs+500 by default).
    ``include_train_cell``: keep test datasets of the training cell type (labelled in the rows).
    Raises: ValueError for an unknown preset.
    """
    if name not in PRESETS:
        raise ParameterError(f"unknown preset {name!r}; expected one of {', '.join(list(PRESETS) + ['all'])}")
    p = PRESETS[name]
    out = []
    for size in sizes:
        pool = [d for d in available if parse_dataset_name(d)[2] == size]
        info = {d: parse_dataset_name(d) for d in pool}
        if name in ("table1", "table6", "ci"):
            train = f"STRING/hESC/{size}"
            if train not in pool:
                continue
            tests = select_test_datasets(train, pool, include_train_cell)
            if name == "ci":
                tests = [t for t in (f"STRING/mHSC-L/{size}", f"Specific/mHSC-L/{size}") if t in tests]
            out.append((train, tests, None))
        elif name == "table2":
            out += [(t, select_test_datasets(t, pool, include_train_cell), None) for t in pool]
        elif name == "table3":
            for t in pool:
                if info[t][0] in ("STRING", "Non-Specific", "Specific"):
                    out.append((t, [d for d in select_test_datasets(t, pool, include_train_cell) if info[d][0] == info[t][0]], None))
        elif name == "table4":
            for t in pool:
                human = info[t][1] in HUMAN_CELLS
                tests = [d for d in select_test_datasets(t, pool, include_train_cell)
                         if info[d][0] == info[t][0] and (info[d][1] in HUMAN_CELLS) != human]
                if tests:
                    out.append((t, tests, None))
        elif name == "table5":
            for t in pool:
                tests = [d for d in pool if d != t and info[d][1] == info[t][1]]
                if tests:
                    out.append((t, tests, None))
    return [j for j in out if j[1]]


def select_test_datasets(train: str, candidates, include_train_cell: bool = False) -> list[str]:
    """``candidates`` without ``train`` and, unless ``include_train_cell``, without every dataset of its cell type."""
    _, cell, _ = parse_dataset_name(train)
    return [d for d in candidates if d != train and (include_train_cell or parse_dataset_name(d)[1] != cell)]


def group_label(preset: str, train: str, test: str, np_ratio: float) -> str:
    """The row label of a (train, test) cell in preset ``preset``'s table."""
    g = PRESETS[preset].group_by
    net, cell, size = parse_dataset_name(train)
    if g == "test":
        return test
    if g == "train":
        return train
    if g == "train_cell":
        return f"{cell}/{size}"
    if g == "species":
        return "Human" if cell in HUMAN_CELLS else "Mouse"
    if g == "train_network":
        return NETWORK_ABBREV.get(net, net)
    if g == "np_ratio":
        return f"N/P {np_ratio:g}"
    raise ParameterError(f"unknown group_by {g!r}")
