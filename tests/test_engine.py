"""The Dask engine (``bench.engine``, ``--scheduler``): a local cluster of 2 CPU worker processes (one thread each)
gives the serial run's probes and benchmark cells byte for byte, a rerun submits nothing, and the tasks of a worker
killed mid-run rerun in another process with the same outcome. Real bundled model, real data."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from ugrn_core.bench import controls  # noqa: E402
from ugrn_core.bench.runner import run_preset  # noqa: E402
from ugrn_core.bench.engine import Engine, parse_scheduler  # noqa: E402
from ugrn_core.data.datasets import load_beeline  # noqa: E402
from ugrn_core.errors import ParameterError  # noqa: E402
from ugrn_core.probes.features import DatasetProbes  # noqa: E402
from ugrn_core.probes.params import ProbeParams  # noqa: E402

# two cell types → two context gene sets; VVP at one target value keeps each probe a few seconds on one core
DATASETS = ["STRING/mHSC-L/500", "STRING/mDC/500", "Specific/mDC/500"]  # the last shares mDC's gene set
PARAMS = ProbeParams(target_values=(40.0,))


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=logging.ERROR, env={"OMP_NUM_THREADS": "1"})
    c = distributed.Client(cluster)
    c.wait_for_workers(2, timeout=120)
    yield c
    c.close()
    cluster.close()


def _files(folder: Path, pattern: str) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.rglob(pattern))}


def test_scheduler_text_is_parsed():
    assert parse_scheduler("local:2") == ("local", 2)
    assert parse_scheduler("tcp://10.0.0.1:8786") == ("address", "tcp://10.0.0.1:8786")
    assert parse_scheduler("/shared/scheduler.json") == ("file", "/shared/scheduler.json")
    assert parse_scheduler("localhost:8786") == ("address", "localhost:8786")
    for bad in ("local:0", "local:two", ""):
        with pytest.raises(ParameterError, match="--scheduler"):
            parse_scheduler(bad)


def test_probes_on_two_workers_equal_the_serial_ones_and_resume(fm, data_dir, tmp_path, monkeypatch, client):
    monkeypatch.setenv("UGRN_CACHE_DIR", str(tmp_path / "serial"))
    serial = {}
    for name in DATASETS[:2]:
        serial[name] = DatasetProbes(fm, load_beeline(name, data_dir), PARAMS).probe("VVP")

    monkeypatch.setenv("UGRN_CACHE_DIR", str(tmp_path / "cluster"))
    engine = Engine(client)
    records = engine.run_probes(fm, DATASETS, ["VVP"], PARAMS, data_dir)
    assert len(records) == 2 and all(r["computed"] for r in records)  # the shared mDC gene set once
    assert len({r["pid"] for r in records}) == 2 and os.getpid() not in {r["pid"] for r in records}  # both workers
    for name in DATASETS[:2]:
        p = DatasetProbes(fm, load_beeline(name, data_dir), PARAMS)
        assert p.is_cached("VVP")
        np.testing.assert_array_equal(p.probe("VVP"), serial[name])  # byte-identical (one torch thread both ways)
        assert p.source["VVP"] == "disk"
    files = _files(tmp_path / "cluster", "VVP-*.npy")
    assert len(files) == 2
    again = engine.run_probes(fm, DATASETS, ["VVP"], PARAMS, data_dir)  # a rerun finds the cache: no task
    assert [r["worker"] for r in again] == ["cache", "cache"] and _files(tmp_path / "cluster", "VVP-*.npy") == files


def _kill_a_busy_worker(client, deadline_s: float = 240.0) -> tuple[int, list[str]]:
    """SIGKILL the process of a worker while a benchmark cell task is assigned to it; returns (pid, its cell keys)."""
    pids = client.run(os.getpid)
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        for addr, keys in client.processing().items():
            cells = [str(k) for k in keys if str(k).startswith("cell-")]
            if cells and addr in pids:
                os.kill(pids[addr], signal.SIGKILL)
                return pids[addr], cells
        time.sleep(0.05)
    raise AssertionError("no cell task was ever running on a worker")


@pytest.fixture(scope="module")
def serial_ci(fm, data_dir, tmp_path_factory):
    """The ci preset run serially (fresh probe cache): (rows, results folder, twin, seconds)."""
    root = tmp_path_factory.mktemp("serial-ci")
    twin = controls.load_twin(fm, root / "twin")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UGRN_CACHE_DIR", str(root / "cache"))
        t0 = time.perf_counter()
        rows, folder = run_preset("ci", fm, root / "out", twin_fm=twin, data_dir=data_dir, command="test")
    return rows, folder, twin, time.perf_counter() - t0


def test_ci_preset_on_two_workers_equals_serial_and_survives_a_killed_worker(fm, data_dir, tmp_path, monkeypatch,
                                                                            client, serial_ci):
    rows, serial_folder, twin, serial_s = serial_ci
    monkeypatch.setenv("UGRN_CACHE_DIR", str(tmp_path / "cache-cluster"))
    engine = Engine(client)
    out: dict = {}

    def run():
        try:
            out["rows"] = run_preset("ci", fm, tmp_path / "cluster", twin_fm=twin, data_dir=data_dir, command="test",
                                     engine=engine)[0]
        except BaseException as e:  # re-raised in the test thread below
            out["error"] = e

    t0 = time.perf_counter()
    runner = threading.Thread(target=run)
    runner.start()
    victim, keys = _kill_a_busy_worker(client)
    runner.join(300)
    cluster_s = time.perf_counter() - t0
    assert not runner.is_alive() and "error" not in out, out.get("error")
    # the killed worker's cell tasks ran again in another process (one of them could have finished in the few ms
    # between the look and the kill), every cell was written, and the nanny replaced the dead process
    ran = {r["key"]: r for r in engine.records}
    assert any(ran[k]["pid"] != victim for k in keys), (victim, {k: ran[k]["pid"] for k in keys})
    assert victim not in client.run(os.getpid).values()
    assert sum(r["kind"] == "cell" for r in engine.records) == 8  # 2 tests × 2 seeds × 2 negative modes
    # the same rows, and byte-identical cell files (names are content keys: checkpoint ids, config, cell)
    pd.testing.assert_frame_equal(out["rows"], rows, check_exact=True)
    cells = _files(tmp_path / "cluster" / "cells", "*.csv")
    assert {k: v[0] for k, v in cells.items()} == {k: v[0] for k, v in _files(serial_folder.parent / "cells", "*.csv").items()}
    assert (tmp_path / "cluster" / "ci" / "rows.csv").read_bytes() == (serial_folder / "rows.csv").read_bytes()
    # a rerun finds every cell on disk: no task is submitted and no file is rewritten
    assert engine.run_suite(_suite_of(fm, twin, data_dir, tmp_path / "cluster"), _ci_jobs(data_dir)) == []
    rows2, _ = run_preset("ci", fm, tmp_path / "cluster", twin_fm=twin, data_dir=data_dir, command="test",
                          engine=engine)
    pd.testing.assert_frame_equal(rows2, rows, check_exact=True)
    assert _files(tmp_path / "cluster" / "cells", "*.csv") == cells
    print(f"ci preset: serial {serial_s:.1f} s, 2 workers with one killed {cluster_s:.1f} s")


def _ci_jobs(data_dir):
    from ugrn_core.bench.presets import jobs
    from ugrn_core.data.datasets import list_datasets

    return jobs("ci", list_datasets(data_dir))


def _suite_of(fm, twin, data_dir, out):
    from ugrn_core.bench.suite import Suite, suite_config

    return Suite(fm, suite_config("ci"), out / "ci", twin_fm=twin, data_dir=data_dir, cells_dir=out / "cells")


def test_cli_benchmark_with_a_local_scheduler_writes_the_serial_rows(tmp_path, monkeypatch, capsys, serial_ci):
    from ugrn_core.cli import main

    rows, serial_folder, twin, _ = serial_ci
    monkeypatch.setenv("UGRN_CACHE_DIR", str(tmp_path / "cache"))
    args = ["benchmark", "--preset", "ci", "--out", str(tmp_path / "out"), "--twin-checkpoint", str(twin.path),
            "--device", "cpu", "--scheduler", "local:2"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "engine: 2 workers × 1 thread (local:2)" in err
    assert (tmp_path / "out" / "ci" / "rows.csv").read_bytes() == (serial_folder / "rows.csv").read_bytes()
    assert main(args[:-2] + ["--scheduler", "local:0"]) == 2
    assert "--scheduler 'local:0': expected local:N" in capsys.readouterr().err
