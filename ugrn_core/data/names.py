"""BEELINE's naming: its networks, cell types (with their species), gene-set sizes and the dataset names built from
them ("STRING/hESC/500"). Strings only, no file is read, so the benchmark's protocol (``bench.presets``) can reason
about dataset names without the dataset loader."""

from __future__ import annotations

from ..errors import ParameterError

SPECIES = {"hESC": "human", "hHEP": "human", "mDC": "mouse", "mESC": "mouse",
           "mHSC-E": "mouse", "mHSC-GM": "mouse", "mHSC-L": "mouse"}
NETWORKS = {"STRING": "STRING Dataset", "Non-Specific": "Non-Specific Dataset",
            "Specific": "Specific Dataset", "Lofgof": "Lofgof Dataset"}
SIZES = (500, 1000)


def parse_dataset_name(name: str) -> tuple[str, str, int]:
    """Split ``"<network>/<cell>/<size>"`` (e.g. ``"STRING/hESC/500"``) into ``(network, cell, size)``.

    Raises:
        ValueError: not three '/'-separated parts, or an unknown network (keys of :data:`NETWORKS`),
            cell (keys of :data:`SPECIES`) or size (500 or 1000); the message lists the allowed values.
    """
    parts = str(name).strip().split("/")
    if len(parts) != 3:
        raise ParameterError(f"Dataset name {name!r} must look like '<network>/<cell>/<size>', e.g. 'STRING/hESC/500'.")
    network, cell, size = parts
    if network not in NETWORKS:
        raise ParameterError(f"Unknown network {network!r} in dataset name {name!r}; expected one of {list(NETWORKS)}.")
    if cell not in SPECIES:
        raise ParameterError(f"Unknown cell type {cell!r} in dataset name {name!r}; expected one of {list(SPECIES)}.")
    if size not in {str(s) for s in SIZES}:
        raise ParameterError(f"Unknown size {size!r} in dataset name {name!r}; expected one of {list(SIZES)} "
                         "(the TFs+500 / TFs+1000 gene sets).")
    return network, cell, int(size)
