"""Regenerate the README's pictures and numbers from the code as it is now.

    .venv/bin/python docs/figures.py

Writes docs/img/*.png and prints the Markdown for the README's numbers and gallery.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import stances
from stances import plots
from stances.compare import Comparison
from stances.results import Result

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"
SCENARIOS = ROOT / "scenarios"

# (file, the sentence's subject dyads) for the gallery, in README order
WHAT_IFS = [
    "no-outreach",
    "no-mediation",
    "second-strike",
    "recognition",
    "early-outreach",
    "deportation-surge",
    "long-memory",
]

# The article's claims, each a dyad and the date of the event that should move it.
CLAIMS = [
    ("AFG", "PAK", date(2024, 12, 24), "Paktika strike"),
    ("IND", "AFG", date(2025, 1, 8), "Dubai meeting"),
    ("AFG", "IND", date(2025, 1, 8), "Dubai meeting"),
    ("IND", "AFG", date(2025, 5, 15), "Jaishankar–Muttaqi call"),
    ("AFG", "IND", date(2025, 5, 15), "Jaishankar–Muttaqi call"),
    ("PAK", "AFG", date(2025, 5, 21), "Beijing mediation"),
    ("AFG", "PAK", date(2025, 5, 21), "Beijing mediation"),
    ("PAK", "CHN", date(2025, 5, 21), "Beijing mediation"),
    ("AFG", "CHN", date(2025, 5, 21), "Beijing mediation"),
]


def around(result: Result, actor: str, toward: str, when: date) -> tuple[date, float, date, float]:
    """The score at the step boundary before `when` and at the one after it."""
    dates = result.dates
    k = max(i for i, d in enumerate(dates) if d <= when)
    series = result.score(actor, toward)[:, 0]
    return dates[k], float(series[k]), dates[k + 1], float(series[k + 1])


def claims_table(result: Result) -> str:
    lines = ["| who → whom | event | before | after | change |", "|---|---|---|---|---|"]
    for a, b, when, what in CLAIMS:
        d0, s0, d1, s1 = around(result, a, b, when)
        lines.append(
            f"| {a} → {b} | {what} ({when:%d %b %Y}) | {s0:+.2f} ({d0:%d %b}) | {s1:+.2f} ({d1:%d %b}) | {s1 - s0:+.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    article = stances.run(SCENARIOS / "article.yaml")
    plots.relations_figure(article).savefig(IMG / "article-relations.png", dpi=110)
    plots.matrix_figure(article).savefig(IMG / "article-matrix.png", dpi=110)
    print(claims_table(article))
    print()
    for name in WHAT_IFS:
        variant = stances.run(SCENARIOS / f"{name}.yaml")
        comparison = Comparison(["article", name], [article, variant])
        dyads = comparison.dyads_that_differ(most=6)
        plots.comparison_figure(comparison, dyads).savefig(IMG / f"whatif-{name}.png", dpi=90)
        top = dyads[:3]
        cells = ", ".join(
            f"{a} → {b} {comparison.centre(1, (a, b))[-1]:+.2f} (article {comparison.centre(0, (a, b))[-1]:+.2f})"
            for a, b in top
        )
        print(f"{name}: {variant.title} | end scores: {cells}")


if __name__ == "__main__":
    main()
