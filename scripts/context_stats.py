"""Write (or check) the exact context-z statistics a checkpoint ships for its bundled gene sets
(``ugrn_core.probes.context_stats``; issue 28): ``assets/scgpt_compact/context_statistics.json`` for the bundled model.

    python scripts/context_stats.py            # bundled checkpoint and translator, every TFs+500 set
    python scripts/context_stats.py --check    # recompute and compare with the shipped file, write nothing

The statistics come from the full probe arrays, read from the probe cache (``UGRN_CACHE_DIR``) or computed (minutes
per gene set on 2 cores). Run it after anything that changes the bundled model's probes (checkpoint, probe version,
the translator's virtual values); ``tests/test_context_stats.py`` fails until then.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    """Write or check (``--check``: exit 1 on a difference) the statistics file; exit 2 when no dataset matches."""
    from ugrn_core import api, methods
    from ugrn_core.probes.context_stats import RTOL, compute, differences, load, write

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", default=None, help="checkpoint folder (default: the bundled one)")
    ap.add_argument("--translator", default=None, help="translator whose probe parameters are used (default: bundled)")
    ap.add_argument("--datasets", default="*/*/500", help="BEELINE dataset names, a glob (default: every TFs+500 set)")
    ap.add_argument("--probes", default=None, help="comma list (default: the probes read from lines, VVP and GDT)")
    ap.add_argument("--check", action="store_true", help="recompute and compare with the shipped file; write nothing")
    args = ap.parse_args(argv)
    fm = api.load_model(args.checkpoint)
    tr = api.load_translator(args.translator)
    names = [n for n in api.list_datasets() if fnmatch.fnmatch(n, args.datasets)]
    if not names:
        print(f"--datasets {args.datasets!r}: no BEELINE dataset matches", file=sys.stderr)
        return 2
    probe_names = (args.probes.split(",") if args.probes else
                   [p for p in methods.probe_names() if methods.probe_owner(p).probe_lines is not None])
    fresh = compute(fm, [api.load_beeline(n) for n in names], probe_names, tr.params,
                    progress=lambda what: print(f"  {what}", flush=True))
    if args.check:
        bad = differences(load(fm), fresh)
        print("\n".join(bad) if bad else f"{len(fresh)} entries recomputed: all equal the shipped ones "
                                          f"(within {RTOL:g} of each slice's std)")
        return 1 if bad else 0
    out = write(fm, fresh)  # what this run computed: entries of older probe versions do not linger
    print(f"wrote {len(fresh)} entries ({len(names)} datasets × {len(probe_names)} probes) to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
