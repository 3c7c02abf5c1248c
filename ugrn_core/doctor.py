"""``ugrn doctor``: what a bug report needs, and what is wrong with this installation, in one list of checks.

Each check is a :class:`Check` with a status (``ok``, ``info``, ``warn`` or ``fail``), a one-line detail and, when it is
not ok, the fix (an exact command or setting). :func:`run_checks` returns them in a fixed order; :func:`format_report`
renders them; :func:`exit_code` is 0 when no check failed (warnings do not fail), 1 otherwise. The CLI only prints.

Checks: Python; this package (version, location, source checkout or installed); torch (version, CUDA build); the torch
device and its memory; the declared dependencies (installed versions against pyproject's lower bounds) and the
optional extras; scgpt's model code (imported the way ``ugrn_core.scfm`` imports it, because scgpt must be installed
with ``--no-deps``); the data directory (BEELINE datasets found, how many lack expression, the ortholog table); the
checkpoint (files, content id, vocabulary size, whether it loads); the translator (methods, training dataset, whether
its ``checkpoint_id`` matches the checkpoint's); the probe cache (location, size, writable).
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import platform
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from . import __version__, config

DIST_NAME = "ugrn-explorer"
SCGPT_INSTALL = "pip install --no-deps scgpt==0.2.4"
STATUSES = ("ok", "info", "warn", "fail")


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report.

    Attributes:
        name: what was checked, e.g. ``"torch"``, ``"data directory"``.
        status: ``"ok"``, ``"info"`` (reported, nothing to judge), ``"warn"`` (optional part missing or suspicious;
            does not fail) or ``"fail"`` (a required part is missing or broken; :func:`exit_code` returns 1).
        detail: what was found (versions, paths, counts).
        fix: for warn/fail, what to run or set; empty otherwise.
    """

    name: str
    status: str
    detail: str
    fix: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"Check status must be one of {STATUSES}, got {self.status!r}")


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _dist_version(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


def _version_tuple(v: str) -> tuple[int, ...]:
    """Leading numeric release of a version string, e.g. "2.13.0+cpu" → (2, 13, 0), "1.0rc1" → (1, 0)."""
    parts = []
    for piece in v.split("+")[0].split("."):
        m = re.match(r"\d+", piece)
        if not m:
            break
        parts.append(int(m.group()))
        if m.group() != piece:
            break
    return tuple(parts)


def _declared_requirements() -> list[str]:
    """Requirement strings as in package metadata: the checkout's pyproject.toml when running from a source checkout
    (installed metadata may be older), else the installed distribution's metadata; [] when neither is readable."""
    if config.SOURCE_CHECKOUT:
        try:
            import tomllib

            project = tomllib.loads((config.REPO_ROOT / "pyproject.toml").read_text())["project"]
            reqs = list(project.get("dependencies", []))
            for extra, items in project.get("optional-dependencies", {}).items():
                reqs += [f'{r}; extra == "{extra}"' for r in items]
            return reqs
        except (ImportError, OSError, KeyError, ValueError):
            pass
    try:
        return md.requires(DIST_NAME) or []
    except md.PackageNotFoundError:
        return []


def _requirements() -> list[tuple[str, str | None, str | None, str]]:
    """Declared requirements as ``(distribution name, lower bound or None, extra or None, requirement without
    marker)``, e.g. ``("dask", None, "peers", "dask[dataframe]==2024.12.1")``."""
    reqs = _declared_requirements()
    out = []
    for r in reqs:
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*([^;]*)(?:;\s*(.*))?$", r)
        if not m:
            continue
        name, spec, marker = m.group(1), m.group(3), m.group(4) or ""
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        lower = re.search(r">=\s*([0-9][^,\s]*)", spec)
        out.append((name, lower.group(1) if lower else None, extra.group(1) if extra else None,
                    r.split(";")[0].strip()))
    return out


# ----------------------------------------------------------------------------------------------------- checks
def check_python() -> Check:
    v = platform.python_version()
    ok = sys.version_info >= (3, 10)
    return Check("python", "ok" if ok else "fail", f"{v} ({sys.executable})",
                 "" if ok else "ugrn needs Python >= 3.10")


def check_package() -> Check:
    where = "source checkout" if config.SOURCE_CHECKOUT else "installed package"
    dist = _dist_version(DIST_NAME)
    note = "" if dist else "; distribution metadata not installed (running from the source tree)"
    return Check("ugrn-explorer", "ok", f"{__version__} at {config.PACKAGE_DIR} ({where}){note}")


def check_torch() -> Check:
    try:
        import torch
    except ImportError as e:
        return Check("torch", "fail", f"not importable: {e}",
                     "install a torch for your machine (https://pytorch.org/get-started/), e.g. `pip install torch`")
    cuda = torch.version.cuda
    return Check("torch", "ok", f"{torch.__version__} (CUDA build: {cuda or 'none, CPU only'})")


def check_device(device: str | None = None) -> Check:
    try:
        import torch
    except ImportError:
        return Check("device", "fail", "torch missing", "see the torch line")
    name = device or config.default_device()
    forced = " (--device)" if device else " (UGRN_DEVICE)" if os.environ.get("UGRN_DEVICE") else ""
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            return Check("device", "fail", f"{name}{forced} requested but torch.cuda.is_available() is False",
                         "unset UGRN_DEVICE or install a CUDA build of torch matching your driver")
        idx = torch.device(name).index or 0
        props = torch.cuda.get_device_properties(idx)
        free, total = torch.cuda.mem_get_info(idx)
        return Check("device", "ok", f"{name}{forced}: {props.name}, {_human_bytes(total)} memory "
                                     f"({_human_bytes(free)} free), {torch.cuda.device_count()} GPU(s)")
    detail = f"{name}{forced}: {os.cpu_count()} CPU cores"
    try:
        detail += f", {_human_bytes(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES'))} RAM"
    except (ValueError, OSError, AttributeError):
        pass
    if name == "cpu" and torch.version.cuda and not torch.cuda.is_available():
        return Check("device", "warn", detail + "; this torch is a CUDA build but sees no GPU",
                     "check the NVIDIA driver (`nvidia-smi`) and CUDA_VISIBLE_DEVICES")
    return Check("device", "info", detail + " (no GPU: full-size scGPT GDT probes are slow on CPU)")


def check_dependencies() -> list[Check]:
    """One check per declared core dependency (fail when missing or below its lower bound) and one per extra."""
    core, extras = [], {}
    for name, lower, extra, req in _requirements():
        if name.lower() in ("torch", DIST_NAME):
            continue  # torch has its own line; "all" refers to the other extras
        (extras.setdefault(extra, []) if extra else core).append((name, lower, req))
    found, problems, fixes = [], [], []
    for name, lower, _ in core:
        v = _dist_version(name)
        if v is None:
            problems.append(f"{name} missing")
            fixes.append(f"{name}>={lower}" if lower else name)
        elif lower and _version_tuple(v) < _version_tuple(lower):
            problems.append(f"{name} {v} < {lower}")
            fixes.append(f"{name}>={lower}")
        else:
            found.append(f"{name} {v}")
    if not core:
        return [Check("dependencies", "warn", "declared requirements not readable (no metadata, no pyproject.toml)",
                      f"reinstall: pip install {DIST_NAME}")]
    checks = [Check("dependencies", "fail" if problems else "ok", "; ".join(problems + found),
                    f"pip install {' '.join(repr(f) for f in fixes)}" if fixes else "")]
    for extra, reqs in sorted(extras.items()):
        if extra in ("all", "tests"):
            continue
        have = [(n, _dist_version(n), req) for n, _, req in reqs]
        missing = [repr(req) for n, v, req in have if v is None]
        detail = ", ".join(f"{n} {v}" if v else f"{n} missing" for n, v, _ in have)
        checks.append(Check(f"extra [{extra}]", "warn" if missing else "ok", detail,
                            f"pip install {' '.join(missing)}   (optional)" if missing else ""))
    scanpy = _dist_version("scanpy")
    checks.append(Check("scanpy", "info", f"{scanpy} (not required)" if scanpy else "not installed (not required)"))
    return checks


def check_scgpt() -> Check:
    from .scfm import scgpt as scfm

    v = _dist_version("scgpt")
    try:
        scfm.import_transformer_model()
    except ImportError as e:
        return Check("scgpt model code", "fail", f"not importable: {e}",
                     f"{SCGPT_INSTALL}   (with --no-deps: scgpt's declared dependencies do not install beside a "
                     "current torch, and only its model code is used)")
    except Exception as e:  # noqa: BLE001  -- a broken install can raise anything at import time
        return Check("scgpt model code", "fail", f"scgpt {v} installed but its model code fails to import: "
                     f"{type(e).__name__}: {e}", SCGPT_INSTALL.replace("install", "install --force-reinstall"))
    return Check("scgpt model code", "ok", f"scgpt {v}: TransformerModel imports")


def check_data(data_dir=None) -> list[Check]:
    from .data.datasets import list_datasets

    origin = "--data-dir"
    path = Path(data_dir).expanduser() if data_dir else None
    if path is None:
        path, origin = config.default_data_dir()
    fix = "pass --data-dir DIR or set UGRN_DATA_DIR=DIR (BEELINE networks in GENELink layout; see README)"
    try:
        root = config.resolve_data_dir(path)
    except FileNotFoundError:
        return [Check("data directory", "fail", f"'{path}' (from {origin}) does not exist", fix)]
    names = list_datasets(root)
    if not names:
        return [Check("data directory", "fail", f"{root} (from {origin}): no BEELINE dataset under beeline/", fix)]
    folders = [f.parent for f in sorted(root.glob("beeline/*/*/TFs+*/TF.csv"))]
    no_expr = [f"{f.parent.parent.name.replace(' Dataset', '')}/{f.parent.name}/{f.name[4:]}" for f in folders
               if not any((f / n).is_file() for n in ("BL--ExpressionData.csv.gz", "BL--ExpressionData.csv"))]
    detail = f"{root} (from {origin}): {len(names)} BEELINE datasets"
    detail += f", {len(no_expr)} without expression ({', '.join(no_expr[:4])}{', …' if len(no_expr) > 4 else ''})" \
        if no_expr else ", all with expression"
    checks = [Check("data directory", "ok", detail)]
    orth = root / "gene_annotation" / "ensembl105_human2mouse_genes.csv.gz"
    checks.append(Check("ortholog table", "ok", str(orth)) if orth.is_file() else
                  Check("ortholog table", "warn", f"missing: {orth} (needed to map mouse genes to a human vocabulary)",
                        "copy gene_annotation/ensembl105_human2mouse_genes.csv.gz into the data directory"))
    return checks


def _checkpoint_id(path: Path) -> str:
    from .scfm.checkpoint import _hash_files  # the id the cache and translators record (content hash of the three files)

    return _hash_files([path / n for n in ("args.json", "vocab.json", "best_model.pt")])


def _chosen_folder(given, option: str, default: Callable[[], tuple[Path, str]]) -> tuple[Path, str]:
    """The folder a check looks at and where that choice came from: ``given`` (the command-line ``option``), else
    the default that every command uses (``config.default_checkpoint_dir`` / ``default_translator_dir``)."""
    return (Path(given).expanduser().resolve(), option) if given else default()


def check_checkpoint(checkpoint=None, device=None, load: bool = True) -> tuple[Check, str | None]:
    """The checkpoint check and the checkpoint's content id (None when it cannot be read)."""
    path, origin = _chosen_folder(checkpoint, "--checkpoint", config.default_checkpoint_dir)
    origin = "bundled compact scGPT" if origin == config.BUNDLED else origin
    missing = [n for n in ("args.json", "vocab.json", "best_model.pt") if not (path / n).is_file()]
    if missing:
        return Check("checkpoint", "fail", f"{path} ({origin}) lacks {', '.join(missing)}",
                     "point --checkpoint at a folder in the official scGPT layout (args.json, vocab.json, "
                     "best_model.pt), e.g. scGPT_human"), None
    cid = _checkpoint_id(path)
    size = (path / "best_model.pt").stat().st_size
    detail = f"{path} ({origin}): id {cid}, weights {_human_bytes(size)}"
    if not load:
        n_vocab = len(json.loads((path / "vocab.json").read_text()))
        return Check("checkpoint", "ok", detail + f", vocabulary {n_vocab:,} tokens (not loaded)"), cid
    from .scfm.checkpoint import load_checkpoint

    try:
        fm = load_checkpoint(path, device=device)
    except ImportError:
        return Check("checkpoint", "warn", detail + "; not loaded (scgpt missing)", "see the scgpt line"), cid
    except Exception as e:  # noqa: BLE001  -- report any loader error as the reason
        return Check("checkpoint", "fail", detail + f"; does not load: {type(e).__name__}: {e}",
                     "use an unmodified official checkpoint folder (see README, 'On your own machine')"), cid
    detail += (f", vocabulary {len(fm.vocab):,} tokens, {fm.n_layers} layers, d_model {fm.d_model}; "
               f"loads on {fm.device}")
    return Check("checkpoint", "ok", detail), cid


def check_translator(translator=None, checkpoint_id: str | None = None, checkpoint_arg=None) -> Check:
    path, origin = _chosen_folder(translator, "--translator", config.default_translator_dir)
    meta_file = path / "meta.json"
    if not meta_file.is_file() or not (path / "projectors.pt").is_file():
        return Check("translator", "fail", f"{path} ({origin}) lacks meta.json or projectors.pt",
                     "train one: ugrn train --checkpoint CKPT --dataset STRING/hESC/500 --out DIR")
    meta = json.loads(meta_file.read_text())
    detail = (f"{path} ({origin}): methods {','.join(meta.get('methods', []))}, trained on {meta.get('trained_on')} "
              f"with checkpoint {meta.get('checkpoint_id')}")
    if checkpoint_id is None:
        return Check("translator", "warn", detail + "; checkpoint unreadable, match not checked", "see the checkpoint line")
    if meta.get("checkpoint_id") != checkpoint_id:
        ckpt = f"--checkpoint {checkpoint_arg}" if checkpoint_arg else "--checkpoint CKPT"
        return Check("translator", "fail", detail + f"; does NOT match the checkpoint (id {checkpoint_id}): its "
                     "features come from another model",
                     f"train a translator for this checkpoint: ugrn train {ckpt} --dataset STRING/hESC/500 "
                     "--out my_translator, then pass --translator my_translator")
    return Check("translator", "ok", detail + " = this checkpoint")


def check_cache(cache=None) -> Check:
    origin = "--cache-dir"
    path = Path(cache).expanduser() if cache else None
    if path is None:
        path, origin = config.default_cache_dir()
    if not path.exists():
        return Check("probe cache", "ok", f"{path} (from {origin}): empty, created on first use")
    files = [f for f in path.rglob("*") if f.is_file()]
    size = sum(f.stat().st_size for f in files)
    n_arrays = sum(f.suffix == ".npy" for f in files)
    models = sum(d.is_dir() for d in path.iterdir())
    detail = f"{path} (from {origin}): {_human_bytes(size)} in {n_arrays} probe arrays for {models} checkpoint(s)"
    if not os.access(path, os.W_OK):
        return Check("probe cache", "fail", detail + "; not writable", "set UGRN_CACHE_DIR to a writable folder")
    return Check("probe cache", "ok", detail)


def run_checks(data_dir=None, checkpoint=None, translator=None, cache=None, device=None, load_model: bool = True,
               on_check: Callable[[Check], None] | None = None) -> list[Check]:
    """Run every check in report order and return them; ``on_check`` is called with each check as it completes.

    Args:
        data_dir, checkpoint, translator, cache, device: what the other commands would use (None = their defaults:
            ``UGRN_DATA_DIR`` / bundled checkpoint or ``UGRN_APP_CHECKPOINT`` / bundled translator or
            ``UGRN_APP_TRANSLATOR`` / ``UGRN_CACHE_DIR`` / ``UGRN_DEVICE``).
        load_model: load the checkpoint (proves it loads; a few seconds for scGPT_human) or only hash its files.
    Never raises for a broken installation: every problem becomes a ``fail`` check with its fix.
    """
    checks: list[Check] = []

    def add(c: Check | list[Check]):
        for one in c if isinstance(c, list) else [c]:
            checks.append(one)
            if on_check:
                on_check(one)

    add(check_python())
    add(check_package())
    add(check_torch())
    torch_ok = checks[-1].status == "ok"
    if torch_ok:
        add(check_device(device))
    add(check_dependencies())
    if torch_ok:
        add(check_scgpt())
    add(check_data(data_dir))
    if torch_ok:
        scgpt_ok = checks[[c.name for c in checks].index("scgpt model code")].status == "ok"
        ckpt, cid = check_checkpoint(checkpoint, device, load=load_model and scgpt_ok)
        add(ckpt)
        add(check_translator(translator, cid, checkpoint))
    add(check_cache(cache))
    return checks


def exit_code(checks: list[Check]) -> int:
    """0 when no check failed (warnings allowed), 1 otherwise."""
    return 1 if any(c.status == "fail" for c in checks) else 0


def format_check(c: Check) -> str:
    line = f"{c.status.upper() if c.status == 'fail' else c.status:<5} {c.name:<17} {c.detail}"
    return line + (f"\n      {'':<17} fix: {c.fix}" if c.fix else "")


def format_report(checks: list[Check]) -> str:
    """The report as text: one line per check (status, name, detail) and an indented ``fix:`` line under problems."""
    n_fail = sum(c.status == "fail" for c in checks)
    n_warn = sum(c.status == "warn" for c in checks)
    summary = "all required checks passed" if not n_fail else f"{n_fail} required check(s) FAILED"
    return "\n".join([format_check(c) for c in checks] + [f"{summary}; {n_warn} warning(s)"])


def as_dicts(checks: list[Check]) -> list[dict]:
    """The checks as plain dicts (for ``--json``)."""
    return [asdict(c) for c in checks]


__all__ = ["Check", "run_checks", "exit_code", "format_report", "format_check", "as_dicts", "SCGPT_INSTALL"]
