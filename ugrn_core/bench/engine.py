"""Probe jobs and benchmark cells as tasks of a Dask distributed cluster (``ugrn probe|benchmark --scheduler``).

Why Dask distributed (not Ray): it is already a pin of the project (``dask``/``distributed`` 2024.12.1, the versions
arboreto's GRNBoost2 works with), so no new dependency; one scheduler runs on a laptop (``LocalCluster``), over SSH
(``dask ssh``), on Slurm/PBS/SGE (``dask-jobqueue``) or Kubernetes without code changes; worker *resources*
(``dask worker --resources GPU=1``) pin each task to one GPU; and the scheduler reruns the tasks of a worker that
dies. Serial (no ``--scheduler``) stays the default and is unchanged.

The task graph (only what is missing from disk is submitted):

- a probe task per (checkpoint, context gene set, probe) not in the probe cache: computes it through
  ``DatasetProbes.probe``, i.e. into the ``ProbeCache`` (content-keyed, file-locked, written atomically);
- a fit task per (training source, seed) of the benchmark with a cell whose model rows are not on disk: the
  suite's translators (real, twin, shuffled labels), after the training set's probe tasks; its result (pickled
  projectors) travels to its cell tasks through Dask's memory;
- a cell task per benchmark cell not on disk: ``Suite.run_cell`` under the cell's lock, after its fit task and the
  test set's probe tasks; it writes the cell's CSV files (atomically), as the serial path does.

The client then runs the serial path, which finds every probe and cell on disk and only reads them, so a distributed
run's outputs are the serial run's: same cache keys, same cell files, same rows. A rerun finds everything and submits
nothing (idempotent, resumable); a task another process is computing at the same moment waits on the same file lock
and reads the result. A worker that dies loses its running tasks and the fit results it held; the scheduler reruns
them on another worker (up to ``distributed.scheduler.allowed-failures``, 3, deaths per task); what it was writing is
a temp file that is never renamed into place.

Devices: each task takes one worker thread; when workers advertise a ``GPU`` resource, each task also asks for
``{"GPU": 1}``, so one task runs per GPU. On CPU, workers run one thread each and tasks set torch to one intra-op
thread (results do not depend on it: ``scfm.threads``). A real cluster needs ``ugrn_core`` importable on every
worker (same version) and the checkpoint, data directory, probe cache and results folder at the same paths
(a shared filesystem with working ``flock``); see docs/cluster.md.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Callable

from ..errors import CheckpointError, ParameterError

ProgressFn = Callable[[int, int, str], None]
INSTALL = "pip install 'ugrn-explorer[cluster]' (dask==2024.12.1, distributed==2024.12.1)"
CONNECT_TIMEOUT_S = 20  # seconds to reach a scheduler
WORKER_WAIT_S = 120  # seconds to wait for the first worker of a scheduler that has none


# ------------------------------------------------------------------------------------------- worker side
@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs to rebuild the client's objects (all paths as the client sees them).

    Attributes:
        checkpoint, checkpoint_id: the checkpoint folder and its content hash (a worker that loads other weights
            from that path fails the task, naming both ids).
        device, precision: torch device (None: the worker's default, cuda when it has one) and arithmetic.
        cache_root: the probe cache folder; data_dir: the data directory (None: the worker's default).
        twin, twin_id: the random-init twin's folder and hash, or None.
    """

    checkpoint: str
    checkpoint_id: str
    device: str | None = None
    precision: str | None = None
    cache_root: str = ""
    data_dir: str | None = None
    twin: str | None = None
    twin_id: str | None = None


@dataclass(frozen=True)
class SuiteSetup:
    """A benchmark ``Suite`` as plain data: ``WorkerSetup``, its ``SuiteConfig``, probe parameters (dict), folders."""

    worker: WorkerSetup
    config: object  # suite.SuiteConfig
    params: dict
    out: str
    cells_dir: str
    key: str = field(default="", compare=False)


_MODELS: dict = {}  # (path, device, precision) → ScFM, per worker process
_SUITES: dict = {}  # SuiteSetup.key → Suite, per worker process
_TRAIN_STATES: dict = {}  # Suite train states shared by this process's suites


def _model(path: str, expected_id: str, device: str | None, precision: str | None):
    from ..config import resolve_device
    from ..scfm.checkpoint import load_checkpoint

    key = (path, device, precision)
    if key not in _MODELS:
        _MODELS[key] = load_checkpoint(path, resolve_device(device), precision)
    fm = _MODELS[key]
    if fm.checkpoint_id != expected_id:
        raise CheckpointError(f"worker {socket.gethostname()}: checkpoint '{path}' has id {fm.checkpoint_id}, the "
                              f"client's has {expected_id}; every worker must see the same checkpoint files at the "
                              "same path")
    return fm


@contextlib.contextmanager
def _task_env(setup: WorkerSetup):
    """The client's probe cache folder as ``UGRN_CACHE_DIR`` and, on CPU, one torch intra-op thread, for one task."""
    import torch

    old_cache, old_threads = os.environ.get("UGRN_CACHE_DIR"), torch.get_num_threads()
    if setup.cache_root:
        os.environ["UGRN_CACHE_DIR"] = setup.cache_root
    fm = _model(setup.checkpoint, setup.checkpoint_id, setup.device, setup.precision)
    cpu = fm.device.type == "cpu"
    if cpu:
        torch.set_num_threads(1)
    try:
        yield fm
    finally:
        if cpu:
            torch.set_num_threads(old_threads)
        if old_cache is None:
            os.environ.pop("UGRN_CACHE_DIR", None)
        else:
            os.environ["UGRN_CACHE_DIR"] = old_cache


def _record(kind: str, name: str, t0: float, computed: bool, **extra) -> dict:
    """What a task reports: kind, name, seconds, computed, worker address, its task key, host and process id."""
    try:
        from distributed import get_worker

        worker = get_worker()
        where, key = worker.address, worker.get_current_task()
    except (ImportError, ValueError):
        where, key = "client", None
    return {"kind": kind, "name": name, "seconds": round(time.perf_counter() - t0, 3), "computed": computed,
            "worker": where, "key": None if key is None else str(key), "host": socket.gethostname(),
            "pid": os.getpid(), **extra}


def probe_task(setup: WorkerSetup, dataset, params: dict, probe: str, twin: bool = False) -> dict:
    """Compute probe array ``probe`` of ``dataset`` (a BEELINE name or a ``GRNDataset``) into the probe cache (on a
    worker). Returns a record: kind "probe", name "<dataset>: <probe>", seconds, computed (False: found on disk),
    worker address, host, pid, n_genes."""
    from ..data.datasets import load_beeline
    from ..probes.features import DatasetProbes
    from ..probes.params import ProbeParams

    t0 = time.perf_counter()
    with _task_env(setup) as fm:
        if twin:
            fm = _model(setup.twin, setup.twin_id, setup.device, setup.precision)
        ds = load_beeline(dataset, setup.data_dir) if isinstance(dataset, str) else dataset
        p = DatasetProbes(fm, ds, ProbeParams.from_dict(params))
        p.probe(probe)
        return _record("probe", f"{ds.name}: {probe}{' (twin)' if twin else ''}", t0,
                       p.source.get(probe) == "computed", n_genes=len(p.tokens))


def _suite(setup: SuiteSetup):
    """This worker's ``Suite`` for ``setup`` (built once per process; translators shared through ``_TRAIN_STATES``)."""
    from ..probes.params import ProbeParams
    from .suite import Suite

    if setup.key not in _SUITES:
        w = setup.worker
        fm = _model(w.checkpoint, w.checkpoint_id, w.device, w.precision)
        twin = _model(w.twin, w.twin_id, w.device, w.precision) if w.twin else None
        _SUITES[setup.key] = Suite(fm, setup.config, setup.out, twin_fm=twin, params=ProbeParams.from_dict(setup.params),
                                   data_dir=w.data_dir, cells_dir=setup.cells_dir, train_states=_TRAIN_STATES)
    return _SUITES[setup.key]


def fit_task(setup: SuiteSetup, train: str, seed: int, *after) -> object:
    """The fitted training state (pairs and translators) of (``train``, ``seed``) in ``setup``'s suite (on a worker;
    ``after``: results of the probe tasks it waits for)."""
    with _task_env(setup.worker):
        return _suite(setup).train_state(train, seed)


def cell_task(setup: SuiteSetup, cell: tuple, state, *after) -> dict:
    """Write the rows of benchmark ``cell`` = (train, test, seed, negatives, N/P) into the cells folder (on a worker),
    holding the cell's lock; ``state``: the fit task's training state or None (model rows on disk already)."""
    t0 = time.perf_counter()
    with _task_env(setup.worker):
        suite = _suite(setup)
        if state is not None:
            suite.adopt_train_state(cell[0], cell[2], state)
        computed = not suite.cell_complete(cell)
        with suite.cell_lock(cell):
            suite.run_cell(*cell)
        return _record("cell", f"{cell[0]} → {cell[1]}, seed {cell[2]}, {cell[3]}, N/P {cell[4]:g}", t0, computed)


# ------------------------------------------------------------------------------------------- client side
def parse_scheduler(text: str) -> tuple[str, object]:
    """``--scheduler`` text → ("local", N workers) for "local:N" ("local": one per CPU core), ("file", path) for a scheduler file (*.json), else
    ("address", text) (e.g. tcp://host:8786). Raises ParameterError for "local:" without a positive integer."""
    text = str(text).strip()
    if text.lower() == "local" or text.lower().startswith("local:"):
        _, _, n = text.partition(":")
        try:
            workers = int(n) if n else os.cpu_count() or 1
        except ValueError:
            workers = 0
        if workers < 1:
            raise ParameterError(f"--scheduler {text!r}: expected local:N with N ≥ 1 worker processes, e.g. local:2")
        return "local", workers
    if text.endswith(".json"):
        return "file", text
    if not text:
        raise ParameterError("--scheduler: expected local:N, a scheduler address (tcp://host:8786) or a scheduler file")
    return "address", text


class Engine:
    """A Dask client for probe and benchmark tasks; a context manager (closes what it started).

    Args:
        scheduler: "local:N" (a local cluster of N worker processes, one thread each), a scheduler address
            ("tcp://host:8786"), a scheduler file (``dask scheduler --scheduler-file x.json``), or a
            ``distributed.Client`` (used as is and left open).
        progress: ``progress(done, total, message)`` for finished tasks.
        device, precision: what the workers load the checkpoint with (``--device``, ``--precision``); None: each
            worker's default (cuda when it has a GPU, else cpu; ``scfm.default_precision``).
    Raises: ImportError naming the install command when distributed is missing; ParameterError when no scheduler
        answers or no worker joins in time.
    """

    def __init__(self, scheduler, progress: ProgressFn | None = None, device: str | None = None,
                 precision: str | None = None):
        try:
            import distributed
        except ImportError as e:
            raise ImportError(f"--scheduler needs Dask distributed ({e}); install it with: {INSTALL}") from None
        self.progress, self._cluster, self._own = progress, None, True
        self.device, self.precision, self._resources = device, precision, None
        self.records: list[dict] = []
        if isinstance(scheduler, distributed.Client):
            self.client, self._own, self.label = scheduler, False, "the given client"
            return
        kind, value = parse_scheduler(scheduler)
        try:
            if kind == "local":
                self._cluster = distributed.LocalCluster(
                    n_workers=value, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR, env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
                self.client = distributed.Client(self._cluster)
            elif kind == "file":
                self.client = distributed.Client(scheduler_file=value, timeout=CONNECT_TIMEOUT_S)
            else:
                self.client = distributed.Client(value, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as e:
            raise ParameterError(f"--scheduler {scheduler!r}: no Dask scheduler answered ({type(e).__name__}: {e}); "
                                 "expected local:N, a running `dask scheduler`'s address (tcp://host:8786) or its "
                                 "--scheduler-file") from None
        self.label = str(scheduler)
        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except TimeoutError:
            self.close()
            raise ParameterError(f"--scheduler {scheduler!r}: the scheduler has no worker after {WORKER_WAIT_S} s; "
                                 "start some with `dask worker <address> --nthreads 1`") from None
        threads = {w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()}
        if max(threads, default=1) > 1:
            import warnings

            warnings.warn(f"--scheduler {scheduler!r}: workers with {max(threads)} threads run that many tasks at once "
                          "in one process (and on one GPU); start them with --nthreads 1 (docs/cluster.md)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        """Close the client and the local cluster this engine started (a given client stays open)."""
        if self._own:
            self.client.close()
            if self._cluster is not None:
                self._cluster.close()

    @property
    def resources(self) -> dict | None:
        """``{"GPU": 1}`` when some worker advertises a GPU resource (each task then holds one GPU), else None."""
        workers = self.client.scheduler_info()["workers"].values()
        return {"GPU": 1} if any(w.get("resources", {}).get("GPU") for w in workers) else None

    def describe(self) -> str:
        """e.g. "2 workers × 1 thread (local:2)" or "4 workers × 1 thread, GPU=1 each (tcp://host:8786)"."""
        workers = list(self.client.scheduler_info()["workers"].values())
        threads = sorted({w.get("nthreads", 1) for w in workers})
        gpu = ", GPU=1 each" if self.resources else ""
        return (f"{len(workers)} worker{'s' if len(workers) != 1 else ''} × {'/'.join(map(str, threads))} "
                f"thread{'s' if threads != [1] else ''}{gpu} ({self.label})")

    # ----------------------------------------------------------------------------------------- submitting
    def _submit(self, fn, *args, key: str, priority: int = 0):
        return self.client.submit(fn, *args, key=key, pure=False, priority=priority, resources=self._resources)

    def _gather(self, futures: dict, what: str) -> list:
        """Wait for ``futures`` (key → future) in completion order; a failed task cancels the rest and re-raises its
        error here. Returns the results of the futures whose value is a record (dict)."""
        from distributed import as_completed

        out, total = [], len(futures)
        try:
            for done, fut in enumerate(as_completed(list(futures.values())), 1):
                res = fut.result()
                if isinstance(res, dict):
                    out.append(res)
                    self.records.append(res)
                    if self.progress:
                        self.progress(done, total, f"{what}: {res['name']}")
        except BaseException:
            self.client.cancel(list(futures.values()))
            raise
        return out

    def _probe_futures(self, setup: WorkerSetup, todo) -> dict:
        """Submit probe tasks for ``todo`` = [(key, dataset, params dict, probe, twin)] (duplicates by key once)."""
        futs = {}
        for key, ds, params, probe, twin in todo:
            if key not in futs:
                futs[key] = self._submit(probe_task, setup, ds, params, probe, twin, key=key, priority=20)
        return futs

    def run_probes(self, fm, datasets, probes, params=None, data_dir=None) -> list[dict]:
        """Compute the not-yet-cached ``probes`` of ``datasets`` (BEELINE names or ``GRNDataset``) on the cluster, into
        the probe cache. Gene sets shared by several datasets count once; probes that need expression a dataset lacks
        are skipped. Returns one record per probe (cached ones with ``computed`` False and ``worker`` "cache").
        Raises: whatever a task raised (e.g. DataError for a dataset without vocabulary genes)."""
        from ..probes.params import ProbeParams

        params = params or ProbeParams()
        self._resources = self.resources
        setup = worker_setup(fm, data_dir=data_dir, device=self.device, precision=self.precision)
        cached, todo = [], []
        for ds, key, probe, n in _probe_plan(fm, datasets, probes, params, data_dir):
            name = f"{getattr(ds, 'name', ds)}: {probe}"
            if key is None:
                cached.append({"kind": "probe", "name": name, "seconds": 0.0, "computed": False, "worker": "cache",
                               "n_genes": n})
            else:
                todo.append((key, ds, params.to_dict(), probe, False))
        return cached + self._gather(self._probe_futures(setup, todo), "probe")

    def run_suite(self, suite, jobs) -> list[dict]:
        """Write every cell of ``suite``'s ``jobs`` (``Suite.run``'s jobs) that is not on disk, as tasks: probe tasks
        for the probes they read, one fit task per (training source, seed) with missing model rows, one cell task
        per missing cell. Returns the cell and probe tasks' records ([] when everything was on disk)."""
        from .. import methods as registry
        from .suite import SuiteConfig  # noqa: F401  (the config travels pickled)

        c = suite.config
        self._resources = self.resources
        setup = suite_setup(suite, self.device, self.precision)
        cells = [cell for cell in suite.cells(jobs) if not suite.cell_complete(cell)]
        if not cells:
            return []
        fits = sorted({(cell[0], cell[2]) for cell in cells if not suite.cell_on_disk(cell)})
        real_probes = [p for p in registry.probes_of(c.methods) if p in registry.probe_names()]
        twin_probes = [p for p in registry.probes_of([m for m in c.methods if m in c.twin_methods])
                       if p in registry.probe_names()] if ("twin" in c.controls and suite.twin_fm is not None) else []
        probe_futs: dict = {}
        deps: dict[str, list] = {}  # dataset name → its probe futures

        def probes_of(name):
            if name not in deps:
                todo = [(k, name, setup.params, p, False) for _, k, p, _ in
                        _probe_plan(suite.fm, [name], real_probes, suite.params, setup.worker.data_dir) if k]
                if twin_probes:
                    todo += [(k, name, setup.params, p, True) for _, k, p, _ in
                             _probe_plan(suite.twin_fm, [name], twin_probes, suite.params, setup.worker.data_dir) if k]
                new = self._probe_futures(setup.worker, [t for t in todo if t[0] not in probe_futs])
                probe_futs.update(new)
                deps[name] = [probe_futs[t[0]] for t in todo]
            return deps[name]

        fit_futs = {(train, seed): self._submit(fit_task, setup, train, seed, *probes_of(train),
                                                key=f"fit-{setup.key}-{suite.train_key(train, seed)}", priority=10)
                    for train, seed in fits}
        cell_futs = {}
        for cell in cells:
            state = fit_futs.get((cell[0], cell[2])) if not suite.cell_on_disk(cell) else None
            cell_futs[cell] = self._submit(cell_task, setup, cell, state, *probes_of(cell[1]),
                                           key=f"cell-{suite.cell_key(*cell)}")
        return self._gather({**probe_futs, **cell_futs}, "task")


def _probe_plan(fm, datasets, probes, params, data_dir):
    """(dataset, task key or None when cached, probe, context genes) per distinct (gene set, probe) of ``datasets``
    that the probe's owner can compute (probes needing expression a dataset lacks are left out)."""
    from .. import methods as registry
    from ..data.datasets import load_beeline
    from ..probes.cache import cache_key
    from ..probes.features import DatasetProbes

    seen = set()
    for ds in datasets:
        loaded = load_beeline(ds, data_dir) if isinstance(ds, str) else ds
        p = DatasetProbes(fm, loaded, params)
        for probe in probes:
            if registry.probe_owner(probe).na_reason(loaded):
                continue
            key = f"probe-{cache_key(fm.checkpoint_id, probe, p.tokens, params.to_dict())}"
            if key in seen:
                continue
            seen.add(key)
            yield ds, (None if p.is_cached(probe) else key), probe, len(p.tokens)


def worker_setup(fm, twin_fm=None, data_dir=None, device: str | None = None, precision: str | None = None) -> WorkerSetup:
    """``WorkerSetup`` of loaded checkpoint ``fm`` (and its twin): absolute paths, the resolved probe cache folder;
    ``device`` / ``precision`` as the user gave them (None: each worker's default).
    Raises: CheckpointError when ``fm`` was not loaded from a folder (workers load it from there)."""
    from ..config import cache_dir

    for m in (fm, twin_fm):
        if m is not None and m.path is None:
            raise CheckpointError("--scheduler: workers load the checkpoint from its folder; this one has no path")
    return WorkerSetup(str(os.path.abspath(fm.path)), fm.checkpoint_id, device, precision,
                       str(cache_dir().resolve()), None if data_dir is None else str(os.path.abspath(data_dir)),
                       None if twin_fm is None else str(os.path.abspath(twin_fm.path)),
                       None if twin_fm is None else twin_fm.checkpoint_id)


def suite_setup(suite, device: str | None = None, precision: str | None = None) -> SuiteSetup:
    """``SuiteSetup`` of a client-side ``Suite`` (keyed by everything that makes it)."""
    from ..probes.cache import cache_key

    w = worker_setup(suite.fm, suite.twin_fm, suite.data_dir, device, precision)
    params = suite.params.to_dict()
    key = cache_key(w.__dict__, suite.config.__dict__, params, str(suite.out), str(suite.cells_dir))
    return SuiteSetup(w, suite.config, params, str(os.path.abspath(suite.out)), str(os.path.abspath(suite.cells_dir)),
                      key)
