"""Backwards-compatible re-export of the dataset layer, split by job (new code imports the modules themselves):

- ``datasets``: the dataset model ``GRNDataset``, the BEELINE loader, datasets from user gene lists;
- ``readers``: gene-list, edge-list and expression file readers;
- ``vocab``: mouse→human orthologs and mapping genes into a checkpoint vocabulary;
- ``pairs``: candidate TF→target pairs, N/P-sampled negatives and splits.
"""

from .datasets import (NETWORKS, SIZES, SPECIES, GRNDataset, dataset_from_genes, list_datasets,  # noqa: F401
                       load_beeline, parse_dataset_name)
from .pairs import TF_MODES, candidate_pairs, sample_pairs, split_pairs  # noqa: F401
from .readers import EDGE_COLUMNS, read_edge_list, read_expression, read_gene_list  # noqa: F401
from .vocab import ORTHOLOG_FILE, SPECIAL_TOKENS, VocabMapping, load_orthologs, map_to_vocab  # noqa: F401
