"""Data: the dataset model (``datasets.GRNDataset``), the BEELINE loader and user-list datasets (``datasets``), readers
for user files (``readers``), TF→target candidate pairs and splits (``pairs``), and SERGIO-simulated expression from a
known network (``simulate``). The bottom layer: imports only ``config`` and ``errors``."""
