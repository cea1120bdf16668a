"""The CA directory: what ``pki init`` writes, keeps and refuses to overwrite."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from chargegrid.pki.certificates import describe, issued_by, load_certificate
from chargegrid.pki.files import InitResult, PkiError, PkiLayout, init_pki, read_authority

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def init(
    directory: Path, host: str = "csms.example.com", *, now: datetime = NOW, force: bool = False
) -> InitResult:
    return init_pki(
        directory, host=host, organization="Acme", now=now, server_days=365, force=force
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_init_creates_a_ca_and_two_server_certificates(tmp_path: Path) -> None:
    directory = tmp_path / "pki"
    result = init(directory)
    layout = PkiLayout(directory)
    assert sorted(snapshot(directory)) == [
        "ca.key",
        "ca.pem",
        "server-ecdsa.key",
        "server-ecdsa.pem",
        "server.key",
        "server.pem",
    ]
    for key in (layout.ca_key, layout.server_key, layout.server_ecdsa_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    authority = read_authority(directory)
    assert authority is not None
    rsa_server = load_certificate(layout.server_certificate.read_bytes())
    ec_server = load_certificate(layout.server_ecdsa_certificate.read_bytes())
    assert isinstance(rsa_server.public_key(), rsa.RSAPublicKey)
    assert isinstance(ec_server.public_key(), ec.EllipticCurvePublicKey)
    for certificate in (rsa_server, ec_server):
        assert issued_by(certificate, authority.certificate)
        assert describe(certificate).common_name == "csms.example.com"
        assert describe(certificate).organization == "Acme"
    assert result == InitResult(layout, created_authority=True, created_server_certificates=True)


def test_init_again_changes_nothing(tmp_path: Path) -> None:
    init(tmp_path)
    before = snapshot(tmp_path)
    result = init(tmp_path)
    assert snapshot(tmp_path) == before
    assert not result.created_authority
    assert not result.created_server_certificates


def test_another_host_needs_force_and_keeps_the_ca(tmp_path: Path) -> None:
    init(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(PkiError, match=r"server.pem is for 'csms.example.com', not 'other'"):
        init(tmp_path, "other")
    assert snapshot(tmp_path) == before
    init(tmp_path, "other", force=True)
    after = snapshot(tmp_path)
    assert after["ca.pem"] == before["ca.pem"]
    assert after["ca.key"] == before["ca.key"]
    assert after["server.pem"] != before["server.pem"]
    assert describe(load_certificate(after["server-ecdsa.pem"])).common_name == "other"


def test_expired_server_certificates_need_force(tmp_path: Path) -> None:
    init(tmp_path)
    with pytest.raises(PkiError, match="expired"):
        init(tmp_path, now=NOW + timedelta(days=400))


def test_missing_server_files_are_made_without_force(tmp_path: Path) -> None:
    init(tmp_path)
    ca = snapshot(tmp_path)["ca.pem"]
    for name in ("server.pem", "server.key", "server-ecdsa.pem", "server-ecdsa.key"):
        (tmp_path / name).unlink()
    result = init(tmp_path)
    assert result.created_server_certificates
    assert snapshot(tmp_path)["ca.pem"] == ca


def test_half_a_ca_is_refused(tmp_path: Path) -> None:
    init(tmp_path)
    (tmp_path / "ca.key").unlink()
    with pytest.raises(PkiError, match="only half a CA"):
        read_authority(tmp_path)
    with pytest.raises(PkiError, match="only half a CA"):
        init(tmp_path)


def test_a_ca_key_that_does_not_match_is_refused(tmp_path: Path) -> None:
    init(tmp_path)
    (tmp_path / "ca.key").write_bytes((tmp_path / "server-ecdsa.key").read_bytes())
    with pytest.raises(PkiError, match="is not the key of"):
        read_authority(tmp_path)


def test_an_empty_directory_has_no_authority(tmp_path: Path) -> None:
    assert read_authority(tmp_path) is None
    assert read_authority(tmp_path / "absent") is None


def test_the_settings_point_at_the_files(tmp_path: Path) -> None:
    layout = PkiLayout(tmp_path)
    settings = layout.settings()
    assert settings["CHARGEGRID_TLS_CERT"] == str(tmp_path.resolve() / "server.pem")
    assert settings["CHARGEGRID_TLS_ALT_KEY"] == str(tmp_path.resolve() / "server-ecdsa.key")
    assert settings["CHARGEGRID_TLS_CLIENT_CA"] == str(tmp_path.resolve() / "ca.pem")
    assert settings["CHARGEGRID_PKI_DIR"] == str(tmp_path.resolve())
