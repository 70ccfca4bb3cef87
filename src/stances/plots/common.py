"""What every figure shares: colours, the event list and its strip, pairs to show, bands,
captions and the grid of dyad panels."""

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
    from matplotlib.text import Text

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


def _drawn_dates(result: Result) -> dict[str, np.ndarray]:
    """Each scripted event whose date is drawn per member: the days the members drew (as
    ``draws`` gives them, under ``events[ID].date`` or a design's ``events.ID.date``), as
    matplotlib-free proleptic ordinals (float days), one per member."""
    draws = result.draws
    if draws is None or draws.empty:
        return {}
    found: dict[str, np.ndarray] = {}
    for key, rows in draws.groupby("value_of", sort=False):
        name = str(key)
        for head, tail in (("events[", "].date"), ("events.", ".date")):
            if name.startswith(head) and name.endswith(tail):
                found[name[len(head) : -len(tail)]] = rows["value"].to_numpy(dtype=float)
    return found


def _from_ordinal(day: float) -> pd.Timestamp:
    """A proleptic ordinal (1 = 0001-01-01), fractions of a day kept, as a timestamp."""
    whole = int(np.floor(day))
    return pd.Timestamp(date.fromordinal(whole)) + pd.Timedelta(days=day - whole)


def _file_order(result: Result) -> dict[str, tuple[float, int]]:
    """Each scripted event's place in the file: (the date the file gives, as an ordinal; for
    a drawn date the centre of its distribution, the middle of a uniform window or the
    median of a choice), its index among the file's events). Empty when the result carries
    no resolved scenario."""
    events = result.manifest.get("resolved_scenario", {}).get("events", []) or []
    order: dict[str, tuple[float, int]] = {}
    for index, event in enumerate(events):
        written = event.get("date")
        if isinstance(written, dict) and written:
            (kind, args), *_ = written.items()
            days = [pd.Timestamp(str(a)).toordinal() for a in args]
            centre = (days[0] + days[-1]) / 2 if kind == "uniform" else float(np.median(days))
        elif written is not None:
            centre = float(pd.Timestamp(str(written)).toordinal())
        else:
            continue
        order[str(event.get("id"))] = (centre, index)
    return order


def event_list(result: Result) -> pd.DataFrame:
    """One row per event: n, date, since, until, lasts_until, event, label, who, type,
    goldstein, origin.

    An event whose date is drawn per member appears once, at the median of the members'
    drawn dates (``draws``; without them, the member-weighted median of the dates of the
    steps it applied in), with since/until the earliest and latest of those dates (for any
    other event since = until = date). lasts_until is the step boundary up to which a lasting
    event held (the end of the last step it pressed in, in any member; NaT for a one-off).
    Numbered in the same order for one run and an ensemble of the same scenario: scripted
    events by the date the file gives (a drawn date's centre), then their order in the file;
    events an actor decided by the date they first happened, after the scripted ones of
    that day.
    """
    columns = [
        "n",
        "date",
        "since",
        "until",
        "lasts_until",
        "event",
        "label",
        "who",
        "type",
        "goldstein",
        "origin",
    ]
    ev = result.events
    if ev.empty:
        return pd.DataFrame(columns=columns)
    ev = ev.drop_duplicates(["step", "event", "origin"]).assign(
        date=lambda d: pd.to_datetime(d["date"])
    )
    presses = ev[ev["origin"] == "lasting"].groupby("event")["step"].max()
    held_to = {e: pd.Timestamp(result.dates[step]) for e, step in presses.items()}
    ev = ev[ev["origin"] != "lasting"]
    if ev.empty:
        return pd.DataFrame(columns=columns)
    grouped = ev.groupby(["event", "origin"], sort=False)
    first = grouped.first().reset_index()
    first["since"] = grouped["date"].min().to_numpy()
    first["until"] = grouped["date"].max().to_numpy()
    drawn = _drawn_dates(result)
    for i, row in first.iterrows():
        if row["origin"] != "scripted":
            continue
        if row["event"] in drawn:
            days = drawn[row["event"]]
            first.at[i, "date"] = _from_ordinal(float(np.median(days)))
            first.at[i, "since"] = _from_ordinal(float(days.min()))
            first.at[i, "until"] = _from_ordinal(float(days.max()))
        elif row["until"] > row["since"]:  # no draws: weigh each step's date by its members
            rows = ev[(ev["event"] == row["event"]) & (ev["origin"] == "scripted")]
            days = np.repeat(
                [d.toordinal() for d in rows["date"]], rows["members"].clip(lower=1)
            ).astype(float)
            first.at[i, "date"] = _from_ordinal(float(np.median(days)))
    lasts = first["event"].map(held_to).where(first["origin"] == "scripted")
    first["lasts_until"] = pd.to_datetime(lasts)
    for name in ("date", "since", "until"):
        first[name] = pd.to_datetime(first[name])
    order = _file_order(result)

    def key(r) -> tuple[float, int, int]:
        """(day, 0 for a scripted event of the file else 1, index in the file)."""
        if r.origin == "scripted" and r.event in order:
            centre, index = order[r.event]
            return float(np.floor(centre)), 0, index
        return float(r.date.toordinal()), 1, 0

    keys = [key(r) for r in first.itertuples()]
    first["_day"], first["_kind"], first["_index"] = zip(*keys, strict=True)
    first = first.sort_values(["_day", "_kind", "_index"], kind="stable").reset_index(drop=True)
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


def line_with_band(
    ax: Axes, x: list[date], band: np.ndarray, colour: str, label: str, style: str, bands: bool
) -> None:
    """The median (band[2]); with bands, the 25-75 % and 5-95 % ranges around it.

    band: (5, T) quantiles at 5, 25, 50, 75 and 95 %.
    """
    if bands:
        ax.fill_between(x, band[0], band[4], color=colour, alpha=0.12, linewidth=0)  # type: ignore[arg-type]
        ax.fill_between(x, band[1], band[3], color=colour, alpha=0.25, linewidth=0)  # type: ignore[arg-type]
    ax.plot(x, band[2], color=colour, lw=1.8, ls=style, label=label)  # type: ignore[arg-type]


def touches(result: Result, a: str, b: str) -> set[str]:
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


def text_width(text: str, fontsize: float) -> float:
    """How wide one line of text is in the figures' font, in inches (measured with an Agg
    renderer at 72 dpi, so one pixel is one point)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(1, 1, 72)
    width, _, _ = renderer.get_text_width_height_descent(
        text, FontProperties(size=fontsize), ismath=False
    )
    return float(width) / 72


def wrap_to(text: str, fontsize: float, width_in: float) -> str:
    """The text with each of its lines broken between words so that no line is wider than
    `width_in` inches at `fontsize` points (a single word wider than that stays whole)."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and text_width(candidate, fontsize) > width_in:
                out.append(line)
                line = word
            else:
                line = candidate
        out.append(line)
    return "\n".join(out)


def in_words(name: str) -> str:
    """An id as words: 'agree_to_exchange_ambassadors' -> 'agree to exchange ambassadors'."""
    return name.replace("_", " ").replace("-", " ")


def _who(who: str) -> str:
    """'PAK -> AFG' as 'PAK → AFG', 'PAK <-> AFG' as 'PAK ↔ AFG'."""
    return who.replace("<->", "↔").replace("->", "→")


def _repeats(label: str, kind: str) -> bool:
    """Whether every word of an event type (of 3 letters or more) is already in the label,
    matched on its first 4 letters ('host_visit' in 'Dar hosts a visit')."""
    said = [w.lower() for w in label.replace("–", " ").replace("-", " ").split()]
    words = [w for w in kind.lower().split("_") if len(w) >= 3]
    return all(any(s.startswith(w[:4]) for s in said) for w in words)


def _event_label(r) -> str:
    """'3 Dubai meeting: IND + AFG' (the event's label, else its id, with its type in words
    unless the label already says it: '2 Afghan border retaliation: AFG ↔ PAK, border clash');
    decided events by who and what; drawn dates' range."""
    if r.origin == "scripted":
        kind = "" if _repeats(str(r.label), r.type) else f", {in_words(r.type)}"
        text = f"{r.n} {r.label}: {_who(r.who)}{kind}"
    else:
        text = f"{r.n} {_who(r.who)}, {in_words(r.type)} ({r.origin})"
    if r.until > r.since:
        text += f", {r.date:%d %b}, members {r.since:%d %b}–{r.until:%d %b} (drawn per member)"
    if not pd.isna(r.lasts_until):
        text += f", held to {r.lasts_until - pd.Timedelta(days=1):%d %b %Y}"
    return text


def event_strip(ax: Axes, events: pd.DataFrame, x0: date, x1: date) -> None:
    """The events on the time axis: a marker at each date, its label stacked so none overlap."""
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if events.empty:
        return
    events = events.sort_values("date", kind="stable")  # laid out by date, numbered as given
    lo, hi = mdates.date2num(x0), mdates.date2num(x1)
    xs = np.asarray(mdates.date2num(events["date"].to_numpy()))
    labels = [_event_label(r) for r in events.itertuples()]
    width_in = ax.get_position().width * ax.figure.get_figwidth()  # type: ignore[union-attr]
    per_inch = (hi - lo) / max(width_in, 1.0)  # date units per inch of the strip
    per_char = per_inch * 7 * 0.55 / 72  # 7 pt text, about 0.55 em a character
    widths = np.array([text_width(" " + t + " ", 7) * per_inch for t in labels])
    held = events["lasts_until"].fillna(events["date"]).to_numpy()
    spans = np.asarray(mdates.date2num(held))
    rows, leftwards = _levels(xs, widths, hi, pad=2 * per_char, spans=spans)
    depth = max(rows) + 1
    ax.set_ylim(-depth - 0.3, 0.6)
    sinces = np.asarray(mdates.date2num(events["since"].to_numpy()))
    untils = np.asarray(mdates.date2num(events["until"].to_numpy()))
    for x, since, until, span, label, row, left, g, origin in zip(
        xs,
        sinces,
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
        if until > since:  # a date drawn per member: a whisker over the members' dates
            ax.plot(
                [since, until],
                [0.35, 0.35],
                color=colour,
                lw=1.2,
                alpha=0.6,
                marker="|",
                ms=7,
                solid_capstyle="butt",
            )
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


def number_groups(events: pd.DataFrame, days: int = 6) -> list[tuple[pd.Timestamp, str, str]]:
    """Event numbers grouped when their dates are within `days`, in date order: (date,
    '10-13', colour); numbers within a group ascending."""
    groups: list[list] = []
    for row in events.sort_values("date", kind="stable").itertuples():
        if groups and (row.date - groups[-1][-1].date).days <= days:
            groups[-1].append(row)
        else:
            groups.append([row])
    out = []
    for g in groups:
        numbers = sorted(r.n for r in g)
        consecutive = numbers == list(range(numbers[0], numbers[-1] + 1))
        text = (
            f"{numbers[0]}–{numbers[-1]}"
            if consecutive and len(numbers) > 2
            else ",".join(map(str, numbers))
        )
        colours = {event_colour(r.goldstein) for r in g}
        out.append((g[0].date, text, colours.pop() if len(colours) == 1 else "black"))
    return out


def stack_above(fig: Figure, panels: list[tuple[Axes, list[Text]]], fontsize: float) -> None:
    """Lay out the numbers above each panel so none overlaps another or the panel's title.

    panels: each panel with its number labels (texts at their event's date, x as a matplotlib
    date number, y = 1 in axes fraction). Measured with the figure's renderer after a layout:
    each label goes, in date order, in the lowest row above the axes where it clears the
    labels already there by 3 pt (greedy interval packing in display units), slid inside the
    panel's width when it would stick out; rows are 1.25 x fontsize apart. Every panel's
    title is then raised above the highest row any panel needs (the same for all, so the
    panels of a row stay level).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    gap = renderer.points_to_pixels(3.0)
    row_pt = 1.25 * fontsize
    most = 0
    for ax, texts in panels:
        box = ax.get_window_extent(renderer)
        at = {id(t): float(ax.transData.transform((t.get_position()[0], 0))[0]) for t in texts}
        ends: list[float] = []
        for t in sorted(texts, key=lambda t: at[id(t)]):
            width = t.get_window_extent(renderer).width
            lo = min(max(at[id(t)] - width / 2, box.x0), box.x1 - width)
            row = next((r for r, end in enumerate(ends) if end + gap <= lo), len(ends))
            if row == len(ends):
                ends.append(lo + width)
            else:
                ends[row] = lo + width
            x = float(ax.transData.inverted().transform((lo + width / 2, 0))[0])
            lift = ScaledTranslation(0, (2.0 + row * row_pt) / 72, fig.dpi_scale_trans)
            t.set_x(x)
            t.set_horizontalalignment("center")
            t.set_verticalalignment("bottom")
            t.set_transform(blended_transform_factory(ax.transData, ax.transAxes) + lift)
        most = max(most, len(ends))
    pad = max(6.0, 2.0 + most * row_pt + 4.0)
    for ax, _ in panels:
        _raise_title(ax, pad)


def _raise_title(ax: Axes, pad: float) -> None:
    """Move the panel's left title `pad` points above the axes."""
    title = ax._left_title  # type: ignore[attr-defined]
    ax.set_title(title.get_text(), loc="left", fontsize=title.get_fontsize(), pad=pad)


HOLDS = "#0072b2"  # an observation that holds; blue and vermilion stay apart for colour-blind eyes
FAILS = "#d55e00"  # one that does not


YLIM = 1.05  # the score panels show [-YLIM, YLIM]


# ---------------------------------------------------------------------------------------------
# Comparing scenarios

REFERENCE = "#222222"
PALETTE = ["#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4"]


def scenario_colour(index: int) -> str:
    """Black for the reference (index 0), then a qualitative palette."""
    return REFERENCE if index == 0 else PALETTE[(index - 1) % len(PALETTE)]


def dyad_grid(fig: Figure, count: int, extra_rows: float = 0.0):
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
            "Absent elsewhere (their pairs drawn only where present): "
            + "; ".join(f"{k}: {', '.join(v)}" for k, v in dropped.items())
        )
    return "\n".join(textwrap.fill(line, width, subsequent_indent="    ") for line in lines)


def _legend_under_title(fig: Figure, handles: list, labels: list[str], title: str) -> None:
    """The title over the full width and the legend under it, with as many columns as fit
    the figure's width: measured with the figure's renderer, the layout's box is lowered by
    the legend's height (and a 4 pt gap) so that the panels start under both."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    width_px = fig.bbox.width - 0.3 * fig.dpi
    columns = len(labels)
    while True:
        legend = fig.legend(handles, labels, fontsize=8, frameon=False, ncols=columns)
        box = legend.get_window_extent(renderer)
        if box.width <= width_px or columns == 1:
            break
        legend.remove()
        columns -= 1
    text = fig.suptitle(title, fontsize=11, x=0.01, ha="left")
    high = fig.bbox.height
    gap = 4 / 72 * fig.dpi
    title_px = text.get_window_extent(renderer).height
    top = 0.98 * high - title_px - gap  # the legend's top, in pixels from the bottom
    legend.set_bbox_to_anchor((0.01, top / high), transform=fig.transFigure)
    legend.set_loc("upper left")
    room = (0.98 * high - box.height - 2 * gap) / high
    fig.get_layout_engine().set(rect=(0, 0, 1, room))  # type: ignore[union-attr, call-arg]


def finish(fig: Figure, left: list, comparison, ylabel: str, title: str, note: str) -> None:
    """Y labels on the left column, one legend of scenarios, the title, and the caption.

    The title and the legend share the top of the figure: the legend is measured with the
    figure's renderer and the title wrapped (measured too) to the width left of it, less a
    0.4 inch gap; when that would leave the title less than half the figure, the legend
    goes under the title instead (``_legend_under_title``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for ax in left:
        ax.set_ylabel(ylabel, fontsize=7)
    handles, labels = left[0].get_legend_handles_labels()
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    width = fig.get_figwidth()
    legend = fig.legend(
        handles, labels, loc="outside upper right", fontsize=8, frameon=False, ncols=4
    )
    room = width - legend.get_window_extent(renderer).width / fig.dpi - 0.4
    if room >= width / 2:
        fig.suptitle(wrap_to(title, 11, room), fontsize=11, x=0.01, ha="left")
    else:
        legend.remove()
        _legend_under_title(fig, handles, labels, wrap_to(title, 11, width - 0.3))
    fig.supxlabel(_caption(comparison, note), fontsize=7.5, ha="left", x=0.01)
