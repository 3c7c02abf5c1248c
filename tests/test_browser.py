"""Real-browser test: start ``streamlit run app.py`` on a free local port, open every page in headless Chromium,
check that no page shows an exception or an error box, save screenshots and print each page's time to first render.

Needs Debian's chromium at /usr/bin/chromium (``scripts/install_browser.sh``) and the Python ``playwright`` package
(its bundled driver only; never ``playwright install``). Skips, saying why, only when chromium is absent.

Screenshots go to ``test-output/screenshots/`` (gitignored); ``UGRN_UPDATE_SCREENSHOTS=1`` also copies them to
``docs/screenshots/`` for the README. Timings are printed and written to ``test-output/screenshots/timings.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("UGRN_CHROMIUM", "/usr/bin/chromium"))
OUT = REPO / "test-output" / "screenshots"
DOCS = REPO / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# (screenshot name, URL path, text the page's title holds)
# (name, URL path, page title, plotly charts that count as "first content")
PAGES = [
    ("home", "/", "UGRN explorer", 0),
    ("gene_pair", "/Gene_pair", "Gene pair", 2),
    ("network", "/Network", "Predicted network", 1),
    ("benchmark", "/Benchmark", "Benchmark", 1),
    ("train", "/Train", "Train a translator", 0),
]
# UGRN_BROWSER_PAGES=gene_pair,home: time only these pages (e.g. the Gene pair page's cold time to probabilities)
_ONLY = [n for n in os.environ.get("UGRN_BROWSER_PAGES", "").split(",") if n]
PAGES_RUN = [p for p in PAGES if not _ONLY or p[0] in _ONLY]
PAGE_TIMEOUT_S = float(os.environ.get("UGRN_BROWSER_PAGE_TIMEOUT", "120"))
COLD_PROBE_TIMEOUT_S = 900.0  # the first page that needs probes computes them when the disk cache is empty
MAX_DOC_PNG = 300 * 1024

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_health(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"streamlit not healthy after {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _probes_on_disk() -> bool:
    """Whether the default dataset's probes for the default method are already cached (else the first page computes them)."""
    from ugrn_core import api

    dataset = os.environ.get("UGRN_APP_DATASET", "STRING/mHSC-L/500")  # the app's default (ugrn_app.state)
    fm = api.load_model(os.environ.get("UGRN_APP_CHECKPOINT") or None)
    tr = api.load_translator(os.environ.get("UGRN_APP_TRANSLATOR") or None)
    needed = set(api.methods.probes_of([api.DEFAULT_METHOD]))
    return needed <= set(api.cached_probes(fm, api.load_beeline(dataset), tr.params))


def _wait_rendered(page, title: str, min_charts: int, t0: float, timeout_s: float) -> tuple[float, float]:
    """Wait until the script has finished (stApp notRunning, no spinner, title shown, plots drawn).

    Returns seconds since ``t0`` to the first content (title and the page's plots drawn, while the script may still
    be running) and to the finished page."""
    deadline = t0 + timeout_s
    first = None
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    stable_since, last_report = None, t0
    while time.perf_counter() < deadline:
        st = page.evaluate(
            """(title) => {
                const app = document.querySelector('[data-testid="stApp"]');
                const s = {state: app ? app.getAttribute('data-test-script-state') : null,
                           spinner: !!document.querySelector('[data-testid="stSpinner"]'),
                           progress: [...document.querySelectorAll('[data-testid="stProgress"]')].map(e => e.innerText).join(' | '),
                           title: [...document.querySelectorAll('h1')].some(e => e.innerText.includes(title)),
                           charts: document.querySelectorAll('[data-testid="stPlotlyChart"]').length,
                           drawn: [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                                  .filter(c => c.querySelector('.main-svg')).length};
                s.done = s.state === 'notRunning' && !s.spinner && s.title && (s.charts === 0 || s.drawn >= s.charts);
                return s;
            }""",
            title,
        )
        done = st.pop("done")
        if first is None and st["title"] and st["drawn"] >= min_charts:
            first = time.perf_counter() - t0
        if time.perf_counter() - last_report > 30:
            last_report = time.perf_counter()
            print(f"    … '{title}' after {last_report - t0:.0f} s: {st}", flush=True)
        if done:
            stable_since = stable_since or time.perf_counter()
            if time.perf_counter() - stable_since >= 1.0:  # no rerun started within a second
                return min(first or stable_since - t0, stable_since - t0), stable_since - t0
        else:
            stable_since = None
        time.sleep(0.25)
    raise AssertionError(f"page '{title}' still running after {timeout_s:.0f} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(
            f"Debian chromium is not installed at {CHROMIUM}: run `bash scripts/install_browser.sh` "
            "(apt-get install chromium) to run the real-browser test"
        )
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    port = _free_port()
    env = dict(os.environ)
    env.setdefault("UGRN_DATA_DIR", str(REPO.parent / "shared" / "data"))
    cmd = [
        sys.executable,
        "-m",
        "ugrn_app.serve",  # `make run`: streamlit run app.py with the defaults preloaded
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_health(url, proc, log)
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_every_page_renders_without_errors(server):
    from playwright.sync_api import sync_playwright

    url, log = server
    cold_probes = not _probes_on_disk()
    OUT.mkdir(parents=True, exist_ok=True)
    timings: dict[str, dict[str, float]] = {}
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
            page = ctx.new_page()
            console_errors: list[str] = []
            page.on("pageerror", lambda e: console_errors.append(str(e)))
            # cold: each page opened by URL for the first time (the first one in a fresh server process);
            # the first page is a sub-page, as when a biologist follows a shared link
            for round_name in ("cold", "warm"):
                for name, path, title, min_charts in (
                    [p for p in PAGES_RUN if p[0] != "home"] + [p for p in PAGES_RUN if p[0] == "home"]
                    if round_name == "cold" else PAGES_RUN
                ):
                    budget = PAGE_TIMEOUT_S
                    if round_name == "cold" and cold_probes and name in ("gene_pair", "network"):
                        budget = COLD_PROBE_TIMEOUT_S
                    t0 = time.perf_counter()
                    page.goto(url + path, wait_until="domcontentloaded")
                    first, done = _wait_rendered(page, title, min_charts, t0, budget)
                    timings.setdefault(name, {})[round_name] = round(first, 2)
                    timings[name][f"{round_name}_complete"] = round(done, 2)
                    n_exc = page.locator('[data-testid="stException"]').count()
                    n_err = page.locator('[data-testid="stAlertContentError"]').count()
                    body = page.inner_text("body")
                    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
                    if not all(t in nav for t in ("Home", "Gene pair", "Network", "Benchmark", "Train")):
                        problems.append(f"{round_name} {name}: sidebar navigation is {nav!r}")
                    if n_exc or "Traceback (most recent call last)" in body:
                        problems.append(f"{round_name} {name}: exception shown: {body[:1500]}")
                    if n_err:
                        texts = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
                        problems.append(f"{round_name} {name}: error box: {texts}")
                    if page.locator('[data-testid="stAppDeployButton"]').count():  # .streamlit/config.toml toolbarMode
                        problems.append(f"{round_name} {name}: Streamlit's Deploy button is shown")
                    if "None" in body.split():  # a missing value must read "n/a" (figures.table_view)
                        problems.append(f"{round_name} {name}: a table shows 'None' for a missing value")
                    if round_name == "warm":
                        page.screenshot(path=str(OUT / f"{name}.png"))
        finally:
            browser.close()
    (OUT / "timings.json").write_text(json.dumps({"cold_probe_computation": cold_probes, "pages": timings}, indent=2))
    print(
        "\nTime to first render in Chromium (s): first = title and plots drawn, complete = script finished; "
        "cold = first visit by URL after the server started"
        + (" (probe cache empty: probes computed on the way)" if cold_probes else " (probes already on disk)")
        + ", warm = revisit:"
    )
    for name, t in timings.items():
        print(
            f"  {name:10s} cold {t['cold']:7.2f} (complete {t['cold_complete']:7.2f})   "
            f"warm {t['warm']:6.2f} (complete {t['warm_complete']:6.2f})"
        )
    assert not problems, "\n".join(problems) + f"\n--- streamlit log ---\n{log.read_text()[-3000:]}"
    assert not console_errors, console_errors
    for name, *_ in PAGES_RUN:
        png = OUT / f"{name}.png"
        assert png.is_file() and png.stat().st_size > 5_000, f"screenshot {png} missing or blank"
    if os.environ.get("UGRN_UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        for name, *_ in PAGES_RUN:
            png = OUT / f"{name}.png"
            assert png.stat().st_size < MAX_DOC_PNG, f"{png} is {png.stat().st_size} bytes (limit {MAX_DOC_PNG})"
            shutil.copyfile(png, DOCS / f"{name}.png")


# ----------------------------------------------------------------------------------------------- cells → Compare
CELLS_FILE = REPO.parent / "shared" / "data" / "scrna" / "pbmc68k_reduced" / "10x_pbmc68k_reduced_scanpy.h5ad"
CELLS_PAGES = ["home_cells", "network_cells", "compare", "compare_table", "compare_activity"]  # screenshots of this flow


def _pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the Streamlit selectbox whose label holds ``label``."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).locator("input").first.click()
    page.keyboard.type(option)  # filters the options; Enter takes the first match
    page.keyboard.press("Enter")


def _errors(page) -> list[str]:
    out = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    if page.locator('[data-testid="stException"]').count():
        out.append(page.inner_text("body")[:1500])
    return out


def test_cells_upload_network_and_compare(server):
    """A biologist's flow in the browser: upload scanpy's pbmc68k_reduced (.h5ad, X scaled), see the scaled-X
    message, take .raw and the bulk_labels groups, build |Pearson| networks per cell type and compare two of them."""
    from playwright.sync_api import sync_playwright

    if not CELLS_FILE.is_file():
        pytest.skip(f"{CELLS_FILE} not found (shared data)")
    url, log = server
    OUT.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            def settle(title: str, charts: int = 0, step: str = "") -> None:
                t0 = time.perf_counter()
                time.sleep(0.5)  # let the rerun start
                _wait_rendered(page, title, charts, t0, COLD_PROBE_TIMEOUT_S)
                timings[step or title] = round(time.perf_counter() - t0, 2)

            page.goto(url + "/", wait_until="domcontentloaded")
            settle("UGRN explorer", step="home")
            page.get_by_text("Your cells (.h5ad / .loom)", exact=True).click()
            settle("UGRN explorer", step="cells mode")
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(CELLS_FILE))
            settle("UGRN explorer", step="upload")
            scaled = _errors(page)
            assert any("use_raw=True" in e and "negative value" in e for e in scaled), scaled
            page.get_by_text(".raw (values before scaling)", exact=True).click()
            settle("UGRN explorer", step=".raw")
            _pick(page, "Cell groups", "bulk_labels")
            settle("UGRN explorer", step="groupby")
            assert not _errors(page), _errors(page)
            body = page.inner_text("body")
            assert "Using the cells of" in body and "Methods that read your cells" in body
            page.get_by_text("2 · Dataset", exact=True).evaluate("e => e.scrollIntoView({block: 'start'})")
            time.sleep(0.5)
            page.screenshot(path=str(OUT / "home_cells.png"))

            page.locator('[data-testid="stSidebarNav"]').get_by_text("Compare", exact=True).click()
            settle("Compare two cell types", step="compare page")
            _pick(page, "Method", "|Pearson|")
            settle("Compare two cell types", step="method")
            _pick(page, "Group A", "CD14+ Monocyte")
            settle("Compare two cell types", step="group A")
            _pick(page, "Group B", "CD19+ B")
            settle("Compare two cell types", step="group B")
            page.get_by_role("button", name="▶ Build the |Pearson| networks").click()
            settle("Compare two cell types", 3, step="build networks")  # two graphs and the activity heatmap
            assert not _errors(page), _errors(page)
            assert page.locator('[data-testid="stPlotlyChart"]').count() == 3
            assert page.locator('[data-testid="stDownloadButton"]').count() == 16
            page.screenshot(path=str(OUT / "compare.png"))
            page.get_by_text("Differential edges", exact=True).evaluate("e => e.scrollIntoView({block: 'start'})")
            time.sleep(0.5)
            page.screenshot(path=str(OUT / "compare_table.png"))
            page.get_by_text("TF activity per group", exact=True).evaluate("e => e.scrollIntoView({block: 'start'})")
            time.sleep(0.5)
            page.screenshot(path=str(OUT / "compare_activity.png"))

            page.locator('[data-testid="stSidebarNav"]').get_by_text("Network", exact=True).click()
            settle("Predicted network", step="network page")
            _pick(page, "Method", "|Pearson|")
            settle("Predicted network", 1, step="network method")
            _pick(page, "Cell group", "CD14+ Monocyte")
            settle("Predicted network", 1, step="network group")
            assert not _errors(page), _errors(page)
            page.screenshot(path=str(OUT / "network_cells.png"))
        except Exception:
            page.screenshot(path=str(OUT / "cells_failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    print("\nCells flow in Chromium, seconds per step:", json.dumps(timings))
    assert not errors, errors
    if os.environ.get("UGRN_UPDATE_SCREENSHOTS"):
        for name in CELLS_PAGES:
            png = OUT / f"{name}.png"
            assert png.stat().st_size < MAX_DOC_PNG, f"{png} is {png.stat().st_size} bytes (limit {MAX_DOC_PNG})"
            shutil.copyfile(png, DOCS / f"{name}.png")
