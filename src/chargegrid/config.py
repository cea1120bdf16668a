"""Settings: every ``CHARGEGRID_*`` variable, in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chargegrid.domain.model import BillingTerms

DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{Path('var') / 'chargegrid.db'}"
COMMIT_GROUP_ENOUGH = 16  # charger messages waiting that start a group before its window closes


class Settings(BaseSettings):
    """Runtime configuration, read from ``CHARGEGRID_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="CHARGEGRID_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy or plain database URL (sqlite:///..., postgresql://...).",
    )
    host: str = Field("127.0.0.1", description="Address both servers listen on.")
    ocpp_port: int = Field(9000, ge=0, le=65535, description="Charger WebSocket port (ws).")
    ocpp_tls_port: int = Field(
        9443,
        ge=0,
        le=65535,
        description="Charger WebSocket port over TLS (wss); listens only when "
        "CHARGEGRID_TLS_CERT and CHARGEGRID_TLS_KEY are set.",
    )
    http_port: int = Field(8080, ge=0, le=65535, description="REST API port.")

    auto_register: bool = Field(
        False, description="Accept unknown charger ids and register them on first connection."
    )
    auto_register_status: Literal["Accepted", "Pending", "Rejected"] = Field(
        "Accepted", description="Boot registration status given to auto-registered chargers."
    )
    heartbeat_interval: int = Field(
        300, ge=1, description="Heartbeat interval (s) sent in an accepted BootNotification."
    )
    boot_retry_interval: int = Field(
        60, ge=1, description="Interval (s) after which a Pending/Rejected charger boots again."
    )

    ocpp_max_frame_bytes: int = Field(
        262_144,
        ge=1024,
        description="Largest OCPP frame answered normally; larger ones get a CALLERROR. "
        "Frames above four times this close the connection (WebSocket 1009).",
    )
    ocpp_ping_interval: float = Field(
        60.0,
        ge=0,
        description="Seconds a charger may stay quiet (send no frame) before it is sent a "
        "WebSocket ping; 0 disables server pings.",
    )
    ocpp_ping_timeout: float = Field(
        30.0, ge=0, description="Seconds to wait for a pong before closing the connection."
    )
    ocpp_close_timeout: float = Field(
        3.0,
        gt=0,
        description="Seconds to wait for a charger's closing handshake before dropping the "
        "TCP connection (shutdown, a connection replaced by a newer one).",
    )
    ocpp_call_timeout: float = Field(
        30.0, gt=0, description="Seconds to wait for a charger's answer to a CSMS CALL."
    )
    ocpp_replay_window: int = Field(
        86_400,
        ge=0,
        description="Seconds during which a repeated CALL (same charger, message id, action "
        "and payload) is answered from the stored reply instead of processed again.",
    )
    ocpp_commit_window: float = Field(
        0.020,
        ge=0,
        le=0.1,
        description="Seconds the first charger message waiting to be committed waits for "
        f"others to join its group (group commit), unless {COMMIT_GROUP_ENOUGH} wait; 0 "
        "starts each group at once.",
    )
    ocpp_write_lanes: int = Field(
        4,
        ge=1,
        le=10,
        description="Charger messages committed concurrently, each lane one group of the "
        "messages waiting at that moment (group commit); fewer lanes make larger groups. On "
        "PostgreSQL a lane holds up to two of the ten write connections: above five, lanes "
        "wait for one.",
    )
    auth_failure_limit: int = Field(
        10,
        ge=1,
        description="Failed logins (chargers per address; users per e-mail and address) "
        "within the window before further attempts are refused.",
    )
    auth_failure_window: float = Field(
        60.0, gt=0, description="Window (s) for counting failed logins."
    )
    tls_cert: Path | None = Field(
        None, description="PEM server certificate (with any intermediates) for wss."
    )
    tls_key: Path | None = Field(None, description="PEM private key of CHARGEGRID_TLS_CERT.")
    tls_alt_cert: Path | None = Field(
        None,
        description="Optional second PEM server certificate with the other key type (RSA or "
        "ECDSA), so that both the RSA and the ECDSA cipher suites OCPP requires can be used.",
    )
    tls_alt_key: Path | None = Field(
        None, description="PEM private key of CHARGEGRID_TLS_ALT_CERT."
    )
    tls_client_ca: Path | None = Field(
        None,
        description="PEM CA bundle that charger client certificates must chain to "
        "(security profile 3); without it no client certificate is asked for.",
    )
    tls_client_organization: str | None = Field(
        None,
        description="When set, charger client certificates and CSRs must have this subject O.",
    )
    pki_dir: Path = Field(
        Path("var") / "pki",
        description="Directory of the built-in CSMS certificate authority (ca.pem, ca.key; "
        "`chargegrid pki init`); SignCertificate requests are signed when it holds a CA.",
    )
    pki_cert_days: int = Field(
        365, ge=1, description="Validity (days) of charger certificates the CA issues."
    )
    command_expiry: int = Field(
        86_400,
        ge=1,
        description="Seconds a command for an offline charger stays queued before it expires "
        "unsent (a request may ask for another expiry).",
    )
    command_wait: float = Field(
        10.0,
        ge=0,
        le=120,
        description="Default seconds a command request waits for the charger's answer "
        "before it returns the command as it stands (query parameter ``wait``).",
    )
    command_sweep_interval: float = Field(
        5.0,
        gt=0,
        description="Seconds between sweeps that expire queued commands and time out "
        "commands whose answer can no longer come.",
    )
    remote_start_window: int = Field(
        600,
        ge=1,
        description="Seconds after an accepted OCPP 1.6 remote start during which a "
        "transaction with the same connector and id token is taken to be the one it started.",
    )
    access_token_ttl: int = Field(
        3600, ge=60, description="Lifetime (s) of the access tokens POST /api/v1/auth/token issues."
    )
    webhook_timeout: float = Field(
        10.0, gt=0, description="Seconds to wait for a webhook receiver to answer."
    )
    webhook_retry_base: float = Field(
        10.0,
        gt=0,
        description="Delay (s) before the first retry of a failed webhook delivery; each "
        "further retry waits twice as long (with jitter).",
    )
    webhook_max_attempts: int = Field(
        8, ge=1, description="Attempts of a webhook delivery before it is marked failed."
    )
    webhook_poll_interval: float = Field(
        1.0, gt=0, description="Seconds between scans for due webhook deliveries."
    )
    gc_freeze_interval: float = Field(
        1.0,
        ge=0,
        description="Seconds between moves of the objects that survived so far out of the "
        "garbage collector's passes (0: off); with thousands of connections a full pass "
        "otherwise pauses the process for most of a second, and under load what survives "
        "a few seconds (each connection's last message) makes passes of tens of ms.",
    )
    gc_full_interval: float = Field(
        1800.0,
        gt=0,
        description="With CHARGEGRID_GC_FREEZE_INTERVAL: seconds between full passes over "
        "everything, which free what became cyclic garbage after it was set aside.",
    )
    dashboard_session_ttl: int = Field(
        28_800,
        ge=1,
        description="Lifetime (s) of a dashboard sign-in; the operator signs in again after it.",
    )
    dashboard_poll_interval: float = Field(
        1.0,
        gt=0,
        description="Seconds between the reads behind the dashboard's live updates "
        "(server-sent events); each open page reads only what it shows.",
    )
    dashboard_tile_url: str = Field(
        "",
        description="Map tile URL template for the dashboard's map, e.g. "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png; empty: no tiles (markers only).",
    )
    dashboard_tile_attribution: str = Field(
        "",
        description="Attribution shown on the dashboard's map for its tiles (plain text).",
    )
    country_code: str = Field(
        "ZZ",
        pattern=r"^[A-Za-z]{2}$",
        description="OCPI country code of the platform's party (the CPO): its CDRs and "
        "the tariffs that do not name their own.",
    )
    party_id: str = Field(
        "CGR",
        pattern=r"^[A-Za-z0-9]{3}$",
        description="OCPI party id of the platform (the CPO), with CHARGEGRID_COUNTRY_CODE.",
    )
    currency: str = Field(
        "EUR",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 currency of the CDRs of sessions without a tariff.",
    )
    time_zone: str = Field(
        "UTC",
        description="IANA time zone in which the tariffs of chargers without a location "
        "are read (times of day, days of the week).",
    )
    cdr_wait: int = Field(
        3600,
        ge=1,
        description="Seconds an ended transaction whose charger has not sent all of its "
        "events yet waits for them before its CDR is made from what arrived.",
    )
    cost_update_interval: int = Field(
        60,
        ge=0,
        description="Fewest seconds between two CostUpdated messages (OCPP 2.0.1) about "
        "one transaction; 0: after every event that changes the cost.",
    )
    connector_standard: str = Field(
        "IEC_62196_T2",
        description="OCPI ConnectorType written into CDRs (cdr_location.connector_standard).",
    )
    connector_format: Literal["SOCKET", "CABLE"] = Field(
        "SOCKET", description="OCPI ConnectorFormat written into CDRs."
    )
    connector_power_type: Literal[
        "AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC"
    ] = Field("AC_3_PHASE", description="OCPI PowerType written into CDRs.")
    shutdown_grace: float = Field(
        10.0, ge=0, description="Seconds given to open connections to finish on shutdown."
    )
    log_level: str = Field("INFO", description="Python logging level.")

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @field_validator("tls_client_organization", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _pairs(self) -> Settings:
        for certificate, key, name in (
            (self.tls_cert, self.tls_key, "TLS"),
            (self.tls_alt_cert, self.tls_alt_key, "TLS_ALT"),
        ):
            if (certificate is None) != (key is None):
                raise ValueError(f"CHARGEGRID_{name}_CERT and CHARGEGRID_{name}_KEY go together")
        if self.tls_alt_cert is not None and self.tls_cert is None:
            raise ValueError("CHARGEGRID_TLS_ALT_CERT needs CHARGEGRID_TLS_CERT")
        return self

    def billing_terms(self) -> BillingTerms:
        """What tariffs, costs and CDRs are made with."""
        return BillingTerms(
            country_code=self.country_code.upper(),
            party_id=self.party_id.upper(),
            currency=self.currency,
            time_zone=self.time_zone,
            cdr_wait_s=self.cdr_wait,
            connector_standard=self.connector_standard,
            connector_format=self.connector_format,
            connector_power_type=self.connector_power_type,
        )

    @property
    def tls_enabled(self) -> bool:
        """Whether chargers can connect over wss."""
        return self.tls_cert is not None and self.tls_key is not None


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; non-``None`` overrides (CLI flags) win."""
    values = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**values)  # type: ignore[arg-type]
