"""Running many members: batches of members on this process, on worker processes or on a Dask
cluster; each batch gives a ``Chunk`` (``Result.from_chunks`` joins them).

Every batch is one StanceModel advancing its members together on the member axis; a batch
of members first .. first + k - 1 gives exactly what those members give in any other batch
(see ``sampling``), so the result does not depend on the batch size or the number of workers.
"""

from __future__ import annotations

import math
import multiprocessing
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

from stances.engine.log import Chunk
from stances.engine.model import StanceModel
from stances.scenario.types import Scenario

DEFAULT_BATCH = 2000  # members per batch: big enough for numpy, small enough for memory


def run_batch(task: tuple[Scenario, int, int, int]) -> Chunk:
    """Run members first .. first + count - 1 of a run with root seed `seed`."""
    scenario, seed, first, count = task
    model = StanceModel(scenario, rng=seed, members=count, first_member=first, collect=False)
    model.run()
    return model.chunk()


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
) -> tuple[int, list[Chunk]]:
    """Run `members` members of a scenario (members first_member, ...): the root seed used and
    the chunk of each batch.

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
    return root, chunks


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
