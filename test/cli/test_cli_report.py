"""`tpuc report`: one self-contained HTML page, checked as a browser renders it."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tpuc.cli import main
from tpuc.cli.run import run_model

pytest.importorskip("matplotlib")


@pytest.fixture
def report_folder(tiny_compile: tuple[Any, Any], r18: Path, tmp_path: Path) -> tuple[Path, str]:
    """The tiny compilation's work folder (moved: the manifest's paths are relative) with a
    simulated run's profile and trace: its own when the compile went through, else the vendor
    cvimodel's. Returns the folder and the trace's file name."""
    result, _ = tiny_compile
    folder = tmp_path / "work"
    shutil.copytree(result.workdir, folder)
    if "trace" in result.files:
        return folder, result.files["trace"].name
    run_model(
        r18 / "r18_half_112_cv183x_int8.cvimodel",
        r18 / "r18_half_112_in_f32.npz",
        profile_json=folder / "r18_profile.json",
        trace_json=folder / "r18_trace.json",
    )
    return folder, "r18_trace.json"


def test_report_contents(
    report_folder: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, trace = report_folder
    assert main(["report", str(folder)]) == 0
    page = (folder / "report.html").read_text()
    assert "wrote " in capsys.readouterr().out
    for plot in ("plot-fp32", "plot-thresholds", "plot-layer-cycles", "plot-engines"):
        assert f'id="{plot}"' in page, plot
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) >= 4
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert f"href='{trace}'" in page
    assert "cycles = " in page and "650 MHz" in page
    assert "act1" in page  # a layer of the calibration table and of the checks
    assert str(folder) in page


# matplotlib's default colours of the plotted data (C0 blue, C1 orange)
PLOT_COLOURS = ((31, 119, 180), (255, 127, 14))


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(browser: str, page: Path, out: Path) -> np.ndarray:
    from PIL import Image

    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,4000",
            "--disable-dev-shm-usage",
            f"--user-data-dir={out.parent / 'chromium-profile'}",
            f"--screenshot={out}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return np.asarray(Image.open(out).convert("RGB")).astype(np.int16)


def plot_pixels(pixels: np.ndarray) -> int:
    count = 0
    for colour in PLOT_COLOURS:
        count += int(np.sum(np.all(np.abs(pixels - np.array(colour)) <= 12, axis=-1)))
    return count


def test_report_renders_in_chromium(report_folder: tuple[Path, str], tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    browser = chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have headless Chromium (.ci/setup installs the chromium package)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    assert main(["report", str(report_folder[0]), "-o", str(tmp_path / "r.html")]) == 0
    shot = screenshot(browser, tmp_path / "r.html", tmp_path / "r.png")
    # The plots are on the page: many pixels of the plotted series' colours...
    drawn = plot_pixels(shot)
    assert drawn > 20000, drawn
    # ...in several separate bands (one per figure) down the page.
    rows = np.flatnonzero(
        np.any(np.all(np.abs(shot - np.array(PLOT_COLOURS[0])) <= 12, axis=-1), axis=1)
    )
    bands = 1 + int(np.sum(np.diff(rows) > 40)) if rows.size else 0
    assert bands >= 3, bands
    # The same page without its images has none of those pixels: they come from the plots.
    bare = re.sub(r'src="data:image/png;base64,[^"]+"', 'src=""', (tmp_path / "r.html").read_text())
    (tmp_path / "bare.html").write_text(bare)
    assert plot_pixels(screenshot(browser, tmp_path / "bare.html", tmp_path / "bare.png")) < 100
