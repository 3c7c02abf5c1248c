"""Text formatting of the generated README blocks (``readme_figures``): numbers, p-values, wrapped paragraphs."""

from __future__ import annotations

import re
import textwrap

import numpy as np


def f3(x: float) -> str:
    """0.595 (three decimals)."""
    return f"{x:.3f}"


def sgn(x: float) -> str:
    """+0.046 / −0.021 (three decimals, typographic minus)."""
    return f"{x:+.3f}".replace("-", "−")


def fp(p: float) -> str:
    """p-value as the README prints it: two significant digits from 0.001, else one (5e-7)."""
    if not np.isfinite(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-3 else re.sub(r"e-0*", "e-", f"{p:.0e}")


WIDTH = 118  # the README's line width


def para(text: str) -> str:
    """One Markdown paragraph wrapped at ``WIDTH``, with a blank line after it."""
    return textwrap.fill(text, WIDTH, break_long_words=False, break_on_hyphens=False) + "\n\n"


def bullet(text: str) -> str:
    """One Markdown list item wrapped at ``WIDTH`` (continuation lines indented by two spaces)."""
    return textwrap.fill("- " + text, WIDTH, subsequent_indent="  ", break_long_words=False,
                         break_on_hyphens=False) + "\n"


def esc(name: str) -> str:
    """A method name for a Markdown table cell (| escaped)."""
    return name.replace("|", "\\|")


def relation(m: dict, alpha: float = 0.05) -> str:
    """"above" / "below" when the Wilcoxon p is under ``alpha``, else "level with"."""
    if np.isfinite(m["p"]) and m["p"] < alpha:
        return "above" if m["mean"] > 0 else "below"
    return "level with"


def listing(items) -> str:
    """"a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
