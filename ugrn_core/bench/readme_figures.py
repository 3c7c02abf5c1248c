"""The README's result tables and the sentences that carry figures from the bundled benchmark, generated from the
bundled rows so that a rerun cannot leave stale numbers (issue 24).

``python -m ugrn_core.bench.readme_figures`` (or ``make readme``) rewrites every block of README.md and of the model card
(``assets/scgpt_compact/MODEL_CARD.md``) that sits between ``<!-- generated: NAME -->`` and ``<!-- end generated -->``;
``--check`` only reports stale blocks (exit 1), ``--print`` prints the blocks. Sources, all bundled:

- ``assets/benchmark_default/rows.csv`` (Table 1) and ``assets/benchmark_tables/table2…6/rows.csv.gz``;
- ``assets/benchmark_previous/summary_d128.csv``: the same averages for the previous bundled checkpoint (``PREVIOUS``:
  d_model 128, the original BEELINE + HSMM + pbmc68k corpus, bundled 2026-12-06 → 07; computed by ``summary_frame``
  from its bundled rows, git commit 54781c0, ``--summarise-previous``; the bracketed figures);
- ``assets/paper/table1_auprc.csv``: the paper's per-dataset Table 1 AUPRC, both backbone columns.

Averages follow ``ugrn_core.bench.tables`` (the bundled ``results.md``): a table row's value per seed is its test
dataset's AUPRC (Table 1) or the mean over the row's test datasets where every method of the row is defined (grouped
Tables 2–6, ``tables.per_seed``); the mean over seeds gives the row's value, and a table's average is the mean over
the rows where every method shown is defined (Table 1: the 16 test datasets with expression). Margins "± s.d." are
the mean and s.d. over seeds of the per-seed difference of those averages; "k of n" and p come from a two-sided
Wilcoxon signed-rank test over the same rows (``stats.paired_wilcoxon``).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import methods as registry
from ..config import ASSETS_DIR
from ..methods import SHUFFLED_SUFFIX, TWIN_SUFFIX
from .readme_cast import MODEL_SCORES, SHOWN, TABLE1_COLS, TRANSLATORS, UNSEEN, C, shuffled, twin
from .stats import paired_wilcoxon
from .readme_text import bullet, esc, f3, fp, listing, para, relation, sgn
from .tables import per_seed

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
MODEL_CARD = ASSETS_DIR / "scgpt_compact" / "MODEL_CARD.md"
PREVIOUS_CSV = ASSETS_DIR / "benchmark_previous" / "summary_d128.csv"
# The checkpoint whose averages PREVIOUS_CSV holds, and the bundled one, as the generated sentences name them.
PREVIOUS = "the d_model-128 checkpoint of the original corpus bundled 2026-12-06 → 07"
BUNDLED = "the broad corpus (12,478 cells, 25 sources; docs/corpus.md), d_model 64, 6,000 steps, since 2026-12-07"
PAPER_CSV = ASSETS_DIR / "paper" / "table1_auprc.csv"
ROWS_FILES = {"table1": "benchmark_default/rows.csv", **{f"table{t}": f"benchmark_tables/table{t}/rows.csv.gz"
                                                          for t in range(2, 7)}}

ROW_TITLES = {"table1": "1: train STRING/hESC ({n} test datasets with expression)",
              "table2": "2: each TFs+500 dataset as source ({n})", "table3": "3: within a network, by cell type ({n})",
              "table4": "4: across species ({n})", "table5": "5: across networks, same cell type ({n})",
              "table6": "6: Table 1 at N/P 10"}
NP_RATIO = {"table6": 10.0}  # the N/P ratio each table's README row shows (default 1)
START = re.compile(r"<!-- generated: ([a-z0-9-]+) -->\n")
END = "<!-- end generated -->"


# ----------------------------------------------------------------------------------------------------- numbers
def load_rows(assets=ASSETS_DIR) -> dict[str, pd.DataFrame]:
    """preset → its bundled rows (one row per train, test, seed, negatives, N/P, method, view).

    Raises: FileNotFoundError naming the missing file."""
    out = {}
    for preset, rel in ROWS_FILES.items():
        f = Path(assets) / rel
        if not f.is_file():
            raise FileNotFoundError(f"bundled benchmark rows '{f}' not found (expected from `make benchmark-all`)")
        out[preset] = pd.read_csv(f)
    return out


@dataclass
class Slice:
    """One table at one negatives mode, view and N/P ratio, restricted to the rows (labels) where every requested
    method is defined. ``means``: labels × methods seed-mean AUPRC; ``seeds``: per-seed values, long
    [label, method, seed, value]."""

    preset: str
    means: pd.DataFrame
    seeds: pd.DataFrame

    @property
    def n(self) -> int:
        return len(self.means)

    def avg(self, method: str) -> float:
        """Mean over the slice's rows of ``method``'s seed-mean AUPRC (NaN when absent)."""
        return float(self.means[method].mean()) if method in self.means else float("nan")

    def margin(self, a: str, b: str) -> dict:
        """``a`` − ``b``: mean_diff (of the averages), sd (over seeds of the per-seed average difference), wins, n,
        p (Wilcoxon over rows)."""
        w = paired_wilcoxon(self.means[a], self.means[b])
        per = self.seeds[self.seeds["method"].isin([a, b])].groupby(["method", "seed"])["value"].mean().unstack(0)
        d = per[a] - per[b]
        return {"mean": self.avg(a) - self.avg(b), "sd": float(d.std()), "wins": w["wins"], "n": w["n"], "p": w["p"]}


def table_slice(rows: pd.DataFrame, preset: str, methods, negatives: str = "uniform", view: str = "all",
                np_ratio: float | None = None) -> Slice:
    """``Slice`` of ``rows`` (one preset's bundled rows) for ``methods`` (those present; others ignored)."""
    np_ratio = NP_RATIO.get(preset, 1.0) if np_ratio is None else np_ratio
    sel = rows[(rows["negatives"] == negatives) & (rows["view"] == view) & (rows["np_ratio"] == np_ratio)]
    ps = per_seed(sel, preset, "AUPRC")
    means = ps.groupby(["label", "method"], sort=False)["value"].mean().unstack()
    means = means.reindex(index=list(dict.fromkeys(ps["label"])))
    cols = [m for m in dict.fromkeys(methods) if m in means and means[m].notna().any()]
    means = means[cols].dropna(how="any")
    seeds = ps[ps["label"].isin(means.index) & ps["method"].isin(cols)]
    return Slice(preset, means, seeds)


def seed_sd_max(rows: pd.DataFrame, preset: str, methods, negatives: str = "uniform") -> tuple[float, str, str]:
    """(largest s.d. over seeds of one table row's AUPRC, method, row label) among ``methods`` on all test pairs:
    the "± s.d." of the bundled ``results.md`` tables (N/P 1 except Table 6, whose rows are the N/P ratios)."""
    sel = rows[(rows["negatives"] == negatives) & (rows["view"] == "all") & rows["method"].isin(methods)]
    sd = per_seed(sel, preset, "AUPRC").groupby(["label", "method"])["value"].std().dropna()
    (label, method), value = sd.idxmax(), float(sd.max())
    return value, method, label


def summary_frame(rows_by_preset: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """[table, view, method, n_rows, AUPRC]: the README averages (uniform negatives) of every table, on all test
    pairs (methods ``SHOWN`` + the zero-shot attention score, shuffled labels) and on the unseen-gene view (``UNSEEN``). How
    ``summary_d128.csv`` was made from the previous checkpoint's bundled rows."""
    out = []
    for preset, rows in rows_by_preset.items():
        for view, methods in (("all", SHOWN), ("unseen genes", UNSEEN)):
            sl = table_slice(rows, preset, methods, view=view)
            extra = (C.attention,) + tuple(shuffled(m) for m in TRANSLATORS) if view == "all" else ()
            wide = table_slice(rows, preset, tuple(methods) + extra, view=view) if extra else sl
            for m in sl.means:
                out.append({"table": preset, "view": view, "method": m, "n_rows": sl.n, "AUPRC": sl.avg(m)})
            for m in extra:
                if m in wide.means and wide.n == sl.n:
                    out.append({"table": preset, "view": view, "method": m, "n_rows": wide.n, "AUPRC": wide.avg(m)})
    return pd.DataFrame(out)


def paper_columns(paper_csv=PAPER_CSV) -> pd.DataFrame:
    """backbone × method: the paper's Table 1 AUPRC averaged over its datasets (19 TFs+500), per backbone column
    ("scGPT", "scBenchmark"), with ``n`` the number of datasets."""
    p = pd.read_csv(paper_csv)
    t = p.pivot_table(index="backbone", columns="method", values="AUPRC", aggfunc="mean")
    t["n"] = p.groupby("backbone").apply(lambda g: len(g[["network", "dataset"]].drop_duplicates()),
                                         include_groups=False)
    return t


class Figures:
    """Every figure the generated blocks print, computed once from the bundled files."""

    def __init__(self, assets=ASSETS_DIR, previous_csv=None, paper_csv=None):
        assets = Path(assets)
        self.rows = load_rows(assets)
        prev = Path(previous_csv) if previous_csv else assets / PREVIOUS_CSV.relative_to(ASSETS_DIR)
        self.prev = pd.read_csv(prev).set_index(["table", "view", "method"])["AUPRC"] if prev.is_file() else None
        self.paper = paper_columns(Path(paper_csv) if paper_csv else assets / "paper" / "table1_auprc.csv")
        self.all = {t: table_slice(r, t, SHOWN) for t, r in self.rows.items()}
        self.unseen = {t: table_slice(r, t, UNSEEN, view="unseen genes") for t, r in self.rows.items()}
        self.t1 = {neg: table_slice(self.rows["table1"], "table1", TABLE1_COLS, negatives=neg)
                   for neg in ("uniform", "tf-positive")}

    def previous(self, table: str, method: str, view: str = "all") -> float:
        """The previous bundled checkpoint's average (``PREVIOUS``; NaN when not recorded)."""
        if self.prev is None:
            return float("nan")
        return float(self.prev.get((table, view, method), float("nan")))

    # -------------------------------------------------------------------------------------------------- blocks
    def pos_rate(self, preset: str) -> float:
        """Mean positive rate of the unseen-gene view's test pairs, averaged like the AUPRC (uniform negatives)."""
        rows = self.rows[preset]
        r = rows[(rows["view"] == "unseen genes") & (rows["method"] == C.prior)]
        r = r.assign(method="positive rate", AUPRC=r["n_pos"] / (r["n_pos"] + r["n_neg"]))
        sl = table_slice(pd.concat([rows, r]), preset, UNSEEN + ("positive rate",), view="unseen genes")
        return sl.avg("positive rate")

    def block_table1(self) -> str:
        """The Table 1 paragraph and table (both negative modes)."""
        u, t = self.t1["uniform"], self.t1["tf-positive"]
        rows = self.rows["table1"]
        scores = [c for c in TABLE1_COLS if not c.endswith((TWIN_SUFFIX, SHUFFLED_SUFFIX))]
        twins = [c for c in TABLE1_COLS if c.endswith(TWIN_SUFFIX)]
        negs = ("uniform", "tf-positive")
        sd_u, sd_t = (seed_sd_max(rows, "table1", scores, neg) for neg in negs)
        sd_tw = max(seed_sd_max(rows, "table1", twins, neg)[0] for neg in negs)
        sd_s = max(seed_sd_max(rows, "table1", [shuffled(C.ens)], neg)[0] for neg in negs)
        text = para(
            "`make benchmark-all` runs the paper's six tables (`ugrn benchmark --preset all`, then `ugrn report`) with "
            "seeds 0–4 (negative sampling and projector initialisation), both negative modes and every control; "
            "bundled in `assets/benchmark_default/` (Table 1, `results.md` has every table) and "
            "`assets/benchmark_tables/` (Tables 2–6 and `report.md`), then this section's tables and figures are "
            "rewritten from the bundled rows (`make readme`, `python -m ugrn_core.bench.readme_figures`; a test fails when "
            "they are stale). `make benchmark` runs Table 1 alone: train "
            f"STRING/hESC/500, test the paper's {rows['test'].nunique()} TFs+500 datasets of the other cell types. "
            f"Table 1, average AUPRC over the {u.n} test datasets with expression (mean over seeds; the largest seed "
            f"s.d. of one dataset is {f3(sd_u[0])} with uniform negatives ({sd_u[1]}, {sd_u[2]}) and {f3(sd_t[0])} "
            f"with tf-positive ones ({sd_t[1]}, {sd_t[2]}); the twins' s.d. reach {f3(sd_tw)}, and translators "
            f"trained on shuffled labels {f3(sd_s)}):")
        cols = [c for c in TABLE1_COLS if c in u.means]
        text += "| negatives | " + " | ".join(esc(c) for c in cols) + " |\n|---|" + "---|" * len(cols) + "\n"
        for name, sl in (("uniform (paper)", u), ("tf-positive", t)):
            text += f"| {name} | " + " | ".join(f3(sl.avg(c)) for c in cols) + " |\n"
        return text

    def block_six_tables(self) -> str:
        """The "All six tables" paragraph (with the seed s.d. maxima of Tables 2–6) and table."""
        sds = {p: seed_sd_max(self.rows[p], p, SHOWN) for p in ("table2", "table3", "table4", "table5", "table6")}
        top = max(sds, key=lambda p: sds[p][0])
        shown_unseen = [p for p in self.all if self.unseen[p].n == self.all[p].n]
        dev = max(abs(self.unseen[p].avg(C.prior) - self.pos_rate(p)) for p in shown_unseen)
        text = para(
            "All six tables, uniform negatives, average AUPRC over the rows and test datasets where every method is "
            "defined (grouped tables: each row averages the same test datasets for every column; then the mean over "
            "rows); bold: the highest in its row. Then the unseen-gene view (test pairs whose TF and target never "
            f"occur in the training pairs): {C.ens} beside its twin, {C.emb} and {C.peer}, and the chance level. On that "
            "view both genes of a pair are absent from the training pairs (degree 0), so the degree prior scores the "
            "pairs 0 and its AUPRC is the positive rate (the view matches genes by vocabulary token, the prior by "
            "upper-case symbol; for the few mouse genes where the two differ a pair can score above 0, and the "
            f"averages stay within {dev:.4f} of the positive rate). In brackets: the "
            f"same figure for {PREVIOUS} (the same regularised translators). Seed s.d. of a row, largest among the methods shown: {f3(sds[top][0])} (Table "
            f"{top[-1]}, {sds[top][1]}, row {sds[top][2]}); per table "
            + ", ".join(f"{p[-1]}: {f3(v[0])} ({v[1]})" for p, v in sds.items())
            + " (each table's `results.md` gives mean ± s.d. per row):")
        zero_shot = set(registry.names(family=registry.Family.ZERO_SHOT_PROBE))
        head = ["table (rows)", *[esc(c) + (" (zero-shot)" if c in zero_shot else "") for c in SHOWN],
                "unseen genes: " + " / ".join(esc(m) for m in UNSEEN[:-1]) + f" / chance ({C.prior.lower()})"]
        text += "| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n"
        for p, sl in self.all.items():
            best = max((m for m in SHOWN if m in sl.means), key=lambda m: round(sl.avg(m), 3))
            cells = [ROW_TITLES[p].format(n=sl.n)]
            for m in SHOWN:
                v = f3(sl.avg(m))
                v = f"**{v}**" if v == f3(sl.avg(best)) else v
                prev = self.previous(p, m)
                cells.append(v + (f" ({f3(prev)})" if m in MODEL_SCORES and np.isfinite(prev) else ""))
            us = self.unseen[p]
            if us.n < sl.n:
                cells.append(f"too few unseen-gene pairs ({us.n} of {sl.n} rows have any)")
            else:
                prev = self.previous(p, UNSEEN[0], "unseen genes")
                cells.append(f3(us.avg(UNSEEN[0])) + (f" ({f3(prev)})" if np.isfinite(prev) else "") + " / "
                             + " / ".join(f3(us.avg(m)) for m in UNSEEN[1:]))
            text += "| " + " | ".join(cells) + " |\n"
        return text

    def block_findings(self) -> str:
        """"What they show, plainly": the bullets, every figure computed."""
        ens, prior, peer, deep, emb, members = C.ens, C.prior, C.peer, C.deep_peer, C.emb, C.members
        t1, t1t = self.t1["uniform"], self.t1["tf-positive"]
        a1 = self.all["table1"]
        dp, dpt = a1.margin(ens, prior), t1t.margin(ens, prior)
        tw, pe, rd = a1.margin(ens, twin(ens)), a1.margin(ens, peer), a1.margin(ens, deep)
        vs_emb = [t1.margin(m, emb) for m in members]
        best1 = max((m for m in t1.means if not m.endswith((TWIN_SUFFIX, SHUFFLED_SUFFIX))), key=t1.avg)

        def goal_text(m, goal=0.05):
            return "met" if round(m["mean"], 3) >= goal else f"missed by {f3(goal - m['mean'])}"

        head1 = ("the trained translator is the best score in the table" if best1 == ens
                 else f"the best score in the table is {best1}, not the trained translator")
        vg = "level with" if all(relation(m) == "level with" for m in vs_emb) else "compared with"
        b1 = bullet(
            f"**On the paper's protocol (Table 1) {head1}**: {ens} {f3(a1.avg(ens))}, {relation(dp)} the degree "
            f"prior ({sgn(dp['mean'])} ± {f3(dp['sd'])} over seeds; {dp['wins']} of {dp['n']} datasets), its "
            f"random-init twin ({sgn(tw['mean'])}), {peer} on the test expression ({sgn(pe['mean'])}, "
            f"{pe['wins']} of {pe['n']}, p = {fp(pe['p'])}) and {deep} ({sgn(rd['mean'])}); "
            + listing(f"{m} {f3(t1.avg(m))}" for m in members) + f" are {vg} {emb} {f3(t1.avg(emb))} (p ≥ "
            f"{fp(min(m['p'] for m in vs_emb))}). The issue-13 goal was +0.05 over the degree prior: {goal_text(dp)} "
            f"with the paper's uniform negatives, {goal_text(dpt)} with tf-positive negatives ({sgn(dpt['mean'])} ± "
            f"{f3(dpt['sd'])}). Table 1's source (STRING/hESC) is a favourable one; this checkpoint was chosen on "
            "Table 2, so Table 1 is the table it was not chosen on.")
        a2 = self.all["table2"]
        d2, tw2 = a2.margin(ens, prior), a2.margin(ens, twin(ens))
        pe2, rd2 = a2.margin(ens, peer), a2.margin(ens, deep)
        prev_d2 = self.previous("table2", ens) - self.previous("table2", prior)
        t35 = ("table3", "table4", "table5")
        m35 = [self.all[p].margin(ens, prior)["mean"] for p in t35]
        emb_best = all(max((m for m in MODEL_SCORES if m in self.all[p].means), key=self.all[p].avg) == emb
                       for p in t35)
        below_emb = all(self.all[p].avg(m) < self.all[p].avg(emb) for p in t35 for m in members)
        b2 = bullet(
            f"**Across training sources (Table 2, {a2.n} sources) the translator is {relation(d2)} the degree "
            f"prior**: {ens} {f3(a2.avg(ens))} vs {f3(a2.avg(prior))} ({sgn(d2['mean'])}, {d2['wins']} of "
            f"{d2['n']}, Wilcoxon p = {fp(d2['p'])}; the previous bundle was {sgn(prev_d2)}), {sgn(tw2['mean'])} over "
            f"its twin ({tw2['wins']} of {tw2['n']}, p = {fp(tw2['p'])}); {relation(pe2)} {peer} "
            f"({sgn(pe2['mean'])}, p = {fp(pe2['p'])}) and {relation(rd2)} {deep} ({sgn(rd2['mean'])}, p = "
            f"{fp(rd2['p'])}). Tables 3–5 (within a network, across species, across networks) "
            + ("stay below" if all(m < 0 for m in m35) else "compared with")
            + f" the degree prior ({ens} {', '.join(sgn(m) for m in m35)})"
            + (f", where {emb} is the strongest model score (" + " / ".join(f3(self.all[p].avg(emb)) for p in t35)
               + ")" if emb_best else "")
            + (f" and {'/'.join(members)} are below {emb}" if below_emb else "") + ".")
        u2 = self.unseen["table2"]
        ut, ue, up = u2.margin(ens, twin(ens)), u2.margin(ens, emb), u2.margin(ens, peer)
        prev_up = self.previous("table2", ens, "unseen genes") - self.previous("table2", peer, "unseen genes")
        b3 = bullet(
            f"**On unseen genes (Table 2) the translator is {relation(ut)} its twin and {relation(ue)} {emb}, and "
            f"{'close to' if relation(up) == 'level with' else relation(up)} {peer}**: {ens} {f3(u2.avg(ens))} vs "
            f"its twin {f3(u2.avg(twin(ens)))} ({sgn(ut['mean'])}, {ut['wins']} of {ut['n']}, p = {fp(ut['p'])}), "
            f"vs {emb} {f3(u2.avg(emb))} ({sgn(ue['mean'])}, {ue['wins']} of {ue['n']}, p = {fp(ue['p'])}), vs "
            f"{peer} on the test expression {f3(u2.avg(peer))} ({sgn(up['mean'])}, {up['wins']} of "
            f"{up['n']}, p = {fp(up['p'])}; the previous bundle {sgn(prev_up)}). The degree prior is no competitor "
            "there: both genes are absent from the training pairs, so it scores (nearly) every pair 0 and sits at the "
            f"chance level (AUPRC {f3(u2.avg(prior))}; the positive rate is {f3(self.pos_rate('table2'))}).")
        ko, att = C.knockout, C.attention
        op2, op2p = a2.avg(ko), self.previous("table2", ko)
        oa2 = table_slice(self.rows["table2"], "table2", SHOWN + (att,)).avg(att)
        oa2p = self.previous("table2", att)
        op1 = a1.margin(ko, prior)
        b4 = bullet(
            f"**The zero-shot in-silico knockout ({ko}) {'is lower' if op2 < op2p else 'is higher'} than with the "
            f"previous bundle**: Table 2 {f3(op2)}, was {f3(op2p)}; it is {relation(op1)} the degree prior (Table 1 "
            f"{sgn(op1['mean'])}, p = {fp(op1['p'])}). The attention score {att} "
            f"{'rose' if oa2 > oa2p else 'fell'} (Table 2 {f3(oa2)}, was {f3(oa2p)}). Rows of Table 2 share test "
            "datasets, so its p-values overstate independence. The model saw these cell types' expression in "
            "pretraining (see \"Levers\" below on the models that did not).")
        twins = SHOWN + tuple(twin(m) for m in TRANSLATORS)
        beats = all(sl.avg(m) > sl.avg(twin(m)) for p in self.all
                    for sl in [table_slice(self.rows[p], p, twins)] for m in TRANSLATORS)
        shuffles = tuple(shuffled(m) for m in TRANSLATORS)
        sv = [s.avg(m) for p in ("table1", "table2", "table3", "table4", "table5")
              for s in [table_slice(self.rows[p], p, SHOWN + shuffles)] for m in shuffles if m in s.means]
        b5 = bullet(
            "**Pretraining adds something, and the controls behave**: "
            + (f"every translator ({', '.join(TRANSLATORS)}) beats its random-init twin in every table" if beats
               else "not every translator beats its random-init twin in every table")
            + f", and translators trained on shuffled labels sit near chance ({f3(min(sv))}–{f3(max(sv))} in "
            "Tables 1–5).")
        return (para(f"What they show, plainly (bundled checkpoint: {BUNDLED}; the models it replaced are in the "
                     "model card's history):").rstrip("\n") + "\n" + b1 + b2 + b3 + b4 + b5)

    def block_paper(self) -> str:
        """The paper's Table 1 averages, both backbone columns, labelled (the paper-table methods it reports)."""
        p = self.paper
        cols = tuple(m for m in registry.names(paper_table=True) if m in p.columns)
        row = lambda b: " | ".join(f3(p.at[b, m]) for m in cols)  # noqa: E731
        return (para(f"The paper's Table 1 has two columns per method, scGPT (scGPT_human) and scBenchmark; averages "
                     f"over its {int(p.at['scGPT', 'n'])} TFs+500 datasets, from `assets/paper/table1_auprc.csv` "
                     "(nothing here tests either model):") +
                "| paper's column | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols) + "\n"
                f"| scGPT (scGPT_human) | {row('scGPT')} |\n| scBenchmark | {row('scBenchmark')} |\n\n"
                + para("What the bundled model can and cannot do is summarised in its model card "
                       "(`assets/scgpt_compact/MODEL_CARD.md`)."))

    def block_rise(self) -> str:
        """The Levers paragraph's comparison of the default-rank method with the previous bundle, table by table."""
        ens = C.ens
        d = {p: self.all[p].avg(ens) - self.previous(p, ens) for p in self.all}
        d35 = [d[p] for p in ("table3", "table4", "table5")]
        up = [p for p in d if d[p] > 0]
        moved = ("rose on every table" if len(up) == len(d) else "fell on every table" if not up
                 else f"rose on {len(up)} of the {len(d)} tables")
        return para(
            "**The broad-corpus model that saw every cell is the bundled checkpoint since 2026-12-07** (chosen on Table "
            "2's STRING rows between the broad-corpus models with and without the test cell types, "
            f"`benchmarks/results/corpus_models.md`): against {PREVIOUS}, {ens} {moved} (Table 1 "
            f"{f3(self.previous('table1', ens))} → {f3(self.all['table1'].avg(ens))}, {sgn(d['table1'])}; Table 2 "
            f"{f3(self.previous('table2', ens))} → {f3(self.all['table2'].avg(ens))}, {sgn(d['table2'])} over "
            f"{self.all['table2'].n} sources; Tables 3–5 {sgn(min(d35))} to {sgn(max(d35))}; the \"All six tables\" "
            "table above, in brackets), with half the width, less than half the probing time (\"Speed\") and every BEELINE TF "
            "in its vocabulary.")

    def block_card(self) -> str:
        """The model card's "Can / Cannot" bullets that carry bundled figures."""
        ens, prior, peer, emb, members, ko, att = C.ens, C.prior, C.peer, C.emb, C.members, C.knockout, C.attention
        a1, t1t, a2, u2 = self.all["table1"], self.t1["tf-positive"], self.all["table2"], self.unseen["table2"]
        dp, tw = a1.margin(ens, prior), a1.margin(ens, twin(ens))
        dpt = t1t.margin(ens, prior)
        d2 = a2.margin(ens, prior)
        ut, ue, up = u2.margin(ens, twin(ens)), u2.margin(ens, emb), u2.margin(ens, peer)
        m35 = [self.all[p].margin(ens, prior)["mean"] for p in ("table3", "table4", "table5")]
        e35 = [self.all[p].avg(emb) for p in ("table3", "table4", "table5")]
        oa1 = table_slice(self.rows["table1"], "table1", SHOWN + (att,)).avg(att)
        oa2 = table_slice(self.rows["table2"], "table2", SHOWN + (att,)).avg(att)
        others = (prior, twin(ens)) + C.peers
        top = "above" if all(a1.avg(ens) > a1.avg(m) for m in others) else "compared with"
        t1 = self.t1["uniform"]
        vg = ("level with" if all(relation(t1.margin(m, emb)) == "level with" for m in members)
              else "compared with")
        under = lambda m: "below" if a2.avg(ens) < a2.avg(m) else "above"  # noqa: E731
        t35 = ("table3", "table4", "table5")
        emb_best = all(max((m for m in MODEL_SCORES if m in self.all[p].means), key=self.all[p].avg) == emb
                       for p in t35)
        below_emb = all(self.all[p].avg(m) < self.all[p].avg(emb) for p in t35 for m in members)
        peers = [f"{m}{' on the test expression' if m == peer else ''} ({f3(a1.avg(m))})" for m in C.peers]
        return (
            bullet(f"**Can**: on the paper protocol (Table 1: train STRING/hESC/500, {a1.n} test datasets of other "
                   f"cell types) give a trained ensemble ({ens} {f3(a1.avg(ens))}) {top} the degree prior made from "
                   f"the training labels ({f3(a1.avg(prior))}; {sgn(dp['mean'])} ± {f3(dp['sd'])} over "
                   f"seeds, {dp['wins']} of {dp['n']} datasets), its random-init twin ({f3(a1.avg(twin(ens)))}; "
                   f"{sgn(tw['mean'])}), " + listing(peers) + ". "
                   + listing(f"{m} {f3(a1.avg(m))}" for m in members) + f" are {vg} {emb} {f3(a1.avg(emb))}. With "
                   f"tf-positive negatives {ens} is {sgn(dpt['mean'])} ± {f3(dpt['sd'])} over the degree prior.")
            + bullet("**Can**: on pairs of genes the translator never saw (the unseen-gene view), beat its twin and "
                     f"{emb} (Table 2, {u2.n} training sources: {ens} {f3(u2.avg(ens))} vs "
                     f"{f3(u2.avg(twin(ens)))} / {f3(u2.avg(emb))}, above them for {ut['wins']} and "
                     f"{ue['wins']} of the {u2.n} sources); it is {relation(up)} {peer} on the test expression "
                     f"({sgn(up['mean'])}, p = {fp(up['p'])}). The degree prior is the chance level there (both genes "
                     "are absent from the training pairs, so it scores (nearly) every pair 0: AUPRC "
                     f"{f3(u2.avg(prior))}, the positive rate {f3(self.pos_rate('table2'))}).")
            + bullet("**Cannot (yet)**: clear the issue's margin (+0.05 over the degree prior on Table 1; "
                     + ("met" if round(dp["mean"], 3) >= 0.05 else f"missed by {f3(0.05 - dp['mean'])}")
                     + f"), nor beat the degree prior across training sources: Table 2 {ens} {f3(a2.avg(ens))} vs "
                     f"{f3(a2.avg(prior))} ({sgn(d2['mean'])}, {d2['wins']} of {d2['n']}, Wilcoxon p = "
                     f"{fp(d2['p'])}), "
                     + listing(f"{under(m)} {m} ({f3(a2.avg(m))})" for m in (peer, C.deep_peer))
                     + "; Tables 3–5 (within a "
                     f"network, across species, across networks) {ens} is {f3(-max(m35))}–{f3(-min(m35))} below the "
                     f"degree prior, and there {emb} "
                     f"({min(e35):.2f}–{max(e35):.2f}) is {'the' if emb_best else 'not always the'} best model score "
                     f"and {'/'.join(members)} are {'below it' if below_emb else 'not always below it'}. Table 1's "
                     "source is a favourable one; this checkpoint was chosen on Table 2's STRING rows.")
            + bullet(f"**Zero-shot**: {ko}, the in-silico knockout (the TF zeroed "
                     f"in the test dataset's mean cell), scores {f3(a2.avg(ko))} on Table 2 and "
                     f"{f3(a1.avg(ko))} on Table 1, "
                     f"{relation(a1.margin(ko, prior))} the degree prior there; the previous bundle (d_model 128, "
                     f"original corpus) reached {f3(self.previous('table2', ko))} / "
                     f"{f3(self.previous('table1', ko))}. {att} (attention weights) scores "
                     f"{f3(oa2)} / {f3(oa1)} (was {f3(self.previous('table2', att))} / "
                     f"{f3(self.previous('table1', att))})."))

    def blocks(self) -> dict[str, str]:
        """name → generated Markdown (each ends with a newline)."""
        out = {"results-table1": self.block_table1(), "results-six-tables": self.block_six_tables(),
               "results-findings": self.block_findings(), "results-paper": self.block_paper(),
               "results-rise": self.block_rise(), "card-findings": self.block_card()}
        return {k: v.rstrip("\n") + "\n" for k, v in out.items()}


# ------------------------------------------------------------------------------------------------ rewriting
def rewrite(text: str, blocks: dict[str, str], source: str = "README.md") -> str:
    """``text`` with every ``<!-- generated: NAME -->`` … ``<!-- end generated -->`` block replaced by
    ``blocks[NAME]``. Raises ValueError naming ``source`` and the block for an unknown name or a missing end marker."""
    out, pos = [], 0
    for m in START.finditer(text):
        if m.start() < pos:
            continue
        name = m.group(1)
        if name not in blocks:
            raise ValueError(f"{source}: unknown generated block '{name}'; expected one of {', '.join(blocks)}")
        end = text.find(END, m.end())
        if end < 0:
            raise ValueError(f"{source}: generated block '{name}' has no '{END}' line")
        out += [text[pos:m.end()], blocks[name]]
        pos = end
    return "".join(out) + text[pos:]


def shown_blocks(text: str) -> dict[str, str]:
    """name → the text currently between the markers of ``text``."""
    out = {}
    for m in START.finditer(text):
        end = text.find(END, m.end())
        out[m.group(1)] = text[m.end():end] if end >= 0 else None
    return out


def targets(readme=README, card=MODEL_CARD) -> list[Path]:
    return [Path(readme), Path(card)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ugrn_core.bench.readme_figures", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when a generated block is stale; write nothing")
    ap.add_argument("--print", dest="show", action="store_true", help="print the generated blocks; write nothing")
    ap.add_argument("--summarise-previous", metavar="ASSETS",
                    help="print summary_d128.csv (CSV) from another assets folder's bundled rows (an older commit's)")
    args = ap.parse_args(argv)
    if args.summarise_previous:
        summary_frame(load_rows(args.summarise_previous)).round(6).to_csv(sys.stdout, index=False)
        return 0
    blocks = Figures().blocks()
    if args.show:
        for name, b in blocks.items():
            print(f"<!-- generated: {name} -->\n{b}{END}\n")
        return 0
    stale = []
    for f in targets():
        if not f.is_file():
            continue
        text = f.read_text()
        new = rewrite(text, blocks, f.name)
        if new != text:
            stale.append(f)
            if not args.check:
                tmp = f.with_name(f".{f.name}.tmp")
                tmp.write_text(new)
                tmp.replace(f)
    for f in stale:
        print(f"{'stale' if args.check else 'rewrote'}: {f}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
