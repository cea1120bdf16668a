"""Jinja2 templates of the dashboard (autoescaped) and the filters they format with."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from chargegrid import __version__

# Connector and charger statuses of both OCPP versions, by the colour they are shown in.
_TONES = {
    "Available": "ok",
    "Preparing": "busy",
    "Charging": "busy",
    "Occupied": "busy",
    "SuspendedEV": "busy",
    "SuspendedEVSE": "busy",
    "Finishing": "busy",
    "Reserved": "info",
    "Unavailable": "muted",
    "Faulted": "bad",
    "accepted": "ok",
    "rejected": "bad",
    "failed": "bad",
    "timeout": "bad",
    "expired": "muted",
    "queued": "info",
    "sent": "info",
    "Accepted": "ok",
    "Blocked": "bad",
    "Expired": "muted",
    "Invalid": "bad",
    "active": "busy",
    "completed": "ok",
    "pending": "info",
    "delivered": "ok",
}


def tone(status: str | None) -> str:
    """The colour class of a status (ok, busy, info, muted, bad)."""
    return _TONES.get(status or "", "muted")


def dom_id(*parts: object) -> str:
    """An element id made of ``parts``, safe whatever characters a charger id holds."""
    text = "-".join(str(part) for part in parts)
    return re.sub(r"[^A-Za-z0-9-]", lambda m: f"_{ord(m.group()):x}_", text)


def timestamp(value: datetime | None) -> str:
    """A UTC time as operators read it: 2025-01-31 14:05:09 UTC."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def when(value: datetime | None, now: datetime) -> str:
    """A UTC time, short: the time of day for today, else the date too."""
    if value is None:
        return "never"
    value = value.astimezone(UTC)
    if value.date() == now.astimezone(UTC).date():
        return value.strftime("%H:%M:%S")
    return value.strftime("%Y-%m-%d %H:%M")


def ago(value: datetime | None, now: datetime) -> str:
    """How long before ``now``: 'just now', '5 s ago', '3 min ago', '2 h ago', '4 d ago'."""
    if value is None:
        return "never"
    seconds = int((now - value).total_seconds())
    if seconds < 2:
        return "just now"
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def duration(start: datetime | None, end: datetime | None) -> str:
    """How long from ``start`` to ``end``: '42 s', '7 min 05 s', '2 h 05 min', '3 d 4 h'."""
    if start is None or end is None:
        return "—"
    seconds = max(0, int((end - start).total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


def kwh(wh: float | None) -> str:
    """Energy in kWh with a sensible precision (Wh below 1 kWh, but not for none)."""
    if wh is None:
        return "—"
    if 0 < abs(wh) < 1000:
        return f"{wh:,.0f} Wh"
    value = wh / 1000
    return f"{value:,.1f} kWh" if abs(value) >= 100 else f"{value:,.2f} kWh"


def money(amount: Decimal | int | None, currency: str | None = None) -> str:
    """An amount with two decimals (rounded half up, as on a receipt) and its currency."""
    if amount is None:
        return "—"
    rounded = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{rounded:,.2f} {currency}" if currency else f"{rounded:,.2f}"


def pretty_json(text: str | None) -> str:
    """A JSON document indented for reading (as given when it is not JSON)."""
    if not text:
        return ""
    try:  # formatted as text: numbers keep every digit
        return msgspec.json.format(text, indent=2)
    except msgspec.DecodeError:
        return text


def options(values: Iterable[str]) -> list[tuple[str, str]]:
    """Select options whose value is their text."""
    return [(value, value) for value in values]


def json_script(value: Any) -> Markup:
    """``value`` as JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, separators=(",", ":"), default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("chargegrid.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        tone=tone,
        timestamp=timestamp,
        kwh=kwh,
        money=money,
        pretty_json=pretty_json,
        json_script=json_script,
        options=options,
    )
    env.globals.update(dom_id=dom_id, version=__version__, ago=ago, when=when, duration=duration)
    return env


TEMPLATES = environment()


def render(template: str, /, **context: Any) -> str:
    """The named template rendered with ``context``."""
    return TEMPLATES.get_template(template).render(**context)
