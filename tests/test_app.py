"""The app (`stances app`, Mesa's SolaraViz): its components render for a model at any step,
the network figure draws what the scores say, the command refuses a bad file before any server
starts, and in a real browser (headless Chromium) Step advances the model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pytest
import solara
from helpers import CHROMIUM, CHROMIUM_ARGS

from stances import app, plots
from stances.api import result_of
from stances.cli import main
from stances.engine.model import StanceModel

ROOT = Path(__file__).resolve().parents[1]
SERVE = "import sys; from stances.cli import main; sys.exit(main())"


def test_model_params_start_at_the_files_values():
    params = app.model_params(str(ROOT / "scenarios" / "article.yaml"))
    for name in ("kappa_target", "kappa_actor", "kappa_observer", "kappa_parties", "noise"):
        slider = params[name]
        assert slider["min"] <= slider["value"] <= slider["max"]
    # a plain number counts weeks: the slider's value makes the same model as "N weeks"
    weeks = params["memory_half_life"]["value"]
    a = StanceModel(memory_half_life=weeks)
    b = StanceModel(memory_half_life=f"{int(weeks)} weeks")
    a.run()
    b.run()
    assert np.array_equal(a.history, b.history)


@pytest.mark.parametrize("steps", [0, 1, 30])
def test_every_component_renders_mid_run(steps):
    model = StanceModel()
    for _ in range(steps):
        model.step()
    assert result_of(model).dates[-1] == model.date
    for component in app.COMPONENTS:
        _box, rc = solara.render(component(model), handle_error=False)
        rc.close()


def test_events_table_lists_the_events_applied_so_far():
    model = StanceModel()
    ids = set()
    while model.running:
        model.step()
        table = plots.event_list(result_of(model))
        before = {e.id for e in model.spec.events if e.date < model.date}
        shown = set(table["event"]) if len(table) else set()
        assert shown == before  # the article's events are all scripted: those dated before now
        ids |= shown
    assert ids == {e.id for e in model.spec.events}


def test_network_arrows_follow_the_scores():
    scores = np.array([[0.0, 0.9, -0.8], [0.1, 0.0, 0.0], [-0.2, 0.5, 0.0]])
    fig = plots.network_figure(scores, ["A", "B", "C"])
    arrows = [p for p in fig.axes[0].patches]
    assert len(arrows) == 6  # every ordered pair but the diagonal
    widths = sorted(p.get_linewidth() for p in arrows)
    expected = sorted(0.5 + 4 * abs(scores[i, j]) for i in range(3) for j in range(3) if i != j)
    assert np.allclose(widths, expected)
    # friendly arrows blue (more blue than red), hostile ones red
    by_width = {round(p.get_linewidth(), 6): p.get_edgecolor() for p in arrows}
    friendly, hostile = by_width[round(0.5 + 4 * 0.9, 6)], by_width[round(0.5 + 4 * 0.8, 6)]
    assert friendly[2] > friendly[0] and hostile[0] > hostile[2]


def test_bad_file_is_refused_before_the_server(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nactors: 3\n", encoding="utf-8")
    assert main(["app", str(bad), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:" in err and "Traceback" not in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the app did not answer at {url} within {seconds} s")


def test_step_in_the_browser(tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it (apt-get install chromium); .ci/run does")
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = {**os.environ, "STANCES_APP_SCENARIO": str(ROOT / "scenarios" / "article.yaml")}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, "app", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/", 120)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1400})
            page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
            page.get_by_text("step 0 of", exact=False).wait_for(timeout=120_000)
            page.get_by_role("button", name="Step").first.click()
            page.get_by_text("step 1 of", exact=False).wait_for(timeout=60_000)
            for _ in range(11):  # a few more weeks, for the screenshot
                page.get_by_role("button", name="Step").first.click()
                page.wait_for_timeout(300)
            page.get_by_text("step 12 of", exact=False).wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            # the README's screenshot: STANCES_SCREENSHOTS=docs/img (a test writes no tracked file)
            shots = Path(os.environ.get("STANCES_SCREENSHOTS", tmp_path))
            page.screenshot(path=str(shots / "app.png"), full_page=True)
            browser.close()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def test_the_moved_most_figure_draws_the_scores_that_moved_most():
    model = StanceModel()
    for _ in range(14):
        model.step()
    result = result_of(model)
    median, ids = result.median(), result.actor_ids
    # brute force: every ordered pair's range so far
    spans = {
        f"{ids[i]} → {ids[j]}": float(median[:, i, j].max() - median[:, i, j].min())
        for i in range(len(ids))
        for j in range(len(ids))
        if i != j
    }
    top = sorted(spans, key=lambda k: -spans[k])[:6]
    figure = plots.moved_most_figure(result.dates, median, list(ids), until=model.dates[-1])
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == top
    for line in ax.get_lines()[: len(top)]:
        a, b = line.get_label().split(" → ")
        np.testing.assert_array_equal(line.get_ydata(), median[:, ids.index(a), ids.index(b)])
    assert mdates.num2date(ax.get_xlim()[1]).date() == model.dates[-1]
    assert "hostile" in ax.get_ylabel() and "friendly" in ax.get_ylabel()
