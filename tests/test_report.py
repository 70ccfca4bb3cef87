"""`stances report`: one self-contained HTML file from a run or comparison directory.

Checked without a browser (the HTML parses, every section is there, nothing is fetched from
the network, every event's citation is shown, hostile text is escaped, bad input is refused
with one line and nothing written) and in a real one: Debian's chromium renders it headless
and its screenshot is a PNG that is not blank.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from helpers import CHROMIUM, CHROMIUM_ARGS

from stances import api
from stances.cli import main
from stances.report import SECTIONS, comments_of

SCENARIO = """\
# What happens to India and Pakistan after a visit? <b>bold</b>
title: "Hostile <script>alert('x')</script> title"
description: A small test & its question.
time: {start: 2025-01-01, end: 2025-03-31, step: week}
seed: 1
actors:
  IND: {name: India}
  PAK: {name: Pakistan}
  AFG: {name: Afghanistan}
relations:
  IND -> PAK: -0.5   # rivals since 1947
  AFG -> PAK: 0.2
parameters:
  kappa_target: 0.4  # a guess <i>
events:
  - id: first
    date: 2025-01-10   # fairly certain
    type: visit
    actor: IND
    target: AFG
    cite: "a visit, reported by <img src=x onerror=alert(1)>"
  - id: second
    date: 2025-02-10
    cameo: "111"
    actor: PAK
    target: IND
    cite: the second citation
"""


class Parsed(HTMLParser):
    """The elements of an HTML document: tags, ids and every src/href value."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.append(value)
            if name in ("src", "href") and value:
                self.links.append(value)


def parse(text: str) -> Parsed:
    p = Parsed()
    p.feed(text)
    p.close()
    return p


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    path = folder / "hostile.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return api.save(api.run(path), folder / "run")


@pytest.fixture(scope="module")
def compare_dir(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("compare")
    variant = folder / "variant.yaml"
    variant.write_text(
        SCENARIO.replace("2025-02-10", "2025-03-01").replace('title: "Hostile', 'title: "V'),
        encoding="utf-8",
    )
    out = folder / "cmp"
    assert main(["compare", str(run_dir), str(variant), "--out", str(out)]) == 0
    return out


def test_the_report_parses_and_has_every_section(run_dir: Path) -> None:
    page = parse(api.report(run_dir))
    for section in SECTIONS:
        assert section in page.ids, section
    assert page.tags.count("img") == 2  # relations.png and matrix.png


def test_nothing_is_fetched_from_elsewhere(run_dir: Path, compare_dir: Path) -> None:
    for directory in (run_dir, compare_dir):
        text = api.report(directory)
        assert all(link.startswith("data:image/png;base64,") for link in parse(text).links)
        assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", text, re.I)
        assert "url(" not in text and "@import" not in text and "<script" not in text.lower()


def test_every_citation_and_reason_is_shown(run_dir: Path) -> None:
    text = html.unescape(api.report(run_dir))
    assert "a visit, reported by <img src=x onerror=alert(1)>" in text
    assert "the second citation" in text
    assert "rivals since 1947" in text and "date: fairly certain" in text
    assert "What happens to India and Pakistan after a visit?" in text


def test_hostile_text_is_escaped(run_dir: Path) -> None:
    text = api.report(run_dir)
    assert "<script>" not in text and "<img src=x" not in text and "<b>bold" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert parse(text).tags.count("img") == 2  # the citation's <img> is text, not an element


def test_cameo_codes_and_weights_come_from_the_catalogue(run_dir: Path) -> None:
    # visit is CAMEO 042 (Goldstein +1.9); 111 is criticize or denounce (-2.0), Goldstein 1992
    rows = re.findall(r"<tr>(.*?)</tr>", api.report(run_dir))
    first = next(r for r in rows if "<td>first</td>" in r)
    second = next(r for r in rows if "<td>second</td>" in r)
    assert ">042<" in first and ">+1.9<" in first
    assert ">111<" in second and ">-2.0<" in second


def test_a_comparison_report_shows_what_differs(compare_dir: Path) -> None:
    text = api.report(compare_dir)
    page = parse(text)
    for section in SECTIONS:
        assert section in page.ids
    assert page.tags.count("img") == 2  # comparison.png, difference.png
    assert "Events changed" in text and "Largest differences" in text


def test_comments_are_read_beside_their_keys() -> None:
    reasons, leading = comments_of(SCENARIO)
    assert reasons[("relations", "IND -> PAK")] == "rivals since 1947"
    assert ("relations", "AFG -> PAK") not in reasons
    assert reasons[("parameters", "kappa_target")] == "a guess <i>"
    assert reasons[("events", "first")] == "date: fairly certain"
    assert leading.startswith("What happens")


def test_a_changed_scenario_file_gives_no_reasons(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    run = api.save(api.run(path), tmp_path / "run")
    path.write_text(SCENARIO.replace("rivals since 1947", "edited later"), encoding="utf-8")
    text = api.report(run)
    assert "has changed since the run" in text
    assert "rivals since 1947" not in text and "edited later" not in text


def test_the_default_output_is_numbered_in_results(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in run_dir.iterdir())
    first, second = api.save_report(run_dir), api.save_report(run_dir)
    assert first == Path("results/run-report-001.html")
    assert second == Path("results/run-report-002.html")
    assert sorted(p.name for p in run_dir.iterdir()) == before  # nothing written into the run
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [first.name, second.name]


def _refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stances: ") and "Traceback" not in err
    return err


def test_bad_input_is_one_line_and_exit_2(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    assert "not a run or comparison" in _refused(
        ["report", str(tmp_path), "--out", str(out)], capsys
    )
    assert "not a directory" in _refused(
        ["report", str(tmp_path / "no"), "--out", str(out)], capsys
    )
    out.write_text("kept", encoding="utf-8")
    assert "already exists" in _refused(["report", str(run_dir), "--out", str(out)], capsys)
    assert out.read_text(encoding="utf-8") == "kept"
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    assert "cannot write" in _refused(
        ["report", str(run_dir), "--out", str(blocked / "r.html")], capsys
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "r.html"]


def test_a_damaged_run_directory_is_refused(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(run_dir, damaged)
    lines = (damaged / "relations.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(",", ",x", 1)
    (damaged / "relations.csv").write_text("".join(lines), encoding="utf-8")
    out = tmp_path / "r.html"
    err = _refused(["report", str(damaged), "--out", str(out)], capsys)
    assert "relations.csv:4" in err
    (damaged / "relations.csv").write_bytes((run_dir / "relations.csv").read_bytes())
    (damaged / "matrix.png").write_bytes(b"not a png")
    assert "matrix.png: not a PNG" in _refused(["report", str(damaged), "--out", str(out)], capsys)
    assert not out.exists()


def test_chromium_renders_the_report(run_dir: Path, tmp_path: Path) -> None:
    """A real browser: headless chromium draws the page (a PNG, not blank) and its DOM holds
    every section. CI installs chromium (.ci/run); without it this test fails, never skips."""
    assert Path(CHROMIUM).is_file(), (
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) "
        "to run the report's browser test"
    )
    page = api.save_report(run_dir, tmp_path / "report.html").resolve()
    shot = tmp_path / "shot.png"
    flags = [*CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'profile'}"]
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri()],
        capture_output=True,
        timeout=180,
        check=False,
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout
    for section in SECTIONS:
        assert f'id="{section}"' in dom, section
    assert _not_blank(shot)


def _not_blank(path: Path) -> bool:
    """Whether a PNG has more than one colour (read with matplotlib's reader, via PIL if
    there; else by the size of its compressed data, which a blank page keeps tiny)."""
    try:
        from PIL import Image

        pixels = np.asarray(Image.open(path).convert("L"))
        return bool(pixels.std() > 5)
    except ImportError:
        return path.stat().st_size > 20_000


# --------------------------------------------------------------------------------------------
# events by their labels


@pytest.fixture(scope="module")
def article_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from stances.scenario.library import ARTICLE

    return api.save(api.run(ARTICLE), tmp_path_factory.mktemp("article") / "run", plots=False)


def _labels_in(path: Path) -> dict[str, str]:
    """id -> label of each event of a scenario file, read from its text."""
    text = path.read_text(encoding="utf-8")
    return dict(re.findall(r"- id: (\S+)\n\s+label: (.+)\n", text))


def _section_of(text: str, ident: str) -> str:
    return text[text.index(f'<section id="{ident}">') :].split("</section>")[0]


def test_the_report_names_events_by_their_labels(article_dir: Path) -> None:
    from stances.scenario.library import ARTICLE

    labels = _labels_in(Path(ARTICLE))
    assert len(labels) >= 10 and labels["paktika-strike"] == "Paktika airstrike"
    text = api.report(article_dir)
    events = _section_of(text, "assumptions")
    for ident, label in labels.items():  # the events table: each label, its id beside it
        assert f'{html.escape(label)} <span class="id">({ident})</span>' in events, ident
    changes = _section_of(text, "changes")
    result = api.load(article_dir)
    top = result.changes().head(8)
    behind = {
        e
        for a, b in zip(top["actor"], top["toward"], strict=True)
        for e, _ in result.drivers(a, b, n=3)
    }
    assert behind  # the largest changes have events behind them, each shown by its label
    for ident in behind:
        assert f'{html.escape(labels[ident])} <span class="id">({ident})</span>' in changes


def test_an_event_without_a_label_is_named_by_its_id(run_dir: Path) -> None:
    rows = re.findall(r"<tr>(.*?)</tr>", api.report(run_dir))
    assert any("<td>first</td>" in r for r in rows)
    assert 'class="id"' not in _section_of(api.report(run_dir), "assumptions")


def test_hostile_labels_are_escaped(tmp_path: Path) -> None:
    hostile = "<script>alert('l')</script> Strike & <b>co</b>"
    path = tmp_path / "labelled.yaml"
    path.write_text(
        SCENARIO.replace("  - id: first\n", f'  - id: first\n    label: "{hostile}"\n'),
        encoding="utf-8",
    )
    run = api.save(api.run(path), tmp_path / "run", plots=False)
    text = api.report(run)
    assert "<script>" not in text and "<b>co" not in text
    shown = f'{html.escape(hostile)} <span class="id">(first)</span>'
    assert shown in _section_of(text, "assumptions")
    assert shown in _section_of(text, "changes")  # first moves AFG's view of IND
    assert parse(text).tags.count("span") == text.count('<span class="id">')


def test_a_comparison_names_the_events_that_differ_by_their_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stances.scenario.library import ARTICLE

    labels = _labels_in(Path(ARTICLE))
    variant = Path(ARTICLE).with_name("no-mediation.yaml")
    out = tmp_path / "cmp"
    assert main(["compare", str(ARTICLE), str(variant), "--out", str(out)]) == 0
    capsys.readouterr()
    changes = _section_of(api.report(out), "changes")
    for ident in ("beijing-trilateral", "ambassadors-agreed"):  # its remove: list
        assert f'removed {html.escape(labels[ident])} <span class="id">({ident})</span>' in changes


# the right edge of every table, figure and heading past the right edge of the body's content
OVERFLOW = """() => {
  const body = document.body.getBoundingClientRect();
  const padding = parseFloat(getComputedStyle(document.body).paddingRight);
  const edge = body.right - padding + 1;
  return [...document.querySelectorAll('table, figure, h1, h2, h3, p')]
    .filter(e => e.getBoundingClientRect().right > edge)
    .map(e => e.tagName + ' ' + (e.className || '') + ' ' + e.getBoundingClientRect().right);
}"""


@pytest.mark.parametrize("width", [1200, 800])
def test_an_uncertain_runs_report_fits_the_page_with_no_console_errors(
    tmp_path: Path, width: int
) -> None:
    """The article with uncertain values (distributions written in the tables, long citations)
    at a desktop width and at about the width of a printed A4 page: nothing sticks out past
    the body, the browser logs no error, and it prints to PDF."""
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing (apt-get install -y chromium)"
    from playwright.sync_api import sync_playwright

    source = Path(__file__).resolve().parents[1] / "benchmarks" / "article-uncertain.yaml"
    run = api.save(api.run(source, members=8), tmp_path / "run")
    page_file = api.save_report(run, tmp_path / "report.html").resolve()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        assert page.evaluate(OVERFLOW) == []
        page.emulate_media(media="print")
        assert page.evaluate(OVERFLOW) == []
        pdf = page.pdf(format="A4")
        browser.close()
    assert errors == []
    assert pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page") > 2
