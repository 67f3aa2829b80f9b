"""Self-contained HTML page (inline SVG, no scripts) plotting per-layer similarity."""

from __future__ import annotations

import html
import math
from pathlib import Path

from .npz_compare import NOT_SIMILAR, CompareReport

SERIES = (("cosine", "#1f77b4"), ("correlation", "#2ca02c"), ("euclidean", "#d62728"))


def _fmt(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.6f}"


def render_html(report: CompareReport, title: str = "npz comparison") -> str:
    rows = [r for r in report.results if r.metrics is not None]
    width, height, left, right, top, bottom = 960, 360, 60, 20, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    lows = [getattr(r.metrics, key) for r in rows for key, _ in SERIES]
    lows += list(report.tolerance)
    y_min = max(-1.0, min(lows)) if lows else 0.0
    y_min = min(y_min, 0.9)
    y_min = math.floor(y_min * 20) / 20
    span = max(1.0 - y_min, 1e-6)

    def x_of(i: int) -> float:
        return left + (plot_w * i / max(len(rows) - 1, 1))

    def y_of(v: float) -> float:
        v = max(min(v, 1.0), y_min)
        return top + plot_h * (1.0 - (v - y_min) / span)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" '
        'stroke="#999"/>',
    ]
    steps = 5
    for k in range(steps + 1):
        v = y_min + span * k / steps
        y = y_of(v)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:.3f}</text>')
    for (key, color), tol in zip(SERIES, report.tolerance, strict=False):
        y = y_of(tol)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="{color}" stroke-dasharray="4 3" opacity="0.6">'
            f"<title>{key} tolerance {tol}</title></line>"
        )
    for key, color in SERIES:
        points = " ".join(
            f"{x_of(i):.1f},{y_of(getattr(r.metrics, key)):.1f}" for i, r in enumerate(rows)
        )
        if points:
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.5"/>'
            )
        for i, r in enumerate(rows):
            value = getattr(r.metrics, key)
            parts.append(
                f'<circle cx="{x_of(i):.1f}" cy="{y_of(value):.1f}" r="2.5" fill="{color}">'
                f"<title>{html.escape(r.name)} ({r.verdict}): {key} {_fmt(value)}</title></circle>"
            )
    for i, r in enumerate(rows):
        if r.verdict == NOT_SIMILAR:
            parts.append(
                f'<line x1="{x_of(i):.1f}" y1="{top}" x2="{x_of(i):.1f}" '
                f'y2="{top + plot_h}" stroke="#f00" opacity="0.3"/>'
            )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">'
        f"layer index (0..{max(len(rows) - 1, 0)})</text>"
    )
    for k, (key, color) in enumerate(SERIES):
        parts.append(
            f'<text x="{left + 10 + 110 * k}" y="{top + 14}" fill="{color}">&#9632; {key}</text>'
        )
    parts.append("</svg>")

    table = [
        "<table><tr><th>#</th><th>tensor</th><th>verdict</th><th>cosine</th>"
        "<th>correlation</th><th>euclidean</th><th>SQNR dB</th><th>shape</th></tr>"
    ]
    for i, r in enumerate(report.results):
        m = r.metrics
        cells = (
            [_fmt(m.cosine), _fmt(m.correlation), _fmt(m.euclidean), f"{m.sqnr_db:.2f}"]
            if m
            else ["-"] * 4
        )
        cls = ' class="bad"' if r.verdict == NOT_SIMILAR else ""
        table.append(
            f"<tr{cls}><td>{i}</td><td>{html.escape(r.name)}</td><td>{r.verdict}</td>"
            + "".join(f"<td>{c}</td>" for c in cells)
            + f"<td>{html.escape(str(list(r.shape_a)))}</td></tr>"
        )
    table.append("</table>")
    summary = (
        f"{len(report.results)} compared: {report.count('EQUAL')} equal, "
        f"{report.count('CLOSE')} close, {report.count('SIMILAR')} similar, "
        f"{report.count(NOT_SIMILAR)} not similar; tolerance (cos, corr, euclid) = "
        f"{report.tolerance}"
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:20px}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "td:nth-child(2){text-align:left}tr.bad{background:#fdd}</style></head><body>"
        f"<h2>{html.escape(title)}</h2><p>{html.escape(summary)}</p>"
        + "".join(parts)
        + "".join(table)
        + "</body></html>"
    )


def write_html(report: CompareReport, path: str | Path, title: str = "npz comparison") -> None:
    Path(path).write_text(render_html(report, title))
