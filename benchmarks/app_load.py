"""Load measurement of the explorer app: several browser sessions at once against one local Streamlit server.

Starts ``python -m ugrn_app.serve`` (``make run``: ``streamlit run app.py`` with the defaults preloaded) on
127.0.0.1 (a free port, headless), with an empty probe cache in a temp folder, and drives N headless Chromium
sessions (separate browser contexts = separate Streamlit sessions) concurrently with Playwright's async API. Prints:

1. N sessions opening Home at once: time to first render per session, server RSS before and after.
   The text of every error box counted is printed under its session.
2. One session opens the Network page, whose first visit computes the default gene set's VVP + GDT probes
   (a long probe, about a minute on 2 cores), while the other N-1 sessions open Home, Benchmark and Train:
   their time to first render, whether they finished before the long probe did (i.e. were not blocked), and the
   server's peak RSS.

Bounded: every wait has a timeout and the server is stopped at the end, so the script ends by itself; the temporary
probe cache and server log are removed at the end (the log's tail is printed when it holds a traceback).
Needs /usr/bin/chromium and the ``playwright`` package (like tests/test_browser.py). Run under the CPU lock:

    flock /tmp/ugrn-cpu.lock env OMP_NUM_THREADS=2 python benchmarks/app_load.py --sessions 8 [--home-only]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("UGRN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# URL path → text of the page's h1 when it has rendered
PAGES = {"/": "UGRN explorer", "/Network": "Predicted network", "/Benchmark": "Benchmark", "/Train": "Train a translator"}


def rss_mib(pid: int) -> float:
    """Resident set size of a process in MiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class RssSampler(threading.Thread):
    """Samples a process's RSS every 0.2 s; ``peak`` in MiB."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, rss_mib(self.pid))
            except OSError:
                return
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, cache: Path, log: Path) -> subprocess.Popen:
    env = dict(os.environ, UGRN_CACHE_DIR=str(cache))
    env.setdefault("UGRN_DATA_DIR", str(REPO.parent / "shared" / "data"))
    cmd = [sys.executable, "-m", "ugrn_app.serve", "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    url, t0 = f"http://127.0.0.1:{port}", time.time()
    while time.time() - t0 < 120:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("streamlit did not become healthy within 120 s")


async def rendered(page, title: str, t0: float, timeout_s: float) -> dict:
    """Open-to-render times: ``first`` = the page's title is shown, ``done`` = the script finished (no spinner,
    no progress bar, state notRunning, stable 0.5 s); ``errors`` = exception or error boxes."""
    first = None
    stable = None
    s = None
    while time.perf_counter() - t0 < timeout_s:
        s = await page.evaluate(
            """(title) => {
                const app = document.querySelector('[data-testid="stApp"]');
                return {state: app ? app.getAttribute('data-test-script-state') : null,
                        busy: !!document.querySelector('[data-testid="stSpinner"], [data-testid="stProgress"]'),
                        title: [...document.querySelectorAll('h1')].some(e => e.innerText.includes(title)),
                        errors: [...document.querySelectorAll('[data-testid="stException"], [data-testid="stAlertContentError"]')]
                                .map(e => e.innerText.trim())};
            }""", title)
        now = time.perf_counter() - t0
        if first is None and s["title"]:
            first = now
        if s["title"] and s["state"] == "notRunning" and not s["busy"]:
            stable = stable or now
            if now - stable >= 0.5:
                return {"first": first, "done": stable, "errors": s["errors"]}
        else:
            stable = None
        await asyncio.sleep(0.1)
    return {"first": first, "done": None, "errors": s["errors"] if s else None}


async def visit(browser, url: str, path: str, timeout_s: float, delay: float = 0.0) -> dict:
    await asyncio.sleep(delay)
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    t_start = time.perf_counter()
    await page.goto(url + path, wait_until="domcontentloaded", timeout=timeout_s * 1000)
    r = await rendered(page, PAGES[path], t_start, timeout_s)
    r.update(path=path, started=t_start, ended=time.perf_counter())
    await ctx.close()
    return r


def fmt(x) -> str:
    return "timeout" if x is None else f"{x:6.2f}"


def fmt_errors(errors) -> str:
    """The count of error boxes and, indented below, the text of each (first 300 characters)."""
    if errors is None:
        return "unknown (page did not finish)"
    return f"{len(errors)}" + "".join(f"\n      ! {' '.join(e.split())[:300]}" for e in errors)


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2 if xs else None


async def main_async(args) -> None:
    from playwright.async_api import async_playwright

    tmp = Path(tempfile.mkdtemp(prefix="ugrn-app-load-"))
    port = args.port or free_port()
    t = time.perf_counter()
    server = start_server(port, tmp / "cache", tmp / "streamlit.log")
    url = f"http://127.0.0.1:{port}"
    print(f"server up on {url} in {time.perf_counter() - t:.1f} s; RSS {rss_mib(server.pid):.0f} MiB "
          f"(probe cache empty: {tmp / 'cache'})")
    sampler = RssSampler(server.pid)
    sampler.start()
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            # 1. N sessions open Home at once (the first one loads the model into st.cache_resource)
            t = time.perf_counter()
            res = await asyncio.gather(*[visit(browser, url, "/", args.timeout) for _ in range(args.sessions)])
            print(f"\n1. {args.sessions} sessions open Home at once ({time.perf_counter() - t:.1f} s wall); "
                  f"server RSS now {rss_mib(server.pid):.0f} MiB, peak {sampler.peak:.0f} MiB")
            for k, r in enumerate(res):
                print(f"   session {k}: first render {fmt(r['first'])} s, complete {fmt(r['done'])} s, "
                      f"error boxes {fmt_errors(r['errors'])}")
            n_err = sum(1 for r in res if r["errors"])
            print(f"   → median first render {fmt(median([r['first'] for r in res]))} s, median complete "
                  f"{fmt(median([r['done'] for r in res]))} s; sessions with an error box: {n_err}/{len(res)}")
            if args.home_only:
                await browser.close()
                return

            # 2. one long probe (Network, cold cache) while the others use the app
            others = ["/", "/Benchmark", "/Train"]
            tasks = [visit(browser, url, "/Network", args.long_timeout)]
            tasks += [visit(browser, url, others[k % len(others)], args.timeout, delay=3.0)
                      for k in range(args.sessions - 1)]
            t = time.perf_counter()
            res = await asyncio.gather(*tasks)
            long = res[0]
            print(f"\n2. session 0 opens Network (computes VVP + GDT of the default gene set) while "
                  f"{args.sessions - 1} sessions open other pages 3 s later ({time.perf_counter() - t:.1f} s wall); "
                  f"server peak RSS {sampler.peak:.0f} MiB")
            print(f"   session 0 {long['path']:11s} first render {fmt(long['first'])} s, complete {fmt(long['done'])} s")
            blocked = 0
            for k, r in enumerate(res[1:], 1):
                before = r["done"] is not None and long["done"] is not None and r["ended"] < long["ended"]
                blocked += not before
                print(f"   session {k} {r['path']:11s} first render {fmt(r['first'])} s, complete {fmt(r['done'])} s, "
                      f"finished while the probe ran: {'yes' if before else 'NO'}, error boxes {fmt_errors(r['errors'])}")
            print(f"   → {args.sessions - 1 - blocked}/{args.sessions - 1} sessions were served while the long probe ran")
            await browser.close()
    finally:
        sampler.stop.set()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log = (tmp / "streamlit.log").read_text(errors="replace") if (tmp / "streamlit.log").exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)  # the temporary probe cache and log
    print(f"\nserver peak RSS over the run: {sampler.peak:.0f} MiB; temporary cache {tmp} removed")
    if "Traceback" in log or "Error" in log:
        print("--- end of the server log ---\n" + log[-3000:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds a page may take")
    ap.add_argument("--home-only", action="store_true", help="only part 1 (N sessions open Home at once)")
    ap.add_argument("--long-timeout", type=float, default=600.0, help="seconds the long-probe page may take")
    args = ap.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"no chromium at {CHROMIUM} (scripts/install_browser.sh)")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
