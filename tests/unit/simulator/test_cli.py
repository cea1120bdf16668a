"""``chargegrid sim``: its arguments become the fleet's configuration."""

from __future__ import annotations

import pytest

from chargegrid.cli import _parser
from chargegrid.simulator.backoff import BackOff
from chargegrid.simulator.cli import config_of
from chargegrid.simulator.fleet import Fleet


def test_the_arguments_of_the_issue() -> None:
    args = _parser().parse_args(
        [
            "sim",
            "--url",
            "wss://csms.example:9443/ocpp",
            "--count",
            "3",
            "--version",
            "mix",
            "--id-prefix",
            "LOAD",
            "--password",
            "a-password-of-16+",
            "--tls-ca",
            "ca.pem",
            "--cert",
            "certs/{id}.pem",
            "--key",
            "certs/{id}.key",
            "--meter-interval",
            "15",
            "--session-rate",
            "2.5",
            "--session-minutes",
            "5-30",
            "--id-tokens",
            "A, TAG-{8-10}x,C",
            "--evses",
            "2",
            "--backoff",
            "1",
            "2",
            "3",
        ]
    )
    config = config_of(args)
    assert (config.url, config.count, config.version) == ("wss://csms.example:9443/ocpp", 3, "mix")
    assert (config.tls_ca, config.cert, config.key) == (
        "ca.pem",
        "certs/{id}.pem",
        "certs/{id}.key",
    )
    assert config.meter_interval == 15.0
    assert config.session_rate == 2.5
    assert config.session_duration == (300.0, 1800.0)
    assert config.id_tokens == ("A", "TAG-8x", "TAG-9x", "TAG-10x", "C")
    assert config.evses == (2, 2)
    assert config.backoff == BackOff(1.0, 2.0, 3)
    fleet = Fleet(config)
    assert fleet.charger_ids == ["LOAD-00001", "LOAD-00002", "LOAD-00003"]
    assert [c.core.version.value for c in fleet] == ["1.6", "2.0.1", "1.6"]
    assert all(len(c.core.station.evses) == 2 for c in fleet)


def test_the_default_tokens() -> None:
    args = _parser().parse_args(["sim", "--url", "ws://x/ocpp"])
    assert config_of(args).id_tokens == ("SIM-TOKEN-1", "SIM-TOKEN-2", "SIM-TOKEN-3")


@pytest.mark.parametrize(
    "bad",
    ["--version=1.5", "--session-minutes=9-3", "--evses=x", "--id-tokens=T{5-1}", "--id-tokens=,"],
)
def test_bad_arguments_are_refused(bad: str) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["sim", "--url", "ws://x/ocpp", bad])
