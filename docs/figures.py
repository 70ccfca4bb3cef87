"""Regenerate the README's pictures and numbers from the code as it is now.

    .venv/bin/python docs/figures.py

Writes docs/img/*.png, executes docs/notebook.ipynb and prints the Markdown for the README's
numbers and gallery. The two browser screenshots are made elsewhere:
docs/img/app.png by the app's browser test,

    STANCES_SCREENSHOTS=docs/img .venv/bin/python -m pytest tests/test_app.py -k browser

and docs/img/report.png from a report of a 50-member run of benchmarks/article-uncertain.yaml,
drawn by headless Chromium at 1200 x 2000 (--screenshot).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import stances
from stances import plots
from stances.analysis.compare import Comparison
from stances.result import Result

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
    series = result.score_array(actor, toward)[:, 0]
    return dates[k], float(series[k]), dates[k + 1], float(series[k + 1])


def claims_table(result: Result) -> str:
    lines = ["| who → whom | event | before | after | change |", "|---|---|---|---|---|"]
    for a, b, when, what in CLAIMS:
        d0, s0, d1, s1 = around(result, a, b, when)
        lines.append(
            f"| {a} → {b} | {what} ({when:%d %b %Y}) | {s0:+.2f} ({d0:%d %b}) | {s1:+.2f} ({d1:%d %b}) | {s1 - s0:+.2f} |"
        )
    return "\n".join(lines)


def history_figure() -> None:
    """The training history with its observations marked, as `stances check` draws it."""
    from stances.analysis.observations import marks

    scenario = stances.load_scenario(SCENARIOS / "history-2021-2024.yaml")
    result = stances.run(scenario)
    verdicts, _ = stances.api.check(result, scenario)
    figure = plots.relations_figure(result, marks(result, verdicts))
    figure.savefig(IMG / "history-check.png", dpi=80)
    held = sum(v.holds for v in verdicts)
    print(f"history: {held} of {len(verdicts)} observations hold")


def explain_figure() -> None:
    """Which events made Kabul's view of Pakistan: the waterfall `stances explain` draws."""
    explanation = stances.explain(SCENARIOS / "article.yaml", [("AFG", "PAK")])
    plots.explain_figure(explanation, 0).savefig(IMG / "explain-AFG-PAK.png", dpi=100)
    k = explanation.explained
    top = ", ".join(f"{e.id} {v:+.3f}" for e, v in explanation.top(0, k, 5))
    print(
        f"explain AFG -> PAK: {explanation.none[k, 0]:+.2f} -> {explanation.full[k, 0]:+.2f}; {top}"
    )


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    article = stances.run(SCENARIOS / "article.yaml")
    plots.relations_figure(article).savefig(IMG / "article-relations.png", dpi=110)
    plots.matrix_figure(article).savefig(IMG / "article-matrix.png", dpi=110)
    print(claims_table(article))
    print()
    history_figure()
    explain_figure()
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


def mediation_utility(path: Path) -> tuple[list[date], list[float], list[date], list[date]]:
    """China's utility of mediating between Pakistan and Afghanistan at each decision, the
    dates it mediated and the dates a proposal of it was refused, in a reactive scenario."""
    model = stances.StanceModel(path)
    china = model.actor_at(model.spec.index("CHN"))
    policy = china.policy
    wanted = next(
        c
        for c, cand in enumerate(policy.candidates)
        if cand.label(model.spec.actor_ids) == "mediate PAK+AFG"
    )
    when, utility = [], []
    decide = policy.decide

    def traced(actor):
        when.append(model.decision_date)
        utility.append(float(policy.utilities(actor)[0, wanted]))
        return decide(actor)

    policy.decide = traced
    model.run()
    mediated = [
        a.event.date
        for a in model.applied
        if a.origin == "decided" and a.event.type.name == "mediate"
    ]
    refused = sorted(
        {a.event.date for a in model.applied if a.event.type.name == "reject_mediation"}
    )
    return when, utility, mediated, refused


def mediation_figure() -> None:
    """China's utility of mediating, week by week, with and without India's outreach."""
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax = fig.subplots()
    runs = [
        (
            "with India's outreach (article-reactive.yaml)",
            SCENARIOS / "article-reactive.yaml",
            "#d95f02",
        ),
        (
            "without it (no Dubai meeting, no call)",
            ROOT / "docs" / "reactive-no-outreach.yaml",
            "#1b9e77",
        ),
    ]
    for label, path, colour in runs:
        when, utility, mediated, refused = mediation_utility(path)
        ax.plot(when, utility, color=colour, lw=1.8, label=label)
        ax.plot(
            mediated,
            [utility[when.index(d)] for d in mediated],
            "o",
            color=colour,
            ms=8,
            mfc="white",
        )
        ax.plot(refused, [utility[when.index(d)] for d in refused], "x", color=colour, ms=9, mew=2)
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(date(2025, 5, 21), color="grey", ls="--", lw=1)
    for when, text in [
        (date(2025, 5, 21), "real Beijing meeting"),
        (date(2025, 1, 8), "Dubai meeting"),
        (date(2025, 5, 15), "Jaishankar call"),
        (date(2024, 12, 24), "Paktika strike"),
    ]:
        ax.axvline(when, color="#aaaaaa", ls=":", lw=1)
        ax.text(
            when,
            0.02,
            " " + text,
            transform=ax.get_xaxis_transform(),
            fontsize=7,
            rotation=90,
            va="bottom",
            color="#555555",
        )
    ax.set_ylabel("utility of mediating (gain − cost)")
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=2, frameon=False)
    fig.suptitle(
        "When does China choose to mediate between Pakistan and Afghanistan?\n"
        "Utility of 'mediate PAK + AFG' at each weekly decision. o: China mediates (above 0, out of its 8-week cooldown); "
        "x: it proposes and Kabul refuses",
        fontsize=10,
    )
    fig.savefig(IMG / "reactive-mediation.png", dpi=110)


def issues_figure() -> None:
    """The issue stances of scenarios/article-issues.yaml, and the sentence the README gives."""
    result = stances.run(SCENARIOS / "article-issues.yaml")
    plots.stances_figure(result).savefig(IMG / "article-stances.png", dpi=100)
    table = result.stance_table()
    first, last = table[table.step == 0], table[table.step == table.step.max()]
    for (issue, actor), a, b in zip(
        first[["issue", "actor"]].itertuples(index=False),
        first.position,
        last.position,
        strict=True,
    ):
        print(f"{issue:<16} {actor}: {a:.2f} -> {b:.2f}")


def execute_notebook() -> None:
    """Run docs/notebook.ipynb from top to bottom and keep its outputs, so that it reads as
    executed where it is viewed (the tests run it again, tests/test_notebook.py)."""
    import nbformat
    from nbclient import NotebookClient

    path = ROOT / "docs" / "notebook.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    nbformat.write(notebook, path)
    print(f"executed {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
    mediation_figure()
    issues_figure()
    execute_notebook()
