"""`tpuc report WORKDIR`: one self-contained HTML page about a compilation and its simulated run.

Reads what the work folder holds: `tpuc_compile.json` (stages, per-layer checks; written by
`tpuc compile`), else the files by their names: `*_fp32_compare.csv` / `*_int8_compare.csv`,
the calibration table (`*_calibration_table`, `*_cali_table`), the cycle profile
(`*_profile.json`, from `tpuc run --workdir` or `model_runner --profile`), the Perfetto trace
(`*_trace.json`) and `*_op_info_int8.csv` / `*_op_info.csv` (layer names of the profile's layer
ids). Plots are matplotlib PNGs embedded in the page; the trace is linked, not embedded.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import MANIFEST, TPU_CLOCK_MHZ, CliError, cycles_to_ms, read_manifest

PLOT_IDS = ("plot-fp32", "plot-int8", "plot-thresholds", "plot-layer-cycles", "plot-engines")


@dataclass
class Check:
    title: str
    tolerance: tuple[float, ...] | None
    rows: list[dict[str, Any]]  # name, op, verdict, cosine, correlation, euclidean, sqnr_db


@dataclass
class ReportData:
    workdir: Path
    name: str
    manifest: dict[str, Any] | None = None
    checks: dict[str, Check] = field(default_factory=dict)
    thresholds: list[tuple[str, float]] = field(default_factory=list)
    threshold_source: Path | None = None
    profile: dict[str, Any] | None = None
    profile_source: Path | None = None
    trace: Path | None = None
    layer_names: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _float(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if not math.isnan(value) else None


def _read_check_csv(path: Path, title: str) -> Check:
    rows = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "name": row.get("name", ""),
                    "op": row.get("op", ""),
                    "verdict": row.get("verdict", ""),
                    **{
                        k: _float(row.get(k))
                        for k in ("cosine", "correlation", "euclidean", "sqnr_db")
                    },
                }
            )
    return Check(title, None, rows)


def _first(folder: Path, patterns: tuple[str, ...]) -> Path | None:
    for pattern in patterns:
        found = sorted(p for p in folder.glob(pattern) if p.is_file())
        if found:
            return found[0]
    return None


def collect(workdir: str | os.PathLike[str]) -> ReportData:
    folder = Path(workdir)
    if not folder.is_dir():
        raise CliError(f"work folder '{folder}' does not exist")
    manifest = read_manifest(folder)
    files = {k: folder / v for k, v in (manifest or {}).get("files", {}).items()}
    data = ReportData(folder.resolve(), (manifest or {}).get("name", folder.name), manifest)
    for key, title in (
        ("fp32_check", "fp32 (interpreter) vs onnxruntime"),
        ("int8_check", "INT8 vs fp32 (interpreter)"),
    ):
        raw = (manifest or {}).get(key)
        if raw:
            data.checks[key] = Check(title, tuple(raw["tolerance"]), raw["layers"])
            continue
        csv_path = _first(folder, (f"*_{key.split('_')[0]}_compare.csv",))
        if csv_path is not None:
            data.checks[key] = _read_check_csv(csv_path, title)
    table = files.get("calibration_table")
    if table is None or not table.is_file():
        table = _first(folder, ("*_calibration_table", "*_cali_table", "*calibration_table*"))
    if table is not None:
        from ..calibration import CalibrationTable, CalibrationTableError

        try:
            read = CalibrationTable.read(table)
            data.thresholds = [(n, e.threshold) for n, e in read.items()]
            data.threshold_source = table
        except (OSError, CalibrationTableError) as error:
            data.notes.append(f"calibration table {table.name} not readable: {error}")
    profile = files.get("profile")
    if profile is None or not profile.is_file():
        profile = _first(folder, ("*_profile.json", "*profile*.json"))
    if profile is not None:
        try:
            data.profile = json.loads(profile.read_text())
            data.profile_source = profile
        except (OSError, json.JSONDecodeError) as error:
            data.notes.append(f"profile {profile.name} not readable: {error}")
    trace = files.get("trace")
    data.trace = (
        trace
        if trace is not None and trace.is_file()
        else _first(folder, ("*_trace.json", "*trace*.json"))
    )
    op_info = files.get("op_info_int8") or _first(folder, ("*_op_info_int8.csv", "*_op_info.csv"))
    if op_info is not None and op_info.is_file():
        from ..tools.npz_compare import read_op_info

        try:
            data.layer_names = {i.layer_id: i.name for i in read_op_info(op_info)}
        except (OSError, ValueError) as error:
            data.notes.append(f"{op_info.name}: {error}")
    if not (data.checks or data.thresholds or data.profile):
        raise CliError(
            f"'{folder}' holds nothing to report: no {MANIFEST}, *_compare.csv, calibration "
            f"table or *_profile.json (run `tpuc compile --workdir` or `tpuc run --workdir`)"
        )
    return data


# -- plots -----------------------------------------------------------------------------------------
def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _labels(ax: Any, names: list[str]) -> None:
    if len(names) <= 60:
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=90, fontsize=6)
    else:
        ax.set_xlabel("layer (graph order)")


def plot_check(check: Check) -> str:
    import matplotlib.pyplot as plt

    rows = [r for r in check.rows if r.get("cosine") is not None]
    names = [r["name"] for r in rows]
    fig, ax = plt.subplots(figsize=(11, 3.6))
    x = list(range(len(rows)))
    for key, color in (("cosine", "C0"), ("correlation", "C2"), ("euclidean", "C1")):
        ax.plot(
            x,
            [r[key] for r in rows],
            marker="o",
            markersize=3,
            linewidth=1.2,
            color=color,
            label=key,
        )
    if check.tolerance:
        for value, color in zip(check.tolerance, ("C0", "C2", "C1"), strict=False):
            ax.axhline(value, color=color, linestyle="--", linewidth=0.8)
    bad = [i for i, r in enumerate(rows) if r.get("verdict") == "NOT SIMILAR"]
    if bad:
        ax.scatter(
            bad,
            [rows[i]["cosine"] for i in bad],
            color="red",
            zorder=5,
            s=30,
            label="below tolerance",
        )
    low = min(
        [r["euclidean"] for r in rows] + [r["cosine"] for r in rows] + list(check.tolerance or ())
    )
    ax.set_ylim(max(-1.0, min(low, 0.9) - 0.02), 1.005)
    ax.set_ylabel("similarity")
    ax.set_title(check.title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    _labels(ax, names)
    return _png(fig)


def plot_thresholds(thresholds: list[tuple[str, float]]) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 3.2))
    ax.bar(range(len(thresholds)), [t for _, t in thresholds], color="C0")
    ax.set_yscale("log")
    ax.set_ylabel("threshold (|x| max mapped to 127)")
    ax.set_title("calibration thresholds per layer")
    ax.grid(alpha=0.3, axis="y")
    _labels(ax, [n for n, _ in thresholds])
    return _png(fig)


def plot_layer_cycles(profile: dict[str, Any], names: dict[int, str]) -> str:
    import matplotlib.pyplot as plt

    layers = profile.get("layers", [])
    labels = [names.get(int(layer["layer_id"]), f"L{layer['layer_id']}") for layer in layers]
    tiu = [layer.get("tiu_cycles", 0) for layer in layers]
    tdma = [layer.get("tdma_cycles", 0) for layer in layers]
    fig, ax = plt.subplots(figsize=(11, 3.6))
    x = range(len(layers))
    ax.bar(x, tiu, color="C0", label="TIU busy cycles")
    ax.bar(x, tdma, bottom=tiu, color="C1", label="TDMA busy cycles")
    ax.set_ylabel("cycles")
    ax.set_title(f"cycles per layer ({len(layers)} layers)")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    _labels(ax, labels)
    return _png(fig)


def plot_engines(profile: dict[str, Any]) -> str:
    import matplotlib.pyplot as plt

    engines = profile.get("engines", {})
    names = list(engines)
    busy = [engines[n].get("busy_cycles", 0) for n in names]
    idle = [engines[n].get("idle_cycles", 0) for n in names]
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.6 * len(names)))
    ax.barh(names, busy, color="C0", label="busy")
    ax.barh(names, idle, left=busy, color="C7", label="idle")
    for i, n in enumerate(names):
        ax.text(
            busy[i] / 2,
            i,
            f"{100 * engines[n].get('utilization', 0):.1f}%",
            va="center",
            ha="center",
            color="white",
            fontsize=9,
        )
    ax.set_xlabel("cycles")
    ax.set_title("engine utilization")
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


# -- page ------------------------------------------------------------------------------------------
_CSS = """
body { font-family: sans-serif; margin: 24px; max-width: 1200px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; margin: 8px 0; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
th { background: #f3f3f3; } .bad { color: #b00; font-weight: bold; } .ok { color: #070; }
figure.plot { margin: 8px 0; } figure.plot img { max-width: 100%; }
.note { color: #666; font-size: 0.9em; }
"""


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _num(value: Any, digits: int = 6) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.{digits}f}"
    return _esc(value)


def _figure(plot_id: str, png: str, caption: str) -> str:
    return (
        f'<figure class="plot" id="{plot_id}"><img alt="{_esc(caption)}" '
        f'src="data:image/png;base64,{png}"><figcaption class="note">{_esc(caption)}'
        f"</figcaption></figure>"
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _check_section(key: str, check: Check) -> str:
    rows = [r for r in check.rows if r.get("cosine") is not None]
    parts = [f"<h2>{_esc(check.title)}</h2>"]
    failing = [r for r in check.rows if r.get("verdict") == "NOT SIMILAR"]
    status = (
        f'<span class="bad">{len(failing)} layer(s) below tolerance</span>'
        if failing
        else '<span class="ok">every layer within tolerance</span>'
    )
    tol = ",".join(str(t) for t in check.tolerance) if check.tolerance else "-"
    parts.append(
        f"<p>{len(check.rows)} layers compared; tolerance cos,corr,euclid = {tol}; {status}.</p>"
    )
    if rows:
        parts.append(
            _figure(
                f"plot-{key.split('_')[0]}",
                plot_check(check),
                f"{check.title}: per-layer similarity (dashed: tolerances)",
            )
        )
        worst = sorted(rows, key=lambda r: r["cosine"])[:10]
        parts.append(
            "<p>Lowest cosine similarity:</p>"
            + _table(
                ["layer", "op", "verdict", "cosine", "correlation", "euclidean", "SQNR dB"],
                [
                    [
                        _esc(r["name"]),
                        _esc(r.get("op", "")),
                        _esc(r.get("verdict", "")),
                        _num(r["cosine"]),
                        _num(r["correlation"]),
                        _num(r["euclidean"]),
                        _num(r.get("sqnr_db"), 2),
                    ]
                    for r in worst
                ],
            )
        )
    return "\n".join(parts)


def render(data: ReportData, output: Path) -> str:
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>tpuc report: "
        f"{_esc(data.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>tpuc report: {_esc(data.name)}</h1>",
        f"<p class='note'>work folder {_esc(data.workdir)}</p>",
    ]
    manifest = data.manifest or {}
    if manifest.get("stages"):
        parts.append(
            "<h2>Stages</h2>"
            + _table(
                ["stage", "status", "seconds", "message"],
                [
                    [
                        _esc(s["name"]),
                        f"<span class='{'ok' if s['status'] == 'done' else 'bad'}'>"
                        f"{_esc(s['status'])}</span>",
                        f"{s['seconds']:.1f}",
                        _esc(s.get("message", "")),
                    ]
                    for s in manifest["stages"]
                ],
            )
        )
    for key in ("fp32_check", "int8_check"):
        if key in data.checks:
            parts.append(_check_section(key, data.checks[key]))
    if data.thresholds:
        parts.append("<h2>Calibration thresholds</h2>")
        parts.append(f"<p>{len(data.thresholds)} layers, from {_esc(data.threshold_source)}.</p>")
        parts.append(
            _figure(
                "plot-thresholds",
                plot_thresholds(data.thresholds),
                "threshold per layer (log scale)",
            )
        )
        parts.append(
            "<details><summary>all thresholds</summary>"
            + _table(["layer", "threshold"], [[_esc(n), _num(t)] for n, t in data.thresholds])
            + "</details>"
        )
    if data.profile:
        p = data.profile
        clock = float(p.get("tpu_clock_mhz", TPU_CLOCK_MHZ))
        total = int(p.get("total_cycles", 0))
        parts.append("<h2>Cycle profile (simulated CV183x)</h2>")
        parts.append(
            f"<p><b>{total} cycles = {cycles_to_ms(total, clock):.3f} ms</b> at "
            f"{clock:g} MHz (from {_esc(data.profile_source)}).</p>"
        )
        if p.get("layers"):
            parts.append(
                _figure(
                    "plot-layer-cycles",
                    plot_layer_cycles(p, data.layer_names),
                    "TIU and TDMA busy cycles per layer",
                )
            )
        if p.get("layers"):
            costly = sorted(p["layers"], key=lambda layer: -layer.get("span_cycles", 0))[:10]
            parts.append(
                "<p>Longest layers:</p>"
                + _table(
                    ["layer id", "layer", "span cycles", "TIU busy", "TDMA busy", "share of total"],
                    [
                        [
                            _esc(layer["layer_id"]),
                            _esc(data.layer_names.get(int(layer["layer_id"]), "")),
                            _esc(layer.get("span_cycles", 0)),
                            _esc(layer.get("tiu_cycles", 0)),
                            _esc(layer.get("tdma_cycles", 0)),
                            f"{100 * layer.get('span_cycles', 0) / max(total, 1):.1f}%",
                        ]
                        for layer in costly
                    ],
                )
            )
        if p.get("engines"):
            parts.append(
                _figure("plot-engines", plot_engines(p), "busy and idle cycles per engine")
            )
        if p.get("routines"):
            parts.append(
                _table(
                    ["routine", "kind", "name", "cycles / host time"],
                    [
                        [
                            _esc(r.get("index")),
                            _esc(r.get("kind")),
                            _esc(r.get("name")),
                            _esc(
                                f"{r['cycles']} cycles"
                                if "cycles" in r
                                else f"{r.get('host_us', 0):.1f} us on the host"
                            ),
                        ]
                        for r in p["routines"]
                    ],
                )
            )
    if data.trace is not None:
        href = os.path.relpath(data.trace, output.parent)
        parts.append(
            f"<h2>Timeline</h2><p>Perfetto / Chrome trace: <a id='trace-link' "
            f"href='{_esc(href)}'>{_esc(data.trace.name)}</a> (open it in "
            f"ui.perfetto.dev or chrome://tracing; one track per engine).</p>"
        )
    for note in data.notes:
        parts.append(f"<p class='note'>{_esc(note)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    workdir: str | os.PathLike[str], output: str | os.PathLike[str] | None = None
) -> Path:
    """Writes the HTML report of a work folder (default `<workdir>/report.html`)."""
    import matplotlib

    matplotlib.use("Agg")
    data = collect(workdir)
    out = Path(output) if output is not None else data.workdir / "report.html"
    out.write_text(render(data, out.resolve()), encoding="utf-8")
    return out
