"""Running many members: batches of members, processes, a Dask cluster, parameter sweeps.

Every batch is one StanceModel advancing its members together on the member axis; a batch
of members first .. first + k - 1 gives exactly what those members give in any other batch
(see ``sampling``), so the result does not depend on the batch size or the number of workers.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from stances.model import StanceModel
from stances.results import Chunk, Result, chunk_of
from stances.scenario import Scenario, load_scenario

DEFAULT_BATCH = 2000  # members per batch: big enough for numpy, small enough for memory


def run_batch(task: tuple[Scenario, int, int, int]) -> Chunk:
    """Run members first .. first + count - 1 of a run with root seed `seed`."""
    scenario, seed, first, count = task
    model = StanceModel(scenario, rng=seed, members=count, first_member=first, collect=False)
    model.run()
    return chunk_of(model)


def batches(members: int, first: int, size: int) -> list[tuple[int, int]]:
    """(first member, count) of each batch."""
    return [
        (start, min(size, first + members - start)) for start in range(first, first + members, size)
    ]


def default_batch(members: int, workers: int) -> int:
    """Members per batch: about four batches per worker, at most DEFAULT_BATCH."""
    return max(1, min(DEFAULT_BATCH, math.ceil(members / (4 * max(workers, 1)))))


def _progress(items: Iterable[Chunk], total: int, label: str, show: bool | None) -> Iterator[Chunk]:
    """A tqdm progress bar on standard error when it is a terminal (or when show is True)."""
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=label, unit="batch", file=sys.stderr)


def run(
    scenario: Scenario,
    *,
    members: int = 1,
    seed: int | None = None,
    first_member: int = 0,
    workers: int = 1,
    batch: int | None = None,
    dask: str | None = None,
    progress: bool | None = None,
) -> Result:
    """Run `members` members of a scenario (members first_member, ...) and join them.

    workers: processes on this machine; dask: the address of a Dask scheduler to send the
    batches to instead. progress: None shows a bar only on a terminal.
    """
    root = scenario.seed if seed is None else int(seed)
    size = batch or default_batch(members, workers)
    tasks = [
        (scenario, root, first, count) for first, count in batches(members, first_member, size)
    ]
    if dask:
        chunks = _run_on_dask(tasks, dask)
    elif workers > 1 and len(tasks) > 1:
        # forkserver, not fork: forking a process that runs threads (Dask, BLAS) can deadlock
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            chunks = list(
                _progress(pool.map(run_batch, tasks), len(tasks), scenario.title[:40], progress)
            )
    else:
        chunks = list(_progress(map(run_batch, tasks), len(tasks), scenario.title[:40], progress))
    return Result.from_chunks(scenario, root, scenario.step_dates(), chunks)


def _run_on_dask(tasks: list, address: str) -> list[Chunk]:
    try:
        from dask.distributed import Client
    except ImportError:
        raise RuntimeError("--dask needs the dask extra: pip install -e '.[dask]'") from None
    try:
        client = Client(address, timeout="10s")
    except OSError as exc:
        raise RuntimeError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = client.map(run_batch, tasks, pure=False)
        return client.gather(futures)


# ---------------------------------------------------------------------------------------------
# Sweeps


@dataclass
class SweepPoint:
    """One point of a sweep grid: the values set, and the run they gave."""

    values: dict[str, str]
    result: Result

    @property
    def label(self) -> str:
        return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in self.values.items())


def parse_vary(text: str) -> tuple[str, list[str]]:
    """'parameters.kappa_observer=0.1,0.2' -> ('parameters.kappa_observer', ['0.1', '0.2'])."""
    key, sep, values = text.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not key.strip() or not items:
        raise ValueError(
            f"--vary {text!r}: expected KEY=V1,V2,..., e.g. --vary parameters.kappa_observer=0.1,0.2"
        )
    twice = sorted({v for v in items if items.count(v) > 1})
    if twice:
        raise ValueError(f"--vary {key.strip()}: {', '.join(twice)} listed twice")
    return key.strip(), items


def grid(varied: Sequence[tuple[str, list[str]]]) -> list[dict[str, str]]:
    """Every combination of the varied values (the first key varies slowest)."""
    keys = [k for k, _ in varied]
    return [
        dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(v for _, v in varied))
    ]


def sweep(
    path: Path,
    varied: Sequence[tuple[str, list[str]]],
    *,
    sets: dict[str, str] | None = None,
    run_one: Callable[[Scenario], Result],
) -> list[SweepPoint]:
    """Run the scenario at every grid point (each with the same root seed: common random
    numbers, so differences come from the varied values, not from different draws)."""
    points = []
    for values in grid(varied):
        flags = dict.fromkeys(values, "--vary")  # problems name the option they came from
        scenario = load_scenario(path, {**(sets or {}), **values}, flags)
        points.append(SweepPoint(values, run_one(scenario)))
    return points
