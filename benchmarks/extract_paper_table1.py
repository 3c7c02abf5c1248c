"""Extract the UGRN paper's Table 1 (AUPRC, train hESC, test the rest) from the paper's text into a CSV.

Usage: python benchmarks/extract_paper_table1.py [paper.txt] > assets/paper/table1_auprc.csv
Rows: network, dataset, backbone (scGPT / scBenchmark), method, AUPRC — paper-reported, not computed here.
"""

import sys
from pathlib import Path

from ugrn_core.bench.benchmark import default_methods

NETS = {"Str": "STRING", "Nsp": "Non-Specific", "L/G": "Lofgof", "Spc": "Specific"}
CELLS = {"hHEP": "hHEP", "mDC": "mDC", "mESC": "mESC", "mH-E": "mHSC-E", "mH-G": "mHSC-GM", "mH-L": "mHSC-L"}

path = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/papers/ugrn-universal-grn-inference-2605.08128.txt")
lines = path.read_text().splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith("| Net | Data | Pert | Attn |"))
# the paper's 7 columns per backbone are our default methods in display order, abbreviated to the part after the last "-"
header = [c.strip() for c in lines[start].strip().strip("|").split("|")][2:9]
METHODS = default_methods()
assert [m.split("-")[-1] for m in METHODS] == header, f"paper columns {header} do not match methods {METHODS}"
print("network,dataset,backbone,method,AUPRC")
net = None
for line in lines[start + 1 :]:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if cells and cells[0] in NETS:
        net, cells = NETS[cells[0]], cells[1:]
    if not cells or cells[0] not in CELLS:
        break
    values = [float(c) for c in cells[1:15]]
    for k, value in enumerate(values):
        backbone = "scGPT" if k < 7 else "scBenchmark"
        print(f"{net},{CELLS[cells[0]]},{backbone},{METHODS[k % 7]},{value}")
