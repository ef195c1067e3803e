"""Charts drawn on the server as inline SVG: no script, readable by screen readers, printable.

Each function returns ``Markup``: a ``<figure>`` with the SVG (``role="img"`` and a ``<title>``)
and the same figures as a table in a ``<details>``, for those who would rather read than look.
Values are numbers or ``Decimal``; money is labelled in ``money_currency`` with the user's locale.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from core.i18n import gettext as _, money, number

WIDTH, HEIGHT = 640, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 72, 12, 12, 44
PALETTE = ("#0172ad", "#d93526", "#398712", "#c0790b", "#7540bf", "#017fc0", "#9b2c70", "#5d6b89")

Series = Sequence[tuple[str, Sequence]]


def _label(value, money_currency: str | None) -> str:
    return money(value, money_currency) if money_currency else number(value)


def _nice_ceiling(value: float) -> float:
    """The round number at or above ``value`` that the axis ends on (1, 2, 2.5 or 5 × 10ⁿ)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _bounds(values: list[float]) -> tuple[float, float]:
    high = max([0.0, *values])
    low = min([0.0, *values])
    top = _nice_ceiling(high) if high > 0 else 0.0
    bottom = -_nice_ceiling(-low) if low < 0 else 0.0
    if top == bottom:
        top = 1.0
    return bottom, top


def _table(labels: Sequence[str], series: Series, money_currency: str | None) -> str:
    head = "".join(f"<th scope=\"col\">{escape(name)}</th>" for name, _values in series)
    body = []
    for index, label in enumerate(labels):
        cells = "".join(f"<td>{escape(_label(values[index], money_currency))}</td>" for _name, values in series)
        body.append(f"<tr><th scope=\"row\">{escape(label)}</th>{cells}</tr>")
    summary = _("Show the figures")
    return (f"<details class=\"chart-data\"><summary>{escape(summary)}</summary>"
            f"<table><thead><tr><td></td>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></details>")


def _legend(series: Series) -> str:
    if len(series) < 2:
        return ""
    items = "".join(
        f"<li><span class=\"chart-swatch\" style=\"background:{PALETTE[i % len(PALETTE)]}\"></span>{escape(name)}</li>"
        for i, (name, _values) in enumerate(series)
    )
    return f"<ul class=\"chart-legend\">{items}</ul>"


def _axes(bottom: float, top: float, money_currency: str | None) -> tuple[list[str], callable]:
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    def y(value: float) -> float:
        return MARGIN_TOP + plot_height * (top - value) / (top - bottom)

    parts = []
    for i in range(5):
        value = bottom + (top - bottom) * i / 4
        ypos = y(value)
        parts.append(f"<line x1=\"{MARGIN_LEFT}\" x2=\"{WIDTH - MARGIN_RIGHT}\" y1=\"{ypos:.1f}\" y2=\"{ypos:.1f}\" "
                     f"class=\"chart-grid\"/>")
        tick = _label(Decimal(str(value)).normalize() if value else 0, None)
        parts.append(f"<text x=\"{MARGIN_LEFT - 6}\" y=\"{ypos + 4:.1f}\" text-anchor=\"end\" "
                     f"class=\"chart-tick\">{escape(tick)}</text>")
    return parts, y


def _figure(title: str, svg_body: list[str], labels, series, money_currency, size=(WIDTH, HEIGHT)) -> Markup:
    unit = f" ({escape(money_currency)})" if money_currency else ""
    svg = (f"<svg viewBox=\"0 0 {size[0]} {size[1]}\" role=\"img\" "
           f"class=\"chart\" preserveAspectRatio=\"xMidYMid meet\"><title>{escape(title)}{unit}</title>"
           f"{''.join(svg_body)}</svg>")
    return Markup(f"<figure class=\"chart-figure\">{svg}{_legend(series)}"
                  f"{_table(labels, series, money_currency)}</figure>")


def _x_labels(labels: Sequence[str], slot: float) -> list[str]:
    every = max(1, len(labels) // 12)
    out = []
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = MARGIN_LEFT + slot * (i + 0.5)
        out.append(f"<text x=\"{x:.1f}\" y=\"{HEIGHT - MARGIN_BOTTOM + 16}\" text-anchor=\"middle\" "
                   f"class=\"chart-tick\">{escape(label)}</text>")
    return out


def bar_chart(labels: Sequence[str], series: Series, *, title: str, money_currency: str | None = None,
              stacked: bool = False) -> Markup:
    """Vertical bars: one group per label, one bar per series (or stacked when ``stacked``)."""
    labels = [str(label) for label in labels]
    floats = [[float(v or 0) for v in values] for _name, values in series]
    if stacked and floats:
        totals = [sum(col) for col in zip(*floats)] or [0.0]
        bottom, top = _bounds(totals + [min([0.0, *sum(floats, [])])])
    else:
        bottom, top = _bounds(sum(floats, []))
    body, y = _axes(bottom, top, money_currency)
    slot = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(1, len(labels))
    bars_in_slot = 1 if stacked else max(1, len(series))
    bar_width = slot * 0.8 / bars_in_slot
    for i in range(len(labels)):
        base = 0.0
        for s, (name, _values) in enumerate(series):
            value = floats[s][i]
            start = base if stacked else 0.0
            end = start + value
            x = MARGIN_LEFT + slot * i + slot * 0.1 + (0 if stacked else s * bar_width)
            y1, y2 = sorted((y(start), y(end)))
            label = f"{name}, {labels[i]}: {_label(series[s][1][i] or 0, money_currency)}"
            body.append(f"<rect x=\"{x:.1f}\" y=\"{y1:.1f}\" width=\"{bar_width:.1f}\" height=\"{max(y2 - y1, 0):.1f}\" "
                        f"fill=\"{PALETTE[s % len(PALETTE)]}\"><title>{escape(label)}</title></rect>")
            if stacked:
                base = end
    body.append(f"<line x1=\"{MARGIN_LEFT}\" x2=\"{WIDTH - MARGIN_RIGHT}\" y1=\"{y(0):.1f}\" y2=\"{y(0):.1f}\" "
                f"class=\"chart-axis\"/>")
    body += _x_labels(labels, slot)
    return _figure(title, body, labels, series, money_currency)


def line_chart(labels: Sequence[str], series: Series, *, title: str, money_currency: str | None = None) -> Markup:
    """Lines over the labels (months, days), one per series, with a dot at each value."""
    labels = [str(label) for label in labels]
    floats = [[float(v or 0) for v in values] for _name, values in series]
    bottom, top = _bounds(sum(floats, []))
    body, y = _axes(bottom, top, money_currency)
    slot = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(1, len(labels))
    for s, (name, values) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        points = [(MARGIN_LEFT + slot * (i + 0.5), y(v)) for i, v in enumerate(floats[s])]
        if points:
            path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in points)
            body.append(f"<polyline points=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>")
        for i, (x, yy) in enumerate(points):
            label = f"{name}, {labels[i]}: {_label(values[i] or 0, money_currency)}"
            body.append(f"<circle cx=\"{x:.1f}\" cy=\"{yy:.1f}\" r=\"3\" fill=\"{colour}\"><title>{escape(label)}"
                        f"</title></circle>")
    body.append(f"<line x1=\"{MARGIN_LEFT}\" x2=\"{WIDTH - MARGIN_RIGHT}\" y1=\"{y(0):.1f}\" y2=\"{y(0):.1f}\" "
                f"class=\"chart-axis\"/>")
    body += _x_labels(labels, slot)
    return _figure(title, body, labels, series, money_currency)


def funnel_chart(steps: Sequence[tuple[str, object]], *, title: str, money_currency: str | None = None) -> Markup:
    """A funnel: one centred bar per step, its width proportional to the step's value.

    Drawn small (it usually sits in a dashboard widget), so its text stays legible when scaled.
    """
    labels = [str(label) for label, _value in steps]
    values = [float(value or 0) for _label_, value in steps]
    widest = max([0.0, *values]) or 1.0
    width, row, label_width, value_width = 340, 28, 100, 60
    height = row * max(1, len(steps)) + 8
    usable = width - label_width - value_width
    body = []
    for i, (label, value) in enumerate(steps):
        bar = max(usable * float(value or 0) / widest, 2)
        x = label_width + (usable - bar) / 2
        ytop = 4 + row * i
        text = f"{label}: {_label(value or 0, money_currency)}"
        body.append(f"<rect x=\"{x:.1f}\" y=\"{ytop + 2:.1f}\" width=\"{bar:.1f}\" height=\"{row - 4:.1f}\" "
                    f"fill=\"{PALETTE[i % len(PALETTE)]}\"><title>{escape(text)}</title></rect>")
        body.append(f"<text x=\"{label_width - 6}\" y=\"{ytop + row / 2 + 4:.1f}\" text-anchor=\"end\" "
                    f"class=\"chart-tick\">{escape(label)}</text>")
        body.append(f"<text x=\"{width - 4}\" y=\"{ytop + row / 2 + 4:.1f}\" text-anchor=\"end\" "
                    f"class=\"chart-tick\">{escape(_label(value or 0, money_currency))}</text>")
    series = [(title, [value for _label_, value in steps])]
    return _figure(title, body, labels, series, money_currency, size=(width, height))
