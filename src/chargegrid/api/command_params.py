"""What each version-neutral command takes (request bodies of ``/commands/{name}``).

Field names are the platform's; the gateway turns them into the OCPP message of the
charger's version. Times carry their offset. EVSE ids are OCPP 2.x EVSE ids, or OCPP 1.6
connector ids (an OCPP 1.6 connector *n* is EVSE *n*).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class Params(BaseModel):
    """Base of every command body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class SchedulePeriod(Params):
    start_period: int = Field(ge=0, description="Seconds from the schedule's start.")
    limit: float = Field(ge=0, description="In the schedule's rate unit (W or A).")
    number_phases: int | None = Field(None, ge=1, le=3)


class ChargingSchedule(Params):
    rate_unit: Literal["W", "A"]
    periods: list[SchedulePeriod] = Field(min_length=1)
    start: AwareDatetime | None = None
    duration: int | None = Field(None, ge=0, description="Seconds.")
    min_rate: float | None = Field(None, ge=0)


class ChargingProfile(Params):
    """A charging profile in the platform's words (OCPP 1.6 and 2.0.1 share this shape)."""

    id: int = Field(ge=0)
    stack_level: int = Field(0, ge=0)
    purpose: Literal["charger_max", "tx_default", "tx"] = Field(
        description="charger_max: ChargePointMaxProfile / ChargingStationMaxProfile; "
        "tx_default: TxDefaultProfile; tx: TxProfile."
    )
    kind: Literal["absolute", "recurring", "relative"]
    recurrency: Literal["daily", "weekly"] | None = None
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None
    transaction_id: int | None = Field(
        None, description="The transaction (platform id) a tx profile applies to."
    )
    schedule: ChargingSchedule

    @model_validator(mode="after")
    def _recurring(self) -> ChargingProfile:
        if (self.kind == "recurring") != (self.recurrency is not None):
            raise ValueError("recurrency goes with kind recurring, and only with it")
        return self


class RemoteStart(Params):
    id_token: str = Field(min_length=1, max_length=36)
    id_token_type: str | None = Field(
        None,
        description="OCPP 2.0.1 IdTokenEnum (ISO14443, eMAID, Central...); by default the "
        "stored token's type, else Central.",
    )
    evse_id: int | None = Field(None, ge=1)
    connector_id: int | None = Field(None, ge=1)
    charging_profile: ChargingProfile | None = None


class RemoteStop(Params):
    transaction_id: int = Field(description="The transaction's platform id.")


class Reset(Params):
    type: Literal["soft", "hard"]
    evse_id: int | None = Field(None, ge=1, description="OCPP 2.0.1 only: reset one EVSE.")


class Unlock(Params):
    evse_id: int = Field(ge=1)
    connector_id: int = Field(1, ge=1)


class ChangeAvailability(Params):
    evse_id: int | None = Field(None, ge=0, description="Absent or 0: the whole charger.")
    connector_id: int | None = Field(None, ge=1, description="OCPP 2.0.1 only.")
    operative: bool


class TriggerMessage(Params):
    message: str = Field(
        description="The message to send, as the charger's version names it "
        "(BootNotification, Heartbeat, StatusNotification, MeterValues...)."
    )
    evse_id: int | None = Field(None, ge=1)
    connector_id: int | None = Field(None, ge=1, description="OCPP 2.0.1 only.")


class VariableRef(Params):
    component: str = Field(min_length=1, max_length=50)
    component_instance: str | None = None
    evse_id: int | None = Field(None, ge=1)
    connector_id: int | None = Field(None, ge=1)
    variable: str = Field(min_length=1, max_length=50)
    variable_instance: str | None = None
    attribute: Literal["Actual", "Target", "MinSet", "MaxSet"] | None = None


class GetConfiguration(Params):
    keys: list[str] | None = Field(
        None, description="OCPP 1.6 configuration keys; absent: all of them."
    )
    variables: list[VariableRef] | None = Field(
        None, description="OCPP 2.0.1 variables to read (GetVariables needs at least one)."
    )


class SetConfiguration(Params):
    key: str | None = Field(None, max_length=50, description="OCPP 1.6 configuration key.")
    variable: VariableRef | None = Field(None, description="OCPP 2.0.1 variable.")
    value: str = Field(max_length=1000)

    @model_validator(mode="after")
    def _one_target(self) -> SetConfiguration:
        if (self.key is None) == (self.variable is None):
            raise ValueError("give either key (OCPP 1.6) or variable (OCPP 2.0.1)")
        return self


class UpdateFirmware(Params):
    location: str = Field(min_length=1, max_length=512, description="URI of the firmware.")
    retrieve_at: AwareDatetime
    install_at: AwareDatetime | None = None
    retries: int | None = Field(None, ge=0)
    retry_interval: int | None = Field(None, ge=0, description="Seconds.")
    signing_certificate: str | None = Field(
        None, max_length=5500, description="PEM; with signature makes a signed update."
    )
    signature: str | None = Field(None, max_length=800, description="Base64 firmware signature.")


class GetDiagnostics(Params):
    location: str = Field(min_length=1, max_length=512, description="Upload URI.")
    log_type: Literal["diagnostics", "security"] = "diagnostics"
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    retries: int | None = Field(None, ge=0)
    retry_interval: int | None = Field(None, ge=0, description="Seconds.")


class SendLocalList(Params):
    update_type: Literal["full", "differential"]
    id_tokens: list[str] = Field(
        default_factory=list,
        description="Tokens to put on the list (with their current status, expiry and group).",
    )
    remove: list[str] = Field(
        default_factory=list, description="Differential only: tokens to take off the list."
    )
    version: int | None = Field(
        None, ge=1, description="The list version; by default one more than the charger's."
    )


class GetLocalListVersion(Params):
    pass


class ClearCache(Params):
    pass


class ReserveNow(Params):
    id_token: str = Field(min_length=1, max_length=36)
    id_token_type: str | None = None
    expires_at: AwareDatetime
    evse_id: int | None = Field(None, ge=0, description="Absent or 0: any EVSE.")
    connector_type: str | None = Field(None, description="OCPP 2.0.1 only.")
    group_id_token: str | None = None


class CancelReservation(Params):
    reservation_id: int = Field(description="The reservation's id: its reserve-now command id.")


class SetChargingProfile(Params):
    evse_id: int = Field(ge=0, description="0: the charger as a whole.")
    profile: ChargingProfile


class ClearChargingProfile(Params):
    profile_id: int | None = None
    evse_id: int | None = Field(None, ge=0)
    purpose: Literal["charger_max", "tx_default", "tx"] | None = None
    stack_level: int | None = Field(None, ge=0)


class GetCompositeSchedule(Params):
    evse_id: int = Field(ge=0)
    duration: int = Field(ge=1, description="Seconds.")
    rate_unit: Literal["W", "A"] | None = None


class DataTransfer(Params):
    vendor_id: str = Field(min_length=1, max_length=255)
    message_id: str | None = Field(None, max_length=50)
    data: Any = None


class GetBaseReport(Params):
    report_base: Literal["ConfigurationInventory", "FullInventory", "SummaryInventory"]


class DisplayMessageContent(Params):
    content: str = Field(min_length=1, max_length=512)
    format: Literal["ASCII", "HTML", "URI", "UTF8"] = "UTF8"
    language: str | None = Field(None, max_length=8)


class SetDisplayMessage(Params):
    id: int | None = Field(None, ge=0, description="By default the command's id.")
    priority: Literal["AlwaysFront", "InFront", "NormalCycle"] = "NormalCycle"
    state: Literal["Charging", "Faulted", "Idle", "Unavailable"] | None = None
    start_at: AwareDatetime | None = None
    end_at: AwareDatetime | None = None
    transaction_id: int | None = Field(None, description="Platform id of the transaction.")
    evse_id: int | None = Field(None, ge=0)
    message: DisplayMessageContent


# Name in the URL -> body type.
COMMANDS: dict[str, type[Params]] = {
    "remote-start": RemoteStart,
    "remote-stop": RemoteStop,
    "reset": Reset,
    "unlock": Unlock,
    "change-availability": ChangeAvailability,
    "trigger-message": TriggerMessage,
    "get-configuration": GetConfiguration,
    "set-configuration": SetConfiguration,
    "clear-cache": ClearCache,
    "update-firmware": UpdateFirmware,
    "get-diagnostics": GetDiagnostics,
    "send-local-list": SendLocalList,
    "get-local-list-version": GetLocalListVersion,
    "reserve-now": ReserveNow,
    "cancel-reservation": CancelReservation,
    "set-charging-profile": SetChargingProfile,
    "clear-charging-profile": ClearChargingProfile,
    "get-composite-schedule": GetCompositeSchedule,
    "data-transfer": DataTransfer,
    "get-base-report": GetBaseReport,
    "set-display-message": SetDisplayMessage,
}
