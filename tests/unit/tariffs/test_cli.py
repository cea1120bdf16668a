"""``chargegrid tariffs price``: prices files without settings or a database; bad input exits 2."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chargegrid.cli import main
from tests.unit.tariffs.sessions import EXAMPLES

CDR = EXAMPLES / "cdr_example.json"
CHARGEGRID = Path(sys.executable).with_name("chargegrid")


@pytest.fixture
def cdr_tariff(tmp_path: Path) -> Path:
    """The tariff inside the spec's CDR example, as a file of its own."""
    path = tmp_path / "tariff_12.json"
    path.write_text(json.dumps(json.loads(CDR.read_text())["tariffs"][0]))
    return path


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings that would fail to load: the command must not read them."""
    monkeypatch.setenv("CHARGEGRID_DATABASE_URL", "not-a-database-url://")
    monkeypatch.setenv("CHARGEGRID_HTTP_PORT", "not-a-port")


def price(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, Any, str]:
    code = main(["tariffs", "price", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, json.loads(out, parse_float=Decimal) if out else None, err


@pytest.mark.usefixtures("no_settings")
def test_prices_the_cdr_example(capsys: pytest.CaptureFixture[str], cdr_tariff: Path) -> None:
    code, out, err = price(
        capsys, "--tariff", cdr_tariff, "--cdr", CDR, "--time-zone", "Europe/Brussels"
    )
    assert (code, err) == (0, "")
    assert out == {
        "currency": "EUR",
        "total_cost": {"excl_vat": Decimal("4.0000"), "incl_vat": Decimal("4.4000")},
        "total_energy": Decimal("0.0000"),
        "total_time": Decimal("1.9731"),
        "total_time_cost": {"excl_vat": Decimal("4.0000"), "incl_vat": Decimal("4.4000")},
        "total_parking_time": Decimal("0.0000"),
        "charging_periods": [
            {
                "start_date_time": "2015-06-29T21:39:09Z",
                "dimensions": [{"type": "TIME", "volume": Decimal("1.973")}],
                "tariff_id": "12",
            }
        ],
    }


def test_the_breakdown_shows_the_billed_components(
    capsys: pytest.CaptureFixture[str], cdr_tariff: Path
) -> None:
    code, out, _ = price(
        capsys, "--tariff", cdr_tariff, "--cdr", CDR, "--time-zone", "UTC", "--breakdown"
    )
    assert code == 0
    (period,) = out["breakdown"]
    assert period["end_date_time"] == "2015-06-29T23:37:32Z"
    assert period["components"] == [
        {
            "element": 0,
            "type": "TIME",
            "price": Decimal("2.00"),
            "vat": Decimal("10.0"),
            "step_size": 300,
            "volume": Decimal("2.0000"),  # 1.973 h billed per 5 minutes
            "cost": {"excl_vat": Decimal("4.0000"), "incl_vat": Decimal("4.4000")},
        }
    ]


def test_bad_input_exits_2_with_one_line_naming_the_problem(
    capsys: pytest.CaptureFixture[str], cdr_tariff: Path, tmp_path: Path
) -> None:
    bad_tariff = tmp_path / "bad.json"
    bad_tariff.write_text(cdr_tariff.read_text().replace('"step_size": 300', '"step_size": -5'))
    not_json = tmp_path / "not.json"
    not_json.write_text("{")
    missing = tmp_path / "missing.json"
    later = tmp_path / "later.json"
    starts_later = {**json.loads(cdr_tariff.read_text()), "start_date_time": "2020-01-01T00:00:00Z"}
    later.write_text(json.dumps(starts_later))
    cases = [
        ((missing, CDR, "UTC"), f"cannot read {missing}: No such file or directory"),
        ((cdr_tariff, CDR, "Mars/Olympus"), "--time-zone: 'Mars/Olympus' is not an IANA"),
        ((cdr_tariff, CDR, "../../etc/passwd"), "--time-zone: '../../etc/passwd' is not"),
        (
            (bad_tariff, CDR, "UTC"),
            f"{bad_tariff}: elements[0].price_components[0].step_size: Expected `int` >= 0",
        ),
        ((not_json, CDR, "UTC"), f"{not_json}: not valid JSON"),
        ((cdr_tariff, cdr_tariff, "UTC"), f"{cdr_tariff}: start_date_time: is required"),
        (
            (later, CDR, "UTC"),
            f"{later}: start_date_time: tariff 12 applies from 2020-01-01T00:00:00Z, after the "
            "session started at 2015-06-29T21:39:09Z",
        ),
    ]
    for (tariff, cdr, zone), message in cases:
        code, out, err = price(capsys, "--tariff", tariff, "--cdr", cdr, "--time-zone", zone)
        assert (code, out) == (2, None)
        assert err.startswith(f"chargegrid tariffs price: {message}"), err
        assert err.count("\n") == 1
        assert "Traceback" not in err


def test_missing_options_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["tariffs", "price", "--tariff", "t.json"])
    assert exited.value.code == 2
    assert "the following arguments are required: --cdr, --time-zone" in capsys.readouterr().err


def test_the_installed_command(cdr_tariff: Path) -> None:
    done = subprocess.run(
        [
            CHARGEGRID,
            "tariffs",
            "price",
            "--tariff",
            cdr_tariff,
            "--cdr",
            CDR,
            "--time-zone",
            "Europe/Brussels",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "CHARGEGRID_DATABASE_URL": "not-a-database-url://"},
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout, parse_float=Decimal)["total_cost"] == {
        "excl_vat": Decimal("4.0000"),
        "incl_vat": Decimal("4.4000"),
    }
    failed = subprocess.run(
        [CHARGEGRID, "tariffs", "price", "--tariff", cdr_tariff, "--cdr", CDR, "--time-zone", "X"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert failed.returncode == 2
    assert failed.stderr == "chargegrid tariffs price: --time-zone: 'X' is not an IANA time zone\n"
