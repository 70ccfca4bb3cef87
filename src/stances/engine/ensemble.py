"""Running many members: batches of members on this process, on worker processes or on a Dask
cluster; each batch gives a ``Chunk`` (``Result.from_chunks`` joins them).

Every batch is one StanceModel advancing its members together on the member axis; a batch
of members first .. first + k - 1 gives exactly what those members give in any other batch
(see ``sampling``), so the result does not depend on the batch size or the number of workers.

Before any batch starts, ``run_chunks`` checks that the run fits in the memory at hand
(``memory_needed``, ``available_memory``) and that its member numbers fit (``MAX_MEMBER``).
Worker processes end with this process: on an exception (also KeyboardInterrupt) they are
terminated, and each watches this process and exits when it is gone (even after SIGKILL).
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import mesa
import numpy as np

from stances.engine.log import Chunk
from stances.engine.model import StanceModel
from stances.errors import printable
from stances.scenario.design import Design
from stances.scenario.types import Scenario

DEFAULT_BATCH = 2000  # members per batch: big enough for numpy, small enough for memory
MAX_MEMBER = 2**63 - 1  # member numbers are int64 in the engine's arrays and in the tables
# Measured on Linux, Python 3.11 (see docs/performance.md): a worker process with numpy,
# pandas and Mesa imported holds about 160 MB; building Result.relations (the member table,
# one row per score) peaks at about 150 bytes per score.
WORKER_BYTES = 160 * 2**20
TABLE_BYTES_PER_SCORE = 160


class NotEnoughMemory(MemoryError):
    """A run would need more memory than this machine has available; nothing was started."""


def run_batch(
    task: tuple[Scenario, int, int, int] | tuple[Scenario, int, int, int, Design | None],
) -> Chunk:
    """Run members first .. first + count - 1 of a run with root seed `seed` (with a design:
    the batch's rows of it)."""
    scenario, seed, first, count, *rest = task
    design = rest[0] if rest else None
    model = StanceModel(
        scenario, rng=seed, members=count, first_member=first, collect=False, design=design
    )
    model.run()
    chunk = model.chunk()
    _forget(model)
    return chunk


def run_copies(
    scenario: Scenario, seed: int, member: int, events_in: np.ndarray, batch: int = DEFAULT_BATCH
) -> np.ndarray:
    """Scores of copies of one member that differ only in which of the file's events happen.

    events_in: bool (E, M), column m the events of copy m. Every copy draws member `member`'s
    values, noise and choices (``StanceModel(copies_of=member)``); actors that decide re-decide
    in each copy. Returns the scores at every step boundary, shape (steps + 1, M, N, N), run in
    batches of at most `batch` copies on this process.
    """
    parts = []
    for start in range(0, events_in.shape[1], batch):
        part = events_in[:, start : start + batch]
        model = StanceModel(
            scenario,
            rng=seed,
            members=part.shape[1],
            copies_of=member,
            events_in=part,
            collect=False,
        )
        model.run()
        parts.append(model.history)
        _forget(model)
    return np.concatenate(parts, axis=1)


def _forget(model: mesa.Model) -> None:
    """Let the finished model (and its history) be freed. Mesa 3.3 keeps every model with
    agents in a class-level dict, ``Agent._ids`` (mesa/mesa#3179, fixed by mesa/mesa#3180):
    without this a process keeps every batch it ever ran."""
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def batches(members: int, first: int, size: int) -> list[tuple[int, int]]:
    """(first member, count) of each batch."""
    return [
        (start, min(size, first + members - start)) for start in range(first, first + members, size)
    ]


def default_batch(members: int, workers: int) -> int:
    """Members per batch: about four batches per worker, at most DEFAULT_BATCH."""
    return max(1, min(DEFAULT_BATCH, math.ceil(members / (4 * max(workers, 1)))))


def member_bytes(scenario: Scenario) -> int:
    """Bytes of one member's record of a run: scores (steps + 1, N, N) and issue positions
    (steps + 1, I, N), float64."""
    boundaries = len(scenario.step_dates())
    n, issues = len(scenario.actor_ids), len(scenario.issues)
    return 8 * boundaries * (n * n + issues * n)


def memory_needed(
    scenario: Scenario,
    members: int,
    batch: int | None = None,
    workers: int = 1,
    *,
    on_dask: bool = False,
    member_table: bool = False,
) -> int:
    """Bytes a run needs at its peak (an estimate from the arrays it allocates), in this
    process and its workers together:

    - every running batch, one per worker: its history and positions and the copy it sends
      back, 2 x batch x ``member_bytes`` (on Dask: none here);
    - every worker process itself, WORKER_BYTES (workers > 1);
    - this process: 3 x members x ``member_bytes``: the batches' chunks, their join, and
      one more copy, of finished batches the garbage collector has not freed yet (a model
      holds reference cycles) or, later, the working copy of the bands' quantiles (measured:
      3.2 copies at the peak of 40,000 members of the article, docs/performance.md);
    - member_table: the table of every member's scores (``Result.relations``), which
      ``save`` builds for one member or with keep_members, TABLE_BYTES_PER_SCORE per score.
    """
    size = min(batch or default_batch(members, workers), members)
    running = 0 if on_dask else min(max(workers, 1), math.ceil(members / size))
    per_member = member_bytes(scenario)
    need = 2 * running * size * per_member + 3 * members * per_member
    if workers > 1 and running > 1:
        need += running * WORKER_BYTES
    if member_table:
        n = len(scenario.actor_ids)
        need += TABLE_BYTES_PER_SCORE * len(scenario.step_dates()) * members * n * n
    return need


def available_memory() -> int | None:
    """Bytes this process can still allocate: MemAvailable of /proc/meminfo (or the free pages
    where there is none), bounded by a cgroup memory limit; None when it cannot be told."""
    found = []
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)  # the file counts in kB
    if not found:
        with contextlib.suppress(ValueError, OSError, AttributeError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    for limit, usage in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        with contextlib.suppress(OSError, ValueError):  # no such file, or "max": no limit
            found.append(int(Path(limit).read_text()) - int(Path(usage).read_text()))
    return min(found) if found else None


def gib(count: int) -> str:
    """Bytes as GiB (or MiB below one GiB), e.g. '12.3 GiB'."""
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.0f} MiB"


def check_memory(scenario: Scenario, need: int, members: int, member_table: bool = False) -> None:
    """NotEnoughMemory naming both figures when `need` bytes exceed the memory available
    (member_table: `need` counts the table of every member's scores too)."""
    have = available_memory()
    if have is None or need <= have:
        return
    boundaries, n = len(scenario.step_dates()), len(scenario.actor_ids)
    plural = "s" if members != 1 else ""
    raise NotEnoughMemory(
        f"{printable(scenario.title)}: this run needs about {gib(need)} of memory "
        f"({members} member{plural} x {boundaries} step boundaries x {n} x {n} scores are "
        f"{gib(members * member_bytes(scenario))} as float64, held more than once"
        f"{', and a table of them to write' if member_table else ''}); this machine has {gib(have)} "
        f"available. Run fewer members (--runs), smaller batches (--batch), fewer workers, fewer "
        f"actors or a shorter time window"
    )


def check_members(first: int, members: int) -> None:
    """ValueError unless members first .. first + members - 1 are numbers 0 .. MAX_MEMBER."""
    if members < 1 or first < 0 or first + members - 1 > MAX_MEMBER:
        raise ValueError(
            f"members {first} .. {first + members - 1}: member numbers run from 0 to "
            f"{MAX_MEMBER} (2**63 - 1), and a run has at least one"
        )


def _progress(items: Iterable[Chunk], total: int, label: str, show: bool | None) -> Iterator[Chunk]:
    """A tqdm progress bar on standard error when it is a terminal (or when show is True)."""
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=label, unit="batch", file=sys.stderr)


def run_chunks(
    scenario: Scenario,
    *,
    members: int = 1,
    seed: int | None = None,
    first_member: int = 0,
    workers: int = 1,
    batch: int | None = None,
    dask: str | None = None,
    progress: bool | None = None,
    design: Design | None = None,
) -> tuple[int, list[Chunk]]:
    """Run `members` members of a scenario (members first_member, ...): the root seed used and
    the chunk of each batch. design: chosen values, one row per member (then `members` is
    its number of rows); each batch gets its own rows.

    workers: processes on this machine; dask: the address of a Dask scheduler to send the
    batches to instead. progress: None shows a bar only on a terminal. Raises ValueError for
    member numbers outside 0 .. MAX_MEMBER and NotEnoughMemory (before starting anything)
    when the run would not fit in the memory available.
    """
    if design is not None and members != design.rows:
        raise ValueError(f"the design has {design.rows} rows, one per member; got {members}")
    check_members(first_member, members)
    need = memory_needed(scenario, members, batch, workers, on_dask=bool(dask))
    check_memory(scenario, need, members)
    root = scenario.seed if seed is None else int(seed)
    size = batch or default_batch(members, workers)
    tasks = [
        (scenario, root, first, count, _rows(design, first - first_member, count))
        for first, count in batches(members, first_member, size)
    ]
    label = printable(scenario.title[:40])
    if dask:
        chunks = _run_on_dask(tasks, dask)
    elif workers > 1 and len(tasks) > 1:
        chunks = _run_on_workers(tasks, min(workers, len(tasks)), label, progress)
    else:
        chunks = list(_progress(map(run_batch, tasks), len(tasks), label, progress))
    return root, chunks


def _rows(design: Design | None, start: int, count: int) -> Design | None:
    """The design's rows of one batch (None without a design)."""
    return None if design is None else design.part(start, count)


def _run_on_workers(tasks: list, workers: int, label: str, progress: bool | None) -> list[Chunk]:
    """The chunks of the tasks, run on `workers` processes. On any exception (also
    KeyboardInterrupt) the workers are terminated before it propagates."""
    # forkserver, not fork: forking a process that runs threads (Dask, BLAS) can deadlock
    context = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )
    futures: list[Future] = []
    try:
        futures += [pool.submit(run_batch, task) for task in tasks]
        done = (future.result() for future in futures)  # in order, like map
        chunks = list(_progress(done, len(tasks), label, progress))
    except BaseException:
        _stop_workers(pool, futures)
        raise
    pool.shutdown()
    return chunks


def _stop_workers(pool: ProcessPoolExecutor, futures: list[Future]) -> None:
    """Cancel what has not started and terminate the worker processes (SIGTERM, then SIGKILL
    after 5 s). Python 3.14 has ProcessPoolExecutor.terminate_workers; before it the only way
    to the processes is the executor's _processes (taken before shutdown clears it)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    results = getattr(pool, "_result_queue", None)
    pool.shutdown(wait=False, cancel_futures=True)
    # The executor's thread cancels the futures not yet started; let it, before the workers
    # go: on Python 3.11 it fails (a traceback on stderr) marking a cancelled future broken.
    deadline = time.monotonic() + 2.0
    while any(not (f.running() or f.done()) for f in futures) and time.monotonic() < deadline:
        time.sleep(0.01)
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + 5.0
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(1.0)
    # A worker ended while sending its chunk leaves half a message, which the executor's
    # thread waits for ever to complete, and the interpreter then hangs at exit joining that
    # thread: this process holds the writing end of the pipe too. Closing it gives the
    # thread end-of-file once the workers are gone (the executor then counts as broken).
    writer = getattr(results, "_writer", None)
    if writer is not None:
        writer.close()


def _start_worker(parent: int) -> None:
    """In each worker: leave Ctrl-C (SIGINT to the whole process group) to the parent, which
    then ends the workers; and exit when the parent is gone, however it ended."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True, name="watchdog").start()


def _exit_with(parent: int) -> None:
    """Wait for process `parent` to end, then end this process at once. A worker's parent in
    the process tree is the forkserver, which lives as long as its workers do, so the
    worker watches the process that started the run instead (a pidfd on Linux; elsewhere
    it polls every half second)."""
    try:
        handle = os.pidfd_open(parent)
    except (AttributeError, OSError):  # not Linux >= 5.3, or the parent has gone already
        handle = None
    if handle is not None:
        select.select([handle], [], [])  # readable once the process has ended
    else:
        while _alive(parent):
            time.sleep(0.5)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else (the pid was reused)
        return False
    return True


def _run_on_dask(tasks: list, address: str) -> list[Chunk]:
    try:
        from dask.distributed import Client
    except ImportError:
        raise RuntimeError("--dask needs the dask extra: pip install -e '.[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address at all
        raise RuntimeError(f"cannot reach the Dask scheduler at {address!r}: {exc}") from None
    with client:
        futures = client.map(run_batch, tasks, pure=False)
        return client.gather(futures)
