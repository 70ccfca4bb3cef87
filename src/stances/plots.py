"""Figures: one question per figure, titled in words, dates on the x axis, events marked.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so they need no display and
leave no global state behind. Dates go to matplotlib as dates (its units registry converts
them); its type stubs only know numbers, hence the ``type: ignore[arg-type]`` where dates go in.

Longer than the project's ~600 lines because only this file may import matplotlib
(``tests/test_layers.py``): every figure of the project lives here, one function each, with the
marks of checked observations on the relation plots.
"""

from __future__ import annotations

from datetime import date
from itertools import combinations
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from stances.analysis.compare import what_differs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from stances.analysis.calibrate import Calibration
    from stances.analysis.observations import Mark
    from stances.result import Result

CONFLICT = "#b2182b"
COOPERATION = "#2166ac"
NEUTRAL = "#7f7f7f"
FORWARD = "#1b7837"  # how the first actor of a pair regards the second
BACKWARD = "#762a83"  # and the other way round
MOVED = 0.005  # an event "touches" a dyad in the plots when it moves it by more than this


def event_colour(goldstein: float) -> str:
    """Red for conflict, blue for cooperation, grey for neutral events."""
    return CONFLICT if goldstein < 0 else COOPERATION if goldstein > 0 else NEUTRAL


def event_list(result: Result) -> pd.DataFrame:
    """One row per event (an event whose date is drawn per member appears once, with the
    range of its dates), numbered by first date: n, date, until, lasts_until, event, who,
    type, ...; lasts_until is the step boundary up to which a lasting event held (the end of
    the last step it pressed in, in any member; NaT for a one-off)."""
    columns = ["n", "date", "until", "lasts_until", "event", "who", "type", "goldstein", "origin"]
    ev = result.events
    if ev.empty:
        return pd.DataFrame(columns=columns)
    ev = ev.drop_duplicates(["step", "event", "origin"]).assign(
        date=lambda d: pd.to_datetime(d["date"])
    )
    presses = ev[ev["origin"] == "lasting"].groupby("event")["step"].max()
    held_to = {e: pd.Timestamp(result.dates[step]) for e, step in presses.items()}
    ev = ev[ev["origin"] != "lasting"]
    grouped = ev.groupby(["event", "origin"], sort=False)
    first = grouped.first().reset_index()
    first["until"] = grouped["date"].max().to_numpy()
    lasts = first["event"].map(held_to).where(first["origin"] == "scripted")
    first["lasts_until"] = pd.to_datetime(lasts)
    first = first.sort_values("date", kind="stable").reset_index(drop=True)
    first.insert(0, "n", np.arange(1, len(first) + 1))
    return first[columns]


def pairs_to_show(
    result: Result, most: int = 12, first: tuple[tuple[str, str], ...] = ()
) -> list[tuple[str, str]]:
    """Unordered pairs of actors, at most `most` of them: those of the dyads `first` (in
    either order), then those that moved most; in the actors' order."""
    ids = result.actor_ids
    median = result.median()
    span = median.max(axis=0) - median.min(axis=0)
    pairs = list(combinations(range(len(ids)), 2))
    wanted = {tuple(sorted((ids.index(a), ids.index(b)))) for a, b in first}
    pairs.sort(key=lambda p: (p not in wanted, -(span[p[0], p[1]] + span[p[1], p[0]])))
    chosen = sorted(pairs[:most])
    return [(ids[i], ids[j]) for i, j in chosen]


def _line_with_band(
    ax: Axes, x: list[date], band: np.ndarray, colour: str, label: str, style: str, bands: bool
) -> None:
    """The median (band[2]); with bands, the 25-75 % and 5-95 % ranges around it.

    band: (5, T) quantiles at 5, 25, 50, 75 and 95 %.
    """
    if bands:
        ax.fill_between(x, band[0], band[4], color=colour, alpha=0.12, linewidth=0)  # type: ignore[arg-type]
        ax.fill_between(x, band[1], band[3], color=colour, alpha=0.25, linewidth=0)  # type: ignore[arg-type]
    ax.plot(x, band[2], color=colour, lw=1.8, ls=style, label=label)  # type: ignore[arg-type]


def _touches(result: Result, a: str, b: str) -> set[str]:
    ev = result.events
    moved = ev[
        (((ev["actor"] == a) & (ev["toward"] == b)) | ((ev["actor"] == b) & (ev["toward"] == a)))
        & (ev["change"].abs() > MOVED)
    ]
    return set(moved["event"])


def _levels(
    starts: np.ndarray, widths: np.ndarray, hi: float, pad: float, spans: np.ndarray | None = None
) -> tuple[list[int], list[bool]]:
    """Stack labels in rows: each goes in the lowest row free at its date.

    A label reads rightwards from its date, or leftwards when it would run past `hi`; spans:
    where each item's own band ends (a lasting event's), kept free of other labels too.
    Returns each label's row and whether it reads leftwards.
    """
    ends: list[float] = []
    rows, leftwards = [], []
    spans = starts if spans is None else spans
    for x, w, span in zip(starts, widths, spans, strict=True):
        left = x + w > hi
        lo_edge, hi_edge = (x - w, x) if left else (x, x + w)
        hi_edge = max(hi_edge, span)
        row = next((r for r, end in enumerate(ends) if end + pad < lo_edge), len(ends))
        if row == len(ends):
            ends.append(hi_edge)
        else:
            ends[row] = hi_edge
        rows.append(row)
        leftwards.append(left)
    return rows, leftwards


def _event_label(r) -> str:
    """'3 dubai-meeting: IND + AFG, meet'; decided events by who and what; drawn dates' range."""
    if r.origin == "scripted":
        text = f"{r.n} {r.event}: {r.who}, {r.type}"
    else:
        text = f"{r.n} {r.who}, {r.type} ({r.origin})"
    if r.until > r.date:
        text += f", {r.date:%d %b}–{r.until:%d %b} (drawn per member)"
    if not pd.isna(r.lasts_until):
        text += f", held to {r.lasts_until - pd.Timedelta(days=1):%d %b %Y}"
    return text


def _event_strip(ax: Axes, events: pd.DataFrame, x0: date, x1: date) -> None:
    """The events on the time axis: a marker at each date, its label stacked so none overlap."""
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if events.empty:
        return
    lo, hi = mdates.date2num(x0), mdates.date2num(x1)
    xs = np.asarray(mdates.date2num(events["date"].to_numpy()))
    labels = [_event_label(r) for r in events.itertuples()]
    width_in = ax.get_position().width * ax.figure.get_figwidth()  # type: ignore[union-attr]
    per_char = (hi - lo) * (7 * 0.52 / 72) / max(width_in, 1.0)  # 7 pt text, about 0.52 em a char
    widths = np.array([len(t) * per_char for t in labels])
    held = events["lasts_until"].fillna(events["date"]).to_numpy()
    spans = np.asarray(mdates.date2num(held))
    rows, leftwards = _levels(xs, widths, hi, pad=2 * per_char, spans=spans)
    depth = max(rows) + 1
    ax.set_ylim(-depth - 0.3, 0.6)
    untils = np.asarray(mdates.date2num(events["until"].to_numpy()))
    for x, until, span, label, row, left, g, origin in zip(
        xs,
        untils,
        spans,
        labels,
        rows,
        leftwards,
        events["goldstein"],
        events["origin"],
        strict=True,
    ):
        colour = event_colour(g)
        y = -row - 0.6
        if span > x:  # a lasting event: a band over the days it held, in its label's row
            ax.fill_between([x, span], y - 0.42, y + 0.42, color=colour, alpha=0.14, lw=0)
        ax.plot([x, x], [0.35, y], color=colour, lw=0.6, alpha=0.7)
        if until > x:  # a date drawn per member: the range it fell in
            ax.plot([x, until], [0.35, 0.35], color=colour, lw=3, alpha=0.5, solid_capstyle="butt")
        ax.plot(
            [x],
            [0.35],
            marker="v",
            ms=6,
            color=colour,
            mfc="white" if origin != "scripted" else colour,
        )
        ax.text(
            x,
            y,
            (label + " ") if left else (" " + label),
            ha="right" if left else "left",
            va="center",
            fontsize=7,
            color=colour,
        )


def _number_groups(events: pd.DataFrame, days: int = 6) -> list[tuple[pd.Timestamp, str, str]]:
    """Event numbers grouped when their dates are within `days`: (date, '10-13', colour)."""
    groups: list[list] = []
    for row in events.itertuples():
        if groups and (row.date - groups[-1][-1].date).days <= days:
            groups[-1].append(row)
        else:
            groups.append([row])
    out = []
    for g in groups:
        numbers = [r.n for r in g]
        consecutive = numbers == list(range(numbers[0], numbers[-1] + 1))
        text = (
            f"{numbers[0]}–{numbers[-1]}"
            if consecutive and len(numbers) > 2
            else ",".join(map(str, numbers))
        )
        colours = {event_colour(r.goldstein) for r in g}
        out.append((g[0].date, text, colours.pop() if len(colours) == 1 else "black"))
    return out


def relations_figure(result: Result, marks: list[Mark] | None = None) -> Figure:
    """How each pair of actors regards the other over time, with the events that moved them
    (a lasting event as a light band over the days it held) and, given the marks of checked
    observations (``analysis.observations.marks``), each observation on its score's panel,
    coloured by whether it holds, listed by number under the figure."""
    marks = marks or []
    pairs = pairs_to_show(result, first=tuple(m.dyad for m in marks if m.dyad is not None))
    ncols = 3 if len(pairs) > 4 else 2 if len(pairs) > 1 else 1
    nrows = -(-len(pairs) // ncols)
    n_events = len(event_list(result))
    strip_height = 0.6 + 0.16 * min(n_events, 14)
    caption_height = 0.3 + 0.13 * -(-len(marks) // 2) if marks else 0.0
    heights = [2.7] * nrows + [strip_height] + ([caption_height] if marks else [])
    fig = Figure(figsize=(4.6 * ncols, sum(heights) + 1.0), layout="constrained")
    grid = fig.add_gridspec(len(heights), ncols, height_ratios=heights)
    x = list(result.dates)
    events = event_list(result)
    names = result.actors
    axes: list[Axes] = []
    for n, (a, b) in enumerate(pairs):
        ax = fig.add_subplot(grid[n // ncols, n % ncols], sharex=axes[0] if axes else None)
        axes.append(ax)
        ax.axhline(0, color="black", lw=0.6)
        touching = events[events["event"].isin(_touches(result, a, b))]
        for _, row in touching.iterrows():
            colour = event_colour(row["goldstein"])
            ax.axvline(row["date"], color=colour, lw=0.8, alpha=0.45, ls=":")
            if not pd.isna(row["lasts_until"]):
                ax.axvspan(
                    row["date"], row["lasts_until"], color=colour, alpha=0.07, lw=0, zorder=0
                )
        for when, text, colour in _number_groups(touching):
            ax.text(
                when,  # type: ignore[arg-type]
                1.0,
                text,
                transform=ax.get_xaxis_transform(),
                fontsize=6,
                ha="center",
                va="bottom",
                color=colour,
            )
        bands = result.members > 1
        _line_with_band(ax, x, result.band(a, b), FORWARD, f"{a} → {b}", "-", bands)
        _line_with_band(ax, x, result.band(b, a), BACKWARD, f"{b} → {a}", "--", bands)
        mine = [m for m in marks if m.dyad in ((a, b), (b, a))]
        ax.set_ylim(-YLIM, YLIM)
        _label_marks(ax, mine, [_draw_mark(ax, m) for m in mine])
        ax.set_yticks([-1, -0.5, 0, 0.5, 1])
        ax.grid(axis="y", alpha=0.25)
        ax.set_title(f"{names[a]} and {names[b]}", fontsize=10, loc="left")
        ax.legend(fontsize=7, loc="best", frameon=False)
        ax.tick_params(labelsize=7, labelbottom=False)
        if n % ncols == 0:
            ax.set_ylabel("score (−1 hostile … +1 friendly)", fontsize=7)
    for ax in axes[-ncols:]:
        ax.tick_params(labelbottom=True)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    strip = fig.add_subplot(grid[nrows, :])
    strip.xaxis_date()
    strip.tick_params(labelsize=7)
    strip.xaxis.set_major_formatter(mdates.ConciseDateFormatter(strip.xaxis.get_major_locator()))
    strip.set_xlim(x[0], x[-1])  # type: ignore[arg-type]
    strip.tick_params(labeltop=True, top=True)  # its own dates, next to its markers
    strip.set_title("All events, by date", fontsize=9, loc="left", pad=14)
    _event_strip(strip, events, x[0], x[-1])
    strip.set_xlabel(
        "timeline of all events, on its own date axis, numbered by date; the numbers above each panel are "
        "the events that moved that pair (red: conflict, blue: cooperation; hollow: decided by an actor)",
        fontsize=8,
    )
    if marks:
        _mark_caption(fig.add_subplot(grid[nrows + 1, :]), marks, set(pairs))
    members = result.members
    what = "median and 50 % / 90 % bands of " + f"{members} members" if members > 1 else "one run"
    fig.suptitle(
        f"{result.title}\nHow each state regards the other, {x[0]:%d %b %Y} – {x[-1]:%d %b %Y} ({what})",
        fontsize=12,
    )
    return fig


HOLDS = "#0072b2"  # an observation that holds; blue and vermilion stay apart for colour-blind eyes
FAILS = "#d55e00"  # one that does not


YLIM = 1.05  # the score panels show [-YLIM, YLIM]


def _draw_mark(ax: Axes, mark: Mark) -> tuple[float, float, str]:
    """One observation on its score's panel (``Mark``): a level as a dashed segment at its
    bound with a triangle pointing to the side the score must stay on (and a ring at the
    score it is compared with, for a score at a date), a comparison with another score as a
    solid bar over its period near the panel's edge, a change as a dotted line at the level
    its window starts from and an arrow at its end toward the side it must end on, the date
    of an extreme as a bracket over its window. Returns where its label goes (x as a
    matplotlib date number, score, and va: 'bottom', 'top' or 'center')."""
    c = HOLDS if mark.holds else FAILS
    up = mark.direction
    x0, x1 = float(mdates.date2num(mark.start)), float(mdates.date2num(mark.end))
    triangle = "^" if up > 0 else "v"
    if mark.shape == "period":  # no level to draw: an interval bar near the edge
        y = up * 0.9
        ax.plot([x0, x1], [y, y], color=c, lw=1.0, marker="|", ms=6, zorder=5)
        ax.plot([x1], [y], color=c, marker=triangle, ms=4.5, zorder=5)
        return x0, y + up * 0.05, "bottom" if up > 0 else "top"
    if mark.shape == "level":
        y = mark.y0
        ax.plot([x0, x1], [y, y], color=c, lw=1.5, ls=(0, (4, 2)), zorder=5)
        ax.plot([x1], [y], color=c, marker=triangle, ms=4.5, zorder=5)
        if mark.at is not None:
            ring = y - up * mark.observation.by
            at = float(mdates.date2num(mark.at))
            ax.plot([at], [ring], color=c, marker="o", ms=4, mfc="white", zorder=5)
        return x0, y + up * 0.05, "bottom" if up > 0 else "top"
    if mark.shape == "change":
        tip = float(np.clip(mark.y0 + up * (0.3 + mark.observation.by), -1.02, 1.02))
        ax.plot([x0, x1], [mark.y0, mark.y0], color=c, lw=1.0, ls=":", zorder=5)
        ax.annotate(
            "",
            xy=(x1, tip),
            xytext=(x1, mark.y0),
            arrowprops={"arrowstyle": "-|>", "color": c, "lw": 1.5, "shrinkA": 0, "shrinkB": 0},
            zorder=5,
        )
        return x1, tip, "center"
    y = up * 0.99
    tick = -0.1 * up
    ax.plot([x0, x0, x1, x1], [y + tick, y, y, y + tick], color=c, lw=1.5, zorder=5)
    return x1, y + tick, "center"


def _label_marks(ax: Axes, marks: list[Mark], labels: list[tuple[float, float, str]]) -> None:
    """The numbers of the marks of one panel, each with a tick if it holds and a cross if it
    does not, moved past the labels it would cover (labels within about 4 % of the window and
    0.09 in score of each other): rightwards, or leftwards near the panel's right edge, where
    they read leftwards too."""
    x_lo, x_hi = (float(v) for v in ax.get_xlim())
    wide = 0.04 * (x_hi - x_lo)
    placed: list[tuple[float, float]] = []
    for mark, (x, y, va) in zip(marks, labels, strict=True):
        leftwards = x > x_hi - 1.5 * wide
        step = -wide if leftwards else wide
        x += 0.2 * step if va == "center" else 0.0
        while any(abs(x - px) < wide and abs(y - py) < 0.09 for px, py in placed):
            x += step
        placed.append((x, y))
        ax.text(
            x,
            y,
            f"{mark.number}{'✓' if mark.holds else '✗'}",
            ha="right" if leftwards else "left",
            va=va,
            fontsize=6.5,
            fontweight="bold",
            color=HOLDS if mark.holds else FAILS,
            zorder=6,
        )


def _mark_caption(ax: Axes, marks: list[Mark], pairs: set[tuple[str, str]]) -> None:
    """The observations by number, in two columns, with the legend of their colours."""
    ax.set_axis_off()
    lines = []
    for m in marks:
        drawn = m.dyad is not None and (m.dyad in pairs or m.dyad[::-1] in pairs)
        why = "" if drawn else (" (a difference: not drawn)" if m.dyad is None else " (not drawn)")
        verdict = "✓ holds" if m.holds else "✗ fails"
        lines.append(
            (f"{m.number:>2} {verdict}  {m.observation.id}: {m.observation.label}{why}", m)
        )
    half = -(-len(lines) // 2)
    for column, part in enumerate((lines[:half], lines[half:])):
        for row, (line, m) in enumerate(part):
            ax.text(
                0.5 * column,
                1.0 - row / max(half, 1),
                line,
                transform=ax.transAxes,
                fontsize=6.5,
                va="top",
                color=HOLDS if m.holds else FAILS,
            )
    held = sum(m.holds for m in marks)
    ax.set_title(
        f"Observations, {held} of {len(marks)} hold (blue ✓: holds, vermilion ✗: does not). On "
        "the panels: a level is a dashed line at its bound (▲ the score must stay above it, ▼ "
        "below; ○ the score it is compared with),\na change an arrow from the level at the start "
        "of its window (dotted) to the side it must end on, the date of an extreme a bracket "
        "over its window, a comparison with another score a solid bar |—| over its period at the panel's edge",
        fontsize=7.5,
        loc="left",
    )


def _heatmap(ax: Axes, matrix: np.ndarray, labels: list[str], title: str, vmax: float, cmap: str):
    shown = np.ma.masked_where(np.eye(len(labels), dtype=bool), matrix)
    image = ax.imshow(shown, cmap=cmap, vmin=-vmax, vmax=vmax)
    ax.set_facecolor("#dddddd")
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("… regards this actor", fontsize=8)
    ax.set_ylabel("how this actor …", fontsize=8)
    ax.set_title(title, fontsize=10)
    if len(labels) <= 12:
        for i in range(len(labels)):
            for j in range(len(labels)):
                if i != j:
                    value = matrix[i, j]
                    ink = "white" if abs(value) > 0.6 * vmax else "black"
                    ax.text(j, i, f"{value:+.2f}", ha="center", va="center", fontsize=8, color=ink)
    return image


def matrix_figure(result: Result) -> Figure:
    """Initial and final scores, and the change, as annotated heatmaps."""
    ids = list(result.actor_ids)
    first, last = result.median()[0], result.median()[-1]
    change = last - first
    fig = Figure(figsize=(14, 4.8), layout="constrained")
    axes = fig.subplots(1, 3)
    d0, d1 = result.dates[0], result.dates[-1]
    _heatmap(axes[0], first, ids, f"At the start ({d0:%d %b %Y})", 1.0, "RdBu")
    image = _heatmap(axes[1], last, ids, f"At the end ({d1:%d %b %Y})", 1.0, "RdBu")
    fig.colorbar(image, ax=axes[:2], shrink=0.8, label="score (−1 hostile … +1 friendly)")
    off = ~np.eye(len(ids), dtype=bool)
    span = max(float(np.abs(change[off]).max()) if off.any() else 0.0, 0.05)
    image = _heatmap(axes[2], change, ids, "Change (end − start)", span, "PuOr")
    fig.colorbar(image, ax=axes[2], shrink=0.8, label="change in score")
    what = f" (median of {result.members} members)" if result.members > 1 else ""
    fig.suptitle(
        f"{result.title}\nHow each actor (row) regards each other actor (column){what}", fontsize=12
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Comparing scenarios

REFERENCE = "#222222"
PALETTE = ["#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4"]


def scenario_colour(index: int) -> str:
    """Black for the reference (index 0), then a qualitative palette."""
    return REFERENCE if index == 0 else PALETTE[(index - 1) % len(PALETTE)]


def _dyad_grid(fig: Figure, count: int, extra_rows: float = 0.0):
    ncols = 3 if count > 4 else 2 if count > 1 else 1
    nrows = -(-count // ncols)
    fig.set_size_inches(4.6 * ncols, 2.8 * nrows + 1.4 + extra_rows)
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
    for ax in axes[count:]:
        ax.set_visible(False)
    for i, ax in enumerate(axes[:count]):
        # dates under every panel with no panel below it (the last row may be short)
        ax.tick_params(labelsize=7, labelbottom=i + ncols >= count)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.grid(axis="y", alpha=0.25)
    return axes[:count], ncols


def _caption(comparison, note: str = "", width: int = 150) -> str:
    import textwrap

    ref = comparison.results[0]
    lines = [f"Reference: {comparison.labels[0]} — {ref.title}. {note} {comparison.note}".rstrip()]
    lines += [f"Note: {n}." for n in comparison.time_notes()]
    for label, result in zip(comparison.labels[1:], comparison.results[1:], strict=True):
        lines.append(f"{label} — {result.title}: {what_differs(ref, result)}")
    dropped = {k: v for k, v in comparison.dropped_actors().items() if v}
    if dropped:
        lines.append(
            "Not compared (absent elsewhere): "
            + "; ".join(f"{k}: {', '.join(v)}" for k, v in dropped.items())
        )
    return "\n".join(textwrap.fill(line, width, subsequent_indent="    ") for line in lines)


def _finish(fig: Figure, left: list, comparison, ylabel: str, title: str, note: str) -> None:
    """Y labels on the left column, one legend of scenarios, the title, and the caption."""
    for ax in left:
        ax.set_ylabel(ylabel, fontsize=7)
    handles, labels = left[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper right", fontsize=8, frameon=False, ncols=4)
    fig.suptitle(title, fontsize=11, x=0.01, ha="left")
    fig.supxlabel(_caption(comparison, note), fontsize=7.5, ha="left", x=0.01)


def comparison_figure(comparison, dyads: list[tuple[str, str]]) -> Figure:
    """One panel per dyad, one line per scenario; each scenario's events marked in its colour."""
    fig = Figure(layout="constrained")
    axes, ncols = _dyad_grid(fig, len(dyads), extra_rows=0.25 * len(comparison.results))
    x = comparison.dates
    names = comparison.results[0].actors
    n = len(comparison.results)
    for ax, (a, b) in zip(axes, dyads, strict=True):
        ax.axhline(0, color="black", lw=0.6)
        for i, label in enumerate(comparison.labels):
            colour = scenario_colour(i)
            bands = comparison.results[i].members > 1
            _line_with_band(ax, x, comparison.band(i, (a, b)), colour, label, "-", bands)
            events = event_list(comparison.results[i])
            touching = events[events["event"].isin(_touches(comparison.results[i], a, b))]
            touching = touching[
                (touching["date"] >= pd.Timestamp(x[0])) & (touching["date"] <= pd.Timestamp(x[-1]))
            ]
            y = -1.0 + 0.08 * (n - 1 - i)
            ax.plot(
                touching["date"],
                [y] * len(touching),
                ls="none",
                marker="^",
                ms=4.5,
                color=colour,
                alpha=0.9,
            )
        ax.set_ylim(-1.05, 1.05)
        ax.set_title(f"how {names[a]} regards {names[b]}", fontsize=9, loc="left")
    title = "Scenarios compared: how each state regards another"
    note = "Triangles: the events that moved each pair, in each scenario's colour."
    _finish(fig, axes[::ncols], comparison, "score (−1 … +1)", title, note)
    return fig


def difference_figure(comparison, dyads: list[tuple[str, str]], threshold: float) -> Figure:
    """Each scenario minus the reference, per dyad, with the date they first part by > threshold."""
    fig = Figure(layout="constrained")
    axes, ncols = _dyad_grid(fig, len(dyads), extra_rows=0.25 * len(comparison.results))
    x = comparison.dates
    names = comparison.results[0].actors
    largest = max(
        [threshold]
        + [
            float(np.abs(comparison.difference(i, d)).max())
            for i in range(1, len(comparison.results))
            for d in dyads
        ]
    )
    for ax, dyad in zip(axes, dyads, strict=True):
        ax.axhspan(-threshold, threshold, color="#eeeeee", lw=0)
        ax.axhline(0, color=REFERENCE, lw=0.8)
        for i in range(1, len(comparison.results)):
            colour = scenario_colour(i)
            ax.plot(
                x, comparison.difference(i, dyad), color=colour, lw=1.8, label=comparison.labels[i]
            )
            parted = comparison.parting_date(i, dyad, threshold)
            if parted:
                ax.axvline(parted, color=colour, ls="--", lw=0.9)
                late = (parted - x[0]).days > 0.7 * (x[-1] - x[0]).days  # label left of the line
                ax.text(
                    parted,
                    0.98 - 0.09 * (i - 1),
                    f"parts {parted:%d %b} " if late else f" parts {parted:%d %b}",
                    transform=ax.get_xaxis_transform(),
                    fontsize=6.5,
                    color=colour,
                    va="top",
                    ha="right" if late else "left",
                )
        shares = [
            f"{comparison.labels[i]}: {p:.0%}"
            for i in range(1, len(comparison.results))
            if (p := comparison.p_above(i, dyad)) is not None and comparison.results[i].members > 1
        ]
        if shares:
            ax.text(
                0.01,
                0.03,
                "ends above the reference in " + ", ".join(shares) + " of futures",
                transform=ax.transAxes,
                fontsize=6.5,
                va="bottom",
            )
        ax.set_ylim(-1.1 * largest, 1.1 * largest)  # one scale for all panels: sizes compare
        ax.set_title(f"how {names[dyad[0]]} regards {names[dyad[1]]}", fontsize=9, loc="left")
    title = f"How far each what-if departs from {comparison.labels[0]} (difference of medians)"
    note = (
        f"Grey band: ±{threshold:g}, inside which two scenarios count as the same; "
        "'parts': the first date outside it."
    )
    _finish(fig, axes[::ncols], comparison, f"difference from {comparison.labels[0]}", title, note)
    return fig


def sweep_figure(points: list, dyad: tuple[str, str]) -> Figure:
    """One dyad over time, one median and band per point of a sweep."""
    fig = Figure(figsize=(10, 4.8), layout="constrained")
    ax = fig.subplots()
    names = points[0].result.actors
    for i, point in enumerate(points):
        result = point.result
        colour = PALETTE[i % len(PALETTE)]
        _line_with_band(
            ax, result.dates, result.band(*dyad), colour, point.label, "-", result.members > 1
        )
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("score (−1 hostile … +1 friendly)")
    ax.grid(axis="y", alpha=0.25)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.legend(fontsize=8, loc="best", frameon=False)
    members = points[0].result.members
    fig.suptitle(
        f"{points[0].result.title}: how {names[dyad[0]]} regards {names[dyad[1]]}, for each value swept\n"
        f"median and 50 % / 90 % bands of {members} members per value (the same seeds for every value)",
        fontsize=10,
    )
    return fig


ACTOR_COLOURS = [
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#666666",
]


def stances_figure(result: Result) -> Figure:
    """Each issue: every taking-part actor's position over time (0 to 1), with bands for an
    ensemble."""
    issues = list(result.issues.items())
    fig = Figure(figsize=(11, 3.0 * len(issues) + 1.0), layout="constrained")
    axes = fig.subplots(len(issues), 1, squeeze=False, sharex=True)[:, 0]
    x = list(result.dates)
    bands = result.members > 1
    for ax, (name, info) in zip(axes, issues, strict=True):
        for actor in info["actors"]:
            colour = ACTOR_COLOURS[result.actor_ids.index(actor) % len(ACTOR_COLOURS)]
            label = f"{result.actors.get(actor, actor)}"
            _line_with_band(ax, x, result.position_band(name, actor), colour, label, "-", bands)
        ax.set_ylim(-0.03, 1.03)
        ax.grid(axis="y", alpha=0.25)
        ax.set_ylabel("position (0 … 1)", fontsize=8)
        ax.set_title(f"{name}: {info['description']}", fontsize=9, loc="left")
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
        ax.tick_params(labelsize=7)
    axes[-1].xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(axes[-1].xaxis.get_major_locator())
    )
    what = f"median and 50 % / 90 % bands of {result.members} members" if bands else "one run"
    fig.suptitle(
        f"{result.title}\nPositions on the issues: each actor moves toward those it regards well, "
        f"anchored to where it started (Friedkin–Johnsen; {what})",
        fontsize=10,
    )
    return fig


def stance_comparison_figure(comparison, keys: list[tuple[str, str]]) -> Figure:
    """One panel per (issue, actor): its position over time, one line (and band) per scenario."""
    fig = Figure(layout="constrained")
    axes, ncols = _dyad_grid(fig, len(keys), extra_rows=0.25 * len(comparison.results))
    names = comparison.results[0].actors
    for ax, key in zip(axes, keys, strict=True):
        for i, label in enumerate(comparison.labels):
            bands = comparison.results[i].members > 1
            _line_with_band(
                ax,
                comparison.dates,
                comparison.position_band(i, key),
                scenario_colour(i),
                label,
                "-",
                bands,
            )
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(f"{names.get(key[1], key[1])} on {key[0]}", fontsize=9, loc="left")
    title = "Scenarios compared: positions on the issues (0 … 1) that differ most"
    _finish(fig, axes[::ncols], comparison, "position (0 … 1)", title, "")
    return fig


# ---------------------------------------------------------------------------------------------
# Calibration

PRIOR = "#9e9e9e"
POSTERIOR = "#d95f02"


def _calibration_note(calibration: Calibration) -> str:
    return (
        f"{calibration.members} members drawn from the priors, weighted by "
        f"{len(calibration.verdicts)} observations (tolerance {calibration.tolerance:g} score, "
        f"{calibration.tolerance_days:g} days); effective sample size {calibration.ess:.0f}"
    )


def posterior_figure(calibration: Calibration) -> Figure:
    """One panel per uncertain value: the prior (the members' draws) and the posterior (the
    same draws, weighted) as histograms of density, with the posterior's 90 % interval."""
    count = len(calibration.labels)
    ncols = 3 if count > 4 else 2 if count > 1 else 1
    nrows = -(-count // ncols)
    fig = Figure(figsize=(4.6 * ncols, 2.9 * nrows + 1.0), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[count:]:
        ax.set_visible(False)
    epoch = date(1970, 1, 1).toordinal()  # matplotlib counts dates in days from 1970-01-01
    for u, ax in enumerate(axes[:count]):
        unit = calibration.units[u]
        shift = epoch if unit == "date" else 0
        x = calibration.draws[:, u] - shift
        bins = np.histogram_bin_edges(x, bins=40)
        ax.hist(x, bins=bins, density=True, color=PRIOR, alpha=0.5, label="prior")
        ax.hist(
            x,
            bins=bins,
            weights=calibration.weights,
            density=True,
            color=POSTERIOR,
            histtype="step",
            lw=1.6,
            label="posterior",
        )
        q = calibration.posterior_quantiles[:, u] - shift
        for value, style in zip(q, (":", "-", ":"), strict=True):
            ax.axvline(value, color=POSTERIOR, lw=1.2, ls=style)
        if unit == "date":
            ax.xaxis_date()
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.set_title(calibration.labels[u], fontsize=9, loc="left")
        ax.set_xlabel({"days": "days", "date": "date"}.get(unit, "value"), fontsize=7)
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, frameon=False, loc="best")
    fig.suptitle(
        f"{calibration.scenario.title}\nWhat the observations say about each uncertain value: "
        "prior and posterior (lines: posterior median and 90 % interval)",
        fontsize=10,
    )
    fig.supxlabel(_calibration_note(calibration), fontsize=7.5)
    return fig


def calibration_bands_figure(calibration: Calibration, dyads: list[tuple[str, str]]) -> Figure:
    """One panel per dyad: its 90 % band and median before weighting (prior) and after
    (posterior), with the periods the observations of that dyad look at shaded."""
    fig = Figure(layout="constrained")
    axes, ncols = _dyad_grid(fig, len(dyads))
    x = list(calibration.result.dates)
    names = calibration.result.actors
    for ax, (a, b) in zip(axes, dyads, strict=True):
        for band, colour, label in zip(
            calibration.band(a, b), (PRIOR, POSTERIOR), ("prior", "posterior"), strict=True
        ):
            ax.fill_between(x, band[0], band[2], color=colour, alpha=0.25, linewidth=0)
            ax.plot(x, band[1], color=colour, lw=1.6, label=label)
        for v in calibration.verdicts:
            o = v.observation
            if (a, b) not in (o.score[0], o.score[1]):
                continue
            span = o.period or o.window or (x[0], x[-1])
            if span[0] == span[1]:  # a change across one event: its date
                ax.axvline(span[0], color="#e6ab02", lw=2, alpha=0.6)
            else:
                ax.axvspan(span[0], span[1], color="#e6ab02", alpha=0.15, lw=0)
            if isinstance(o.reference, float):
                ax.hlines(o.reference, span[0], span[1], color="black", lw=1, ls="--")
        ax.axhline(0, color="black", lw=0.6)
        ax.set_ylim(-1.05, 1.05)
        ax.set_title(f"how {names[a]} regards {names[b]}", fontsize=9, loc="left")
        ax.legend(fontsize=7, frameon=False, loc="best")
    for ax in axes[::ncols]:
        ax.set_ylabel("score (−1 hostile … +1 friendly)", fontsize=7)
    fig.suptitle(
        f"{calibration.scenario.title}\nThe observed scores before and after calibration: "
        "median and 90 % band\n(yellow: the periods and events observed; dashed: a level "
        "observed)",
        fontsize=10,
    )
    fig.supxlabel(_calibration_note(calibration), fontsize=7.5)
    return fig
