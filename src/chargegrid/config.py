"""Settings: every ``CHARGEGRID_*`` variable, in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{Path('var') / 'chargegrid.db'}"


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
        60.0, ge=0, description="WebSocket ping interval (s); 0 disables server pings."
    )
    ocpp_ping_timeout: float = Field(
        30.0, ge=0, description="Seconds to wait for a pong before closing the connection."
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
        10.0,
        ge=0,
        description="Seconds between moves of the objects that survived so far out of the "
        "garbage collector's passes (0: off); with thousands of connections a full pass "
        "otherwise pauses the process for most of a second.",
    )
    gc_full_interval: float = Field(
        1800.0,
        gt=0,
        description="With CHARGEGRID_GC_FREEZE_INTERVAL: seconds between full passes over "
        "everything, which free what became cyclic garbage after it was set aside.",
    )
    shutdown_grace: float = Field(
        10.0, ge=0, description="Seconds given to open connections to finish on shutdown."
    )
    log_level: str = Field("INFO", description="Python logging level.")

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

    @property
    def tls_enabled(self) -> bool:
        """Whether chargers can connect over wss."""
        return self.tls_cert is not None and self.tls_key is not None


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; non-``None`` overrides (CLI flags) win."""
    values = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**values)  # type: ignore[arg-type]
