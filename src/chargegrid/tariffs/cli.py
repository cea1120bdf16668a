"""``chargegrid tariffs price``: price a session's charging periods with an OCPI tariff.

It needs no settings and no database: two JSON files and a time zone in, the CDR price
fields out on standard output. Unreadable or invalid input exits with status 2 and one
line on standard error naming the file and the field.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec

from chargegrid.tariffs.cdr import PricedSession, parse_timeline
from chargegrid.tariffs.errors import OcpiDataError
from chargegrid.tariffs.model import encode_json, parse_tariff
from chargegrid.tariffs.pricing import load_time_zone, price_session

__all__ = ["PriceFailure", "add_parser", "price_files", "run"]

_PROG = "chargegrid tariffs price"


class PriceFailure(Exception):
    """Input that cannot be priced; the message says which file or option, and why."""


def add_parser(subparsers: Any) -> None:
    """Add the ``tariffs`` command to the ``chargegrid`` command line."""
    tariffs: argparse.ArgumentParser = subparsers.add_parser(
        "tariffs", help="OCPI 2.2.1 tariffs (no settings, no database)"
    )
    commands = tariffs.add_subparsers(dest="tariffs_command", required=True)
    price: argparse.ArgumentParser = commands.add_parser(
        "price",
        help="price a session with a tariff and print the CDR price fields as JSON",
        description="Price the charging periods of a CDR (or Session) with an OCPI tariff.",
    )
    price.add_argument("--tariff", type=Path, required=True, help="OCPI 2.2.1 Tariff JSON")
    price.add_argument(
        "--cdr",
        type=Path,
        required=True,
        help="JSON with start_date_time, end_date_time and charging_periods (a CDR will do)",
    )
    price.add_argument(
        "--time-zone", required=True, help="IANA time zone of the location, e.g. Europe/Brussels"
    )
    price.add_argument(
        "--breakdown", action="store_true", help="add what each charging period cost"
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise PriceFailure(f"cannot read {path}: {error.strerror or error}") from None


def price_files(tariff: Path, cdr: Path, time_zone: str) -> PricedSession:
    """The priced session of the files; a `PriceFailure` for bad files or zone."""
    tariff_text, cdr_text = _read(tariff), _read(cdr)
    try:
        zone = load_time_zone(time_zone)
    except OcpiDataError as error:
        raise PriceFailure(f"--time-zone: {error.reason}") from None
    try:
        parsed = parse_tariff(tariff_text)
    except OcpiDataError as error:
        raise PriceFailure(f"{tariff}: {error}") from None
    try:
        timeline = parse_timeline(cdr_text)
    except OcpiDataError as error:
        raise PriceFailure(f"{cdr}: {error}") from None
    try:
        return price_session(parsed, zone, timeline)
    except OcpiDataError as error:
        raise PriceFailure(f"{tariff}: {error}") from None


def run(args: argparse.Namespace) -> int:
    """Run ``chargegrid tariffs price``: 0 when priced, 2 for bad input."""
    try:
        priced = price_files(args.tariff, args.cdr, args.time_zone)
    except PriceFailure as failure:
        print(f"{_PROG}: {failure}", file=sys.stderr)
        return 2
    output = priced if args.breakdown else priced.cdr_fields()
    sys.stdout.write(msgspec.json.format(encode_json(output), indent=2).decode() + "\n")
    return 0
