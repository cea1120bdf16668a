"""Security profiles 1-3 over a real wss listener with real certificates."""

from __future__ import annotations

import asyncio
import socket
import ssl
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from websockets.exceptions import InvalidStatus

from tests.certs import Issuer
from tests.integration.harness import metric_value, query, scrape_metrics
from tests.integration.ocpp201 import boot as boot201
from tests.integration.tls import ORGANIZATION, PASSWORD, TlsServer, tls_server

REFUSALS = "chargegrid_refused_connections_total"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    """One SQLite server for the module: each test uses its own charger ids."""
    directory = tmp_path_factory.mktemp("tls")
    with tls_server(
        f"sqlite:///{directory / 'chargegrid.db'}",
        directory,
        CHARGEGRID_TLS_CLIENT_ORGANIZATION=ORGANIZATION,
        CHARGEGRID_AUTO_REGISTER="true",
        CHARGEGRID_AUTH_FAILURE_LIMIT="1000",
    ) as server:
        yield server


async def register(tls: TlsServer, charger_id: str, profile: int, password: str | None) -> None:
    await tls.process.register_charger(charger_id, password, security_profile=profile)  # type: ignore[arg-type]


async def refusals(tls: TlsServer, reason: str) -> float:
    return metric_value(await scrape_metrics(tls.process), REFUSALS, reason=reason) or 0.0


async def boot16(charger: ChargePoint16) -> str:
    response = await charger.call(
        call.BootNotification(charge_point_model="M1", charge_point_vendor="Acme")
    )
    return str(response.status)


def body(response: object) -> str:
    return bytes(getattr(response, "body", b"") or b"").decode()


async def handshake_error(tls: TlsServer, charger_id: str, context: ssl.SSLContext) -> str:
    """The failure of a connection the TLS layer refuses, as text (with its causes)."""
    with pytest.raises(Exception) as caught:  # noqa: PT011 - which one depends on TLS 1.2/1.3
        async with tls.connect(charger_id, context=context):
            pass
    assert not isinstance(caught.value, InvalidStatus), "refused by HTTP, not by TLS"
    messages = []
    error: BaseException | None = caught.value
    while error is not None:
        messages.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or error.__context__
    return " <- ".join(messages)


async def test_profile_2_charger_with_basic_auth_over_wss_is_accepted(tls: TlsServer) -> None:
    await register(tls, "P2-OK", 2, PASSWORD)
    async with tls.charger(ChargePoint16, "P2-OK", password=PASSWORD) as charger:
        assert await boot16(charger) == "Accepted"
        async with tls.process.api() as api:
            view = (await api.get("/chargers/P2-OK")).json()
        assert view["connected"] is True


async def test_profile_2_charger_is_refused_over_plain_ws(tls: TlsServer) -> None:
    await register(tls, "P2-WS", 2, PASSWORD)
    before = await refusals(tls, "insecure_transport")
    with pytest.raises(InvalidStatus) as caught:
        async with tls.process.websocket("P2-WS", PASSWORD):
            pass
    assert caught.value.response.status_code == 403
    assert "security profile 2: connect over TLS" in body(caught.value.response)
    assert await refusals(tls, "insecure_transport") == before + 1
    assert "refused charger P2-WS from 127.0.0.1" in tls.process.log()


async def test_profile_2_charger_needs_its_password_over_wss(tls: TlsServer) -> None:
    await register(tls, "P2-PW", 2, PASSWORD)
    before = await refusals(tls, "wrong_password")
    response = await tls.refused("P2-PW", password="wrong-password-000000")
    assert response.status_code == 401
    assert await refusals(tls, "wrong_password") == before + 1
    assert (await tls.refused("P2-PW")).status_code == 401


async def test_profile_3_charger_with_a_good_certificate_needs_no_password(
    tls: TlsServer,
) -> None:
    await register(tls, "P3-OK", 3, None)
    pair = tls.write("p3-ok", tls.issuer().issue("P3-OK", organization=ORGANIZATION))
    async with tls.charger(ChargePoint201, "P3-OK", certificate=pair) as charger:
        response = await charger.call(boot201())
        assert response.status == "Accepted"
        async with tls.process.api() as api:
            view = (await api.get("/chargers/P3-OK")).json()
        assert view["connected"] is True
        assert view["ocpp_version"] == "2.0.1"
    async with tls.charger(ChargePoint16, "P3-OK", certificate=pair) as charger:
        assert await boot16(charger) == "Accepted"


async def test_profile_3_refuses_a_certificate_of_another_charger(tls: TlsServer) -> None:
    await register(tls, "P3-CN", 3, None)
    await register(tls, "P1-CN", 1, PASSWORD)
    pair = tls.write("p3-other", tls.issuer().issue("SOMEONE-ELSE", organization=ORGANIZATION))
    before = await refusals(tls, "certificate_mismatch")
    response = await tls.refused("P3-CN", certificate=pair)
    assert response.status_code == 403
    assert "client certificate CN 'SOMEONE-ELSE' is not the charger id" in body(response)
    # A certificate, when presented, must be the charger's even where a password would do.
    response = await tls.refused("P1-CN", certificate=pair, password=PASSWORD)
    assert response.status_code == 403
    assert await refusals(tls, "certificate_mismatch") == before + 2
    assert "[certificate_mismatch]" in tls.process.log()


async def test_profile_3_refuses_a_certificate_of_another_organization(tls: TlsServer) -> None:
    await register(tls, "P3-ORG", 3, None)
    pair = tls.write("p3-org", tls.issuer().issue("P3-ORG", organization="Other CPO"))
    response = await tls.refused("P3-ORG", certificate=pair)
    assert response.status_code == 403
    assert "client certificate O 'Other CPO' is not 'Acme CPO'" in body(response)


async def test_profile_3_without_a_certificate_is_refused(tls: TlsServer) -> None:
    await register(tls, "P3-NONE", 3, None)
    before = await refusals(tls, "no_client_certificate")
    response = await tls.refused("P3-NONE")
    assert response.status_code == 403
    assert "security profile 3: present a client certificate" in body(response)
    # A password is no substitute (a profile 2 login is below profile 3).
    await register(tls, "P3-PW", 3, PASSWORD)
    response = await tls.refused("P3-PW", password=PASSWORD)
    assert response.status_code == 403
    assert await refusals(tls, "no_client_certificate") == before + 2
    # Nor is plain ws, certificate or not.
    with pytest.raises(InvalidStatus) as caught:
        async with tls.process.websocket("P3-PW", PASSWORD):
            pass
    assert caught.value.response.status_code == 403


TLS_VERSIONS = pytest.mark.parametrize(
    "version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls1.2", "tls1.3"]
)


async def tls_refusal(tls: TlsServer, reason: str, before: float, logged: str) -> None:
    """The server counted and logged the failed handshake (the client only sees it end:
    the TLS layer closes without flushing its alert)."""
    assert await refusals(tls, reason) == before + 1
    assert f"{logged} [{reason}]" in tls.process.log()


async def not_connected(tls: TlsServer, charger_id: str) -> None:
    async with tls.process.api() as api:
        view = (await api.get(f"/chargers/{charger_id}")).json()
    assert view["connected"] is False
    assert view["last_heartbeat"] is None


@TLS_VERSIONS
async def test_a_certificate_from_an_unknown_ca_fails_the_tls_handshake(
    tls: TlsServer, version: ssl.TLSVersion
) -> None:
    charger_id = f"P3-CA-{version.name}"
    await register(tls, charger_id, 3, None)
    stranger = Issuer.create("Stranger CA")
    pair = tls.write(charger_id, stranger.issue(charger_id, organization=ORGANIZATION))
    context = tls.client_context(pair)
    context.maximum_version = version
    before = await refusals(tls, "tls_unknown_ca")
    await handshake_error(tls, charger_id, context)
    await tls_refusal(
        tls, "tls_unknown_ca", before, "client certificate: unable to get local issuer certificate"
    )
    await not_connected(tls, charger_id)


@TLS_VERSIONS
async def test_an_expired_certificate_fails_the_tls_handshake(
    tls: TlsServer, version: ssl.TLSVersion
) -> None:
    charger_id = f"P3-OLD-{version.name}"
    await register(tls, charger_id, 3, None)
    now = datetime.now(UTC)
    expired = tls.issuer().issue(
        charger_id,
        organization=ORGANIZATION,
        not_before=now - timedelta(days=60),
        not_after=now - timedelta(days=1),
    )
    context = tls.client_context(tls.write(charger_id, expired))
    context.maximum_version = version
    before = await refusals(tls, "tls_certificate_expired")
    await handshake_error(tls, charger_id, context)
    await tls_refusal(
        tls, "tls_certificate_expired", before, "client certificate: certificate has expired"
    )
    await not_connected(tls, charger_id)


async def test_tls_11_is_refused(tls: TlsServer) -> None:
    """The client really offers TLS 1.1 (its own security level lowered to allow it)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(tls.ca)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1_1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    await register(tls, "P1-OLD-TLS", 1, PASSWORD)
    before = await refusals(tls, "tls_protocol_version")
    await handshake_error(tls, "P1-OLD-TLS", context)
    await tls_refusal(
        tls, "tls_protocol_version", before, "UNSUPPORTED_PROTOCOL (TLS 1.2 or newer is required)"
    )


async def test_a_default_tls_11_client_cannot_even_offer_it(tls: TlsServer) -> None:
    """OpenSSL's default security level here has no TLS 1.1 left to offer: the client
    fails before sending anything."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(tls.ca)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    error = await handshake_error(tls, "P1-OLD-TLS", context)
    assert "no protocols available" in error.lower()


async def test_a_profile_1_charger_may_use_wss_too(tls: TlsServer) -> None:
    await register(tls, "P1-WSS", 1, PASSWORD)
    async with tls.charger(ChargePoint16, "P1-WSS", password=PASSWORD) as charger:
        assert await boot16(charger) == "Accepted"
    async with tls.process.charger16("P1-WSS", PASSWORD) as charger:
        assert await boot16(charger) == "Accepted"


async def test_a_certificate_reaches_a_lower_profile_too(tls: TlsServer) -> None:
    """Profile 2 switching to 3 (2.0.1 A05): its CA-issued certificate already works."""
    await register(tls, "P2-UP", 2, PASSWORD)
    pair = tls.write("p2-up", tls.issuer().issue("P2-UP", organization=ORGANIZATION))
    async with tls.charger(ChargePoint16, "P2-UP", certificate=pair) as charger:
        assert await boot16(charger) == "Accepted"


@pytest.mark.parametrize(
    ("cipher", "key_type"),
    [("ECDHE-ECDSA-AES256-GCM-SHA384", "ecdsa"), ("AES128-GCM-SHA256", "rsa")],
)
async def test_both_server_certificates_are_served(
    tls: TlsServer, cipher: str, key_type: str
) -> None:
    """An ECDSA-only and an RSA-only TLS 1.2 client both get a suite OCPP requires."""
    await register(tls, f"P2-{key_type}", 2, PASSWORD)
    context = tls.client_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(cipher)
    async with tls.connect(f"P2-{key_type}", password=PASSWORD, context=context) as ws:
        negotiated = ws.transport.get_extra_info("cipher")
        assert negotiated[0] == cipher
        certificate = ws.transport.get_extra_info("peercert")
        assert dict(x[0] for x in certificate["subject"])["commonName"] == "127.0.0.1"


async def test_auto_registration_over_tls_takes_the_level_of_the_first_connection(
    tls: TlsServer,
) -> None:
    pair = tls.write("new-p3", tls.issuer().issue("NEW-P3", organization=ORGANIZATION))
    async with tls.charger(ChargePoint16, "NEW-P3", certificate=pair) as charger:
        assert await boot16(charger) == "Accepted"
    async with tls.charger(ChargePoint16, "NEW-P2", password=PASSWORD) as charger:
        assert await boot16(charger) == "Accepted"
    rows = await query(
        tls.process.database_url,
        "SELECT id, security_profile, password_hash IS NULL AS no_password FROM chargers "
        "WHERE id IN ('NEW-P2', 'NEW-P3') ORDER BY id",
    )
    assert rows == [
        {"id": "NEW-P2", "security_profile": 2, "no_password": 0},
        {"id": "NEW-P3", "security_profile": 3, "no_password": 1},
    ]
    # From now on each needs what it registered with.
    assert (await tls.refused("NEW-P3", password=PASSWORD)).status_code == 403
    with pytest.raises(InvalidStatus) as caught:
        async with tls.process.websocket("NEW-P2", PASSWORD):
            pass
    assert caught.value.response.status_code == 403
    # A certificate of another charger registers nobody.
    response = await tls.refused("NEW-P4", certificate=pair)
    assert response.status_code == 403
    async with tls.process.api() as api:
        assert (await api.get("/chargers/NEW-P4")).status_code == 404


async def test_the_server_still_serves_after_refused_handshakes(tls: TlsServer) -> None:
    await register(tls, "P2-LAST", 2, PASSWORD)
    before = await refusals(tls, "tls_client_alert")

    def distrustful_client() -> None:
        """A blocking client (asyncio's would not send its alert) that lacks the CA."""
        context = ssl.create_default_context()
        with (
            socket.create_connection(("127.0.0.1", tls.tls_port), timeout=10) as sock,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            context.wrap_socket(sock, server_hostname="127.0.0.1")

    await asyncio.to_thread(distrustful_client)
    for _ in range(50):
        if await refusals(tls, "tls_client_alert") == before + 1:
            break
        await asyncio.sleep(0.05)
    assert await refusals(tls, "tls_client_alert") == before + 1
    assert "TLSV1_ALERT_UNKNOWN_CA [tls_client_alert]" in tls.process.log()
    async with tls.charger(ChargePoint16, "P2-LAST", password=PASSWORD) as charger:
        assert await boot16(charger) == "Accepted"
    async with tls.charger(ChargePoint201, "P2-LAST", password=PASSWORD) as charger:
        heartbeat = await charger.call(call201.Heartbeat())
        assert heartbeat.current_time
