"""Start-up of the quick commands against a bare interpreter.

    .venv/bin/python benchmarks/startup.py [--repeat 10]

Wall time of `stances validate scenarios/article.yaml`, `stances events`, `stances schema`,
`stances --version` and, for scale, `stances run scenarios/article.yaml --no-plots` (which does
import Mesa, pandas and matplotlib), each a fresh process started the way a user starts it
(the `stances` script next to this interpreter), against `python -c pass`. Prints the best of
--repeat times of each (the rows take turns within each repeat, so a change in the machine's
load reaches every row alike) and its ratio to `python -c pass`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "scenarios" / "article.yaml"


def stances_command() -> list[str]:
    """The `stances` script of this environment, or `python -m stances.cli` without one."""
    script = Path(sys.executable).with_name("stances")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "stances.cli"]


def rows(work: Path) -> dict[str, list[str]]:
    stances = stances_command()
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "stances --version": [*stances, "--version"],
        "stances validate article": [*stances, "validate", str(ARTICLE)],
        "stances events": [*stances, "events"],
        "stances schema": [*stances, "schema"],
        "stances run article --no-plots": [
            *stances, "run", str(ARTICLE), "--no-plots", "--out", str(work / "run-{n}")
        ],
    }  # fmt: skip


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        commands = rows(Path(scratch))
        best = dict.fromkeys(commands, float("inf"))
        for n in range(args.repeat):
            for name, command in commands.items():
                command = [part.replace("{n}", str(n)) for part in command]
                best[name] = min(best[name], wall_time(command))
    floor = best["python -c pass"]
    print(f"best of {args.repeat}, Python {sys.version.split()[0]}")
    print(f"{'command':<32} {'seconds':>8} {'x python -c pass':>17}")
    for name, seconds in best.items():
        print(f"{name:<32} {seconds:>8.3f} {seconds / floor:>17.1f}")


if __name__ == "__main__":
    main()
