#!/usr/bin/python3
"""Draws a Grafana dashboard of monitoring/grafana/dashboards into a PNG from
a live Prometheus, without Grafana: each panel's expressions go through
Prometheus' /api/v1/query_range and are drawn where the panel's gridPos puts
them (timeseries as lines, stat as its last value and a sparkline).

Needs matplotlib (Debian's python3-matplotlib, installed by scripts/setup.sh,
for Debian's /usr/bin/python3). Example, against the nodes and Prometheus that
`tests/monitoring/dashboards_test.sh BIN SRC --keep` leaves running:

  monitoring/grafana/render_dashboard.py --prometheus http://127.0.0.1:PORT \\
      --dashboard monitoring/grafana/dashboards/opea-megaservice.json \\
      --var node=chatqna --range 10m --out docs/images/megaservice-dashboard.png
"""
import argparse
import datetime
import json
import math
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_dashboards as dash  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

# Grafana's dark theme and its classic palette.
PAGE, PANEL, BORDER, TEXT, DIM, GRID = "#111217", "#181b1f", "#2c3235", "#ccccdc", "#8e8e9e", "#2c3235"
PALETTE = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#705da0",
           "#37872d", "#fade2a", "#96d98d", "#ffb357"]
COLORS = {"green": "#73bf69", "red": "#f2495c", "orange": "#ff9830", "yellow": "#fade2a",
          "blue": "#5794f2", "purple": "#b877d9"}
# Grafana's grid: 24 columns; a row unit is 30 px plus an 8 px margin.
COL_PX, ROW_PX, MARGIN_PX = 1600 / 24, 38, 8


def parse_duration(text):
    m = re.fullmatch(r"(\d+)([smhd])", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration like 30s, 10m, 1h: {text}")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def query_range(base, expr, start, end, step):
    data = dash.prometheus_get(base, "/api/v1/query_range",
                               {"query": expr, "start": start, "end": end, "step": step}, timeout=30)
    series = []
    for r in data["result"]:
        ts = [datetime.datetime.fromtimestamp(float(t)) for t, _ in r["values"]]
        vs = [float(v) for _, v in r["values"]]
        series.append((r["metric"], ts, vs))
    return series


def legend(fmt, labels):
    if not fmt:
        return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt).strip()


def fmt_value(v, unit, decimals=None):
    if v is None or math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if unit == "s":
        a = abs(v)
        if a == 0:
            return "0 s"
        if a < 1e-3:
            return f"{v * 1e6:.3g} µs"
        if a < 1:
            return f"{v * 1e3:.3g} ms"
        return f"{v:.3g} s"
    if unit == "percentunit":
        return f"{v * 100:.{1 if decimals is None else decimals}f}%"
    if decimals is not None:
        s = f"{v:.{decimals}f}"
    else:
        s = f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return s + (" req/s" if unit == "reqps" else "")


def mapped(v, mappings):
    for m in mappings or []:
        if m.get("type") == "value":
            opt = m.get("options", {}).get(str(int(v)) if v == int(v) else str(v))
            if opt:
                return opt.get("text"), COLORS.get(opt.get("color"), opt.get("color"))
    return None, None


def threshold_color(v, thresholds):
    color = "green"
    for step in (thresholds or {}).get("steps", []):
        if step.get("value") is None or v >= step["value"]:
            color = step.get("color", color)
    return COLORS.get(color, color)


def panel_box(fig, grid):
    """Figure-fraction rectangle (left, bottom, width, height) of a gridPos."""
    W, H = fig.get_size_inches() * fig.dpi
    top_px = 60  # the header
    x = grid["x"] * COL_PX + MARGIN_PX / 2
    y = top_px + grid["y"] * ROW_PX + MARGIN_PX / 2
    w = grid["w"] * COL_PX - MARGIN_PX
    h = grid["h"] * ROW_PX - MARGIN_PX
    return x / W, 1 - (y + h) / H, w / W, h / H


def draw_frame(fig, box, title):
    l, b, w, h = box
    fig.patches.append(FancyBboxPatch((l, b), w, h, boxstyle="round,pad=0,rounding_size=0.003",
                                      transform=fig.transFigure, facecolor=PANEL, edgecolor=BORDER,
                                      linewidth=0.8, zorder=-1))
    W, H = fig.get_size_inches() * fig.dpi
    fig.text(l + 8 / W, b + h - 8 / H, title, color=TEXT, fontsize=9.5, fontweight="bold",
             va="top", ha="left")


def draw_timeseries(fig, box, panel, series, start, end):
    W, H = fig.get_size_inches() * fig.dpi
    l, b, w, h = box
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    unit = defaults.get("unit", "short")
    n_leg = min(len(series), 6)
    leg_rows = math.ceil(n_leg / 2)
    ax = fig.add_axes([l + 62 / W, b + (26 + 13 * leg_rows) / H, w - 74 / W, h - (56 + 13 * leg_rows) / H])
    ax.set_facecolor(PANEL)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.tick_params(colors=DIM, labelsize=7, length=0)
    ax.grid(True, color=GRID, linewidth=0.6)
    if not series:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(0.5, 0.5, "No data", color=DIM, fontsize=11, ha="center", va="center", transform=ax.transAxes)
        return
    step = defaults.get("custom", {}).get("lineInterpolation") == "stepAfter"
    handles = []
    for i, (name, ts, vs) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        vs = [v if math.isfinite(v) else float("nan") for v in vs]
        line, = ax.plot(ts, vs, color=color, linewidth=1.2, drawstyle="steps-post" if step else "default")
        ax.fill_between(ts, vs, 0, color=color, alpha=0.08, step="post" if step else None)
        handles.append((line, name))
    ax.set_xlim(datetime.datetime.fromtimestamp(start), datetime.datetime.fromtimestamp(end))
    top = max((v for _, _, vs in series for v in vs if math.isfinite(v)), default=0)
    if defaults.get("min") == 0:
        ax.set_ylim(bottom=0, top=None if top > 0 else 1)  # all zero: 0..1, as Grafana
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: fmt_value(v, unit, defaults.get("decimals"))))
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5, integer=defaults.get("decimals") == 0))
    span = end - start
    if span >= 360:  # a tick every whole 1, 2, 5, 10... minutes, 4 to 8 of them
        minutes = next(m for m in (1, 2, 5, 10, 15, 30, 60, 120, 360, 720, 1440) if span / 60 / m <= 8)
        ax.xaxis.set_major_locator(mdates.MinuteLocator(byminute=range(0, 60, min(minutes, 30)))
                                   if minutes <= 30 else mdates.HourLocator(interval=minutes // 60))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    else:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    if handles:
        shown = handles[:n_leg]
        extra = len(handles) - n_leg
        labels = [n if len(n) <= 48 else n[:45] + "..." for _, n in shown]
        if extra:
            labels[-1] += f"  (+{extra} more)"
        fig.legend([h_ for h_, _ in shown], labels, loc="lower left", ncol=2, frameon=False, fontsize=7,
                   labelcolor=TEXT, bbox_to_anchor=(l + 4 / W, b + 2 / H), handlelength=1.2,
                   columnspacing=1.2, borderaxespad=0)


def draw_stat(fig, box, panel, series):
    W, H = fig.get_size_inches() * fig.dpi
    l, b, w, h = box
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    unit = defaults.get("unit", "short")
    if not series:
        fig.text(l + w / 2, b + h * 0.42, "No data", color=DIM, fontsize=13, ha="center", va="center")
        return
    series = series[:4]
    cw = w / len(series)
    for i, (name, ts, vs) in enumerate(series):
        finite = [(t, v) for t, v in zip(ts, vs) if math.isfinite(v)]
        last = finite[-1][1] if finite else float("nan")
        text, color = mapped(last, defaults.get("mappings")) if finite else (None, None)
        if text is None:
            text = fmt_value(last, unit, defaults.get("decimals"))
            color = threshold_color(last, defaults.get("thresholds")) if finite else DIM
        cl = l + i * cw
        if panel.get("options", {}).get("graphMode") == "area" and len(finite) > 1:
            ax = fig.add_axes([cl + 2 / W, b + 2 / H, cw - 4 / W, h * 0.32])
            ax.axis("off")
            ax.set_facecolor("none")
            xs, ys = zip(*finite)
            ax.fill_between(xs, ys, min(ys), color=color, alpha=0.18, linewidth=0)
            ax.plot(xs, ys, color=color, linewidth=1, alpha=0.7)
        size = 20 if len(series) == 1 else 13
        fig.text(cl + cw / 2, b + h * 0.42, text, color=color, fontsize=size, fontweight="bold",
                 ha="center", va="center")
        if len(series) > 1:
            fig.text(cl + cw / 2, b + h * 0.42 - 16 / H, name, color=DIM, fontsize=7, ha="center", va="top")


def render(base, dashboard, values, seconds, step, rate_interval, out):
    end = time.time()
    start = end - seconds
    intervals = {"__rate_interval": rate_interval, "__interval": f"{step}s", "__range": f"{seconds}s"}
    boxes = list(dash.panels(dashboard))
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in boxes)
    height_px = 60 + rows * ROW_PX + 12
    fig = plt.figure(figsize=(1600 / 100, height_px / 100), dpi=100, facecolor=PAGE)
    shown_vars = "   ".join(f"{k}: {'All' if v == '.*' else v}" for k, v in values.items())
    fig.text(12 / 1600, 1 - 14 / height_px, dashboard.get("title", ""), color=TEXT, fontsize=14,
             fontweight="bold", va="top")
    window = (f"{datetime.datetime.fromtimestamp(start):%Y-%m-%d %H:%M} to "
              f"{datetime.datetime.fromtimestamp(end):%H:%M}")
    fig.text(12 / 1600, 1 - 40 / height_px, f"{shown_vars}      {window}      "
             f"(rendered from Prometheus by monitoring/grafana/render_dashboard.py)",
             color=DIM, fontsize=8.5, va="top")
    for p in boxes:
        box = panel_box(fig, p["gridPos"])
        if p.get("type") == "row":
            fig.text(box[0], box[1] + box[3] / 2, p.get("title", ""), color=TEXT, fontsize=11,
                     fontweight="bold", va="center")
            continue
        draw_frame(fig, box, p.get("title", ""))
        series = []
        for t in p.get("targets", []):
            expr = dash.substitute(t["expr"], values, intervals)
            for labels, ts, vs in query_range(base, expr, start, end, step):
                series.append((legend(t.get("legendFormat", ""), labels), ts, vs))
        # Series without a finite point (a quantile of a histogram that had
        # no observations) would only crowd the legend.
        series = sorted((s for s in series if any(math.isfinite(v) for v in s[2])), key=lambda s: s[0])
        if p.get("type") == "stat":
            draw_stat(fig, box, p, series)
        else:
            draw_timeseries(fig, box, p, series, start, end)
    fig.savefig(out, dpi=100, facecolor=PAGE, pil_kwargs={"optimize": True})
    return os.path.getsize(out)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prometheus", required=True, help="e.g. http://127.0.0.1:9090")
    ap.add_argument("--dashboard", required=True, help="a dashboard JSON file")
    ap.add_argument("--out", required=True, help="the PNG to write")
    ap.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                    help="a template variable's value (default: All)")
    ap.add_argument("--range", type=parse_duration, default=parse_duration("15m"), help="e.g. 15m")
    ap.add_argument("--step", type=int, default=0, help="seconds between points (default: range/240)")
    ap.add_argument("--rate-interval", default="30s", help="what $__rate_interval stands for")
    a = ap.parse_args(argv)
    with open(a.dashboard, encoding="utf-8") as f:
        dashboard = json.load(f)
    values = dash.default_values(dashboard, dict(kv.split("=", 1) for kv in a.var))
    step = a.step or max(1, a.range // 240)
    size = render(a.prometheus, dashboard, values, a.range, step, a.rate_interval, a.out)
    print(f"{a.out}: {size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
