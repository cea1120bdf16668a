"""Generate the OCPP message types from the OCA JSON schemas shipped in the `ocpp` package.

Writes `src/chargegrid/ocpp/v16/messages.py` and `src/chargegrid/ocpp/v201/messages.py`:
one msgspec Struct per request and response, nested objects as their own Structs, enums as
`Literal` aliases, and an `ACTIONS` registry. The output is deterministic and formatted with
`ruff format`. Usage: `python tools/generate_ocpp.py [--out-dir DIR]`.

Mapping decisions:
- Python attribute names are snake_case; the JSON name is always given with `msgspec.field`.
- Required fields come first; optional fields default to `None` and are omitted on encoding.
- `multipleOf` is skipped on `number` fields: the 1.6 schemas say `multipleOf: 0.1` for
  charging limits, and a float check rejects valid values such as 0.3 (0.3 / 0.1 is not an
  integer in binary floating point). It is kept on `integer` fields (none exist today).
- `default` values in the schemas are not applied: absent stays `None`, so what the peer
  sent is what the handler sees. They are noted in a comment on the field.
- 2.0.1 `CustomDataType` allows extra properties, so `CustomData` accepts unknown fields
  (they are not kept on the Struct; the raw payload still has them).
- 1.6 inline enums get the type names of the OCPP 1.6 specification (section 7); inline
  objects are named after their property and identical shapes share one Struct. A name
  already taken by a different shape is prefixed with the action name.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.resources
import json
import keyword
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path("src/chargegrid/ocpp")

# Which side sends the request: actions initiated by the charging station.
V16_FROM_CHARGER = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        # Security extension (OCPP 1.6 Security Whitepaper)
        "LogStatusNotification",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
    }
)
V201_FROM_CHARGER = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)
# Sent by both sides.
BOTH_WAYS = frozenset({"DataTransfer"})

# OCPP 1.6 specification names for inline enums, keyed by "<owner struct>.<json property>".
V16_ENUM_NAMES = {
    "IdTagInfo.status": "AuthorizationStatus",
    "BootNotificationResponse.status": "RegistrationStatus",
    "CancelReservationResponse.status": "CancelReservationStatus",
    "ChangeAvailabilityRequest.type": "AvailabilityType",
    "ChangeAvailabilityResponse.status": "AvailabilityStatus",
    "ChangeConfigurationResponse.status": "ConfigurationStatus",
    "ClearCacheResponse.status": "ClearCacheStatus",
    "ClearChargingProfileRequest.chargingProfilePurpose": "ChargingProfilePurposeType",
    "ClearChargingProfileResponse.status": "ClearChargingProfileStatus",
    "ChargingProfile.chargingProfilePurpose": "ChargingProfilePurposeType",
    "ChargingProfile.chargingProfileKind": "ChargingProfileKindType",
    "ChargingProfile.recurrencyKind": "RecurrencyKindType",
    "ChargingSchedule.chargingRateUnit": "ChargingRateUnitType",
    "DataTransferResponse.status": "DataTransferStatus",
    "DiagnosticsStatusNotificationRequest.status": "DiagnosticsStatus",
    "FirmwareStatusNotificationRequest.status": "FirmwareStatus",
    "GetCompositeScheduleRequest.chargingRateUnit": "ChargingRateUnitType",
    "GetCompositeScheduleResponse.status": "GetCompositeScheduleStatus",
    "SampledValue.context": "ReadingContext",
    "SampledValue.format": "ValueFormat",
    "SampledValue.measurand": "Measurand",
    "SampledValue.phase": "Phase",
    "SampledValue.location": "Location",
    "SampledValue.unit": "UnitOfMeasure",
    "RemoteStartTransactionResponse.status": "RemoteStartStopStatus",
    "RemoteStopTransactionResponse.status": "RemoteStartStopStatus",
    "ReserveNowResponse.status": "ReservationStatus",
    "ResetRequest.type": "ResetType",
    "ResetResponse.status": "ResetStatus",
    "SendLocalListRequest.updateType": "UpdateType",
    "SendLocalListResponse.status": "UpdateStatus",
    "SetChargingProfileResponse.status": "ChargingProfileStatus",
    "StatusNotificationRequest.errorCode": "ChargePointErrorCode",
    "StatusNotificationRequest.status": "ChargePointStatus",
    "StopTransactionRequest.reason": "Reason",
    "TriggerMessageRequest.requestedMessage": "MessageTrigger",
    "TriggerMessageResponse.status": "TriggerMessageStatus",
    "UnlockConnectorResponse.status": "UnlockStatus",
}
# OCPP 1.6 specification names for inline objects whose property name is not the type name.
V16_OBJECT_NAMES = {
    "GetConfigurationResponse.configurationKey": "KeyValue",
    "SendLocalListRequest.localAuthorizationList": "AuthorizationData",
    "SetChargingProfileRequest.csChargingProfiles": "ChargingProfile",
    "StopTransactionRequest.transactionData": "MeterValue",
}
# Schema keys that do not change the wire format.
_DOC_KEYS = frozenset({"description", "javaType", "comment", "$schema", "$id", "title", "default"})
# Every schema keyword the generator understands; any other one stops it (see `_check`).
_KNOWN_KEYS = _DOC_KEYS | {
    "type", "enum", "format", "maxLength", "minimum", "maximum", "multipleOf", "items",
    "minItems", "maxItems", "additionalItems", "properties", "required",
    "additionalProperties", "$ref", "definitions",
}  # fmt: skip
_KNOWN_FORMATS = frozenset({"date-time", "uri"})  # uri: a plain str
_STRUCT_OPTIONS = "kw_only=True, forbid_unknown_fields=True, omit_defaults=True, frozen=True"
_OPEN_STRUCT_OPTIONS = "kw_only=True, omit_defaults=True, frozen=True"


@dataclass(frozen=True)
class VersionSpec:
    """One OCPP version: where its schemas are and how its files are named."""

    package: str  # "v16" or "v201"
    label: str  # "1.6" or "2.0.1"
    request_suffix: str  # file name suffix of request schemas
    from_charger: frozenset[str]


VERSIONS = (
    VersionSpec("v16", "1.6", "", V16_FROM_CHARGER),
    VersionSpec("v201", "2.0.1", "Request", V201_FROM_CHARGER),
)


def snake_case(name: str) -> str:
    """Python attribute name for a JSON property name (`idTag` -> `id_tag`)."""
    name = name.replace("SoC", "Soc")
    out = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
    return out + "_" if keyword.iskeyword(out) else out


def _upper_first(name: str) -> str:
    return name[:1].upper() + name[1:]


def _shape(node: Any, definitions: dict[str, Any]) -> Any:
    """The schema with documentation removed and `$ref`s resolved: equal shapes, equal wire."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _shape(_resolve(node["$ref"], definitions), definitions)
        return {k: _shape(v, definitions) for k, v in node.items() if k not in _DOC_KEYS}
    if isinstance(node, list):
        return [_shape(x, definitions) for x in node]
    return node


def _resolve(ref: str, definitions: dict[str, Any]) -> Any:
    prefix = "#/definitions/"
    if not ref.startswith(prefix):
        raise SystemExit(f"unsupported $ref {ref!r}")
    return definitions[ref[len(prefix) :]]


def _key(node: Any, definitions: dict[str, Any]) -> str:
    return json.dumps(_shape(node, definitions), sort_keys=True)


def _definition_name(ref: str, schema: dict[str, Any]) -> str:
    name = ref.rsplit("/", 1)[1]
    java = schema.get("javaType")
    if isinstance(java, str):
        return java
    return name[: -len("Type")] if name.endswith("Type") else name


def _field_line(
    prop: str, attr: str, annotation: str, required: bool, schema: dict[str, Any]
) -> str:
    """One Struct field: required fields have no default, optional ones default to None."""
    default = "" if required else "default=None, "
    if attr != prop:
        value = f' = msgspec.field({default}name="{prop}")'
    else:
        value = "" if required else " = None"
    if not required and annotation != "Any":
        annotation += " | None"
    line = f"    {attr}: {annotation}{value}"
    if "default" in schema:
        line += f"  # schema default: {json.dumps(schema['default'])}"
    return line


def _check(node: dict[str, Any], where: str) -> None:
    """Stop on schema features the generator would silently ignore."""
    unknown = set(node) - _KNOWN_KEYS
    if unknown or node.get("format", "date-time") not in _KNOWN_FORMATS:
        raise SystemExit(f"unsupported schema keyword at {where}: {sorted(unknown)} {node}")


def _docstring(text: str) -> str:
    return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '"""'


@dataclass
class Module:
    """The Python source of one generated messages module, built definition by definition."""

    version: VersionSpec
    blocks: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # name -> shape key
    struct_by_shape: dict[str, str] = field(default_factory=dict)  # inline 1.6 objects
    uses_any: bool = False
    uses_annotated: bool = False
    uses_datetime: bool = False

    def claim(self, base: str, key: str, action: str) -> tuple[str, bool]:
        """A unique name for `key` (first choice `base`); True if it is already defined."""
        candidates = [base, action + base] + [f"{action}{base}{i}" for i in range(2, 100)]
        for name in candidates:
            if name not in self.names:
                self.names[name] = key
                return name, False
            if self.names[name] == key:
                return name, True
        raise SystemExit(f"cannot name {base}")

    # -- types -------------------------------------------------------------------------

    def annotation(
        self, node: dict[str, Any], owner: tuple[str, str], prop: str, action: str, defs: Any
    ) -> str:
        """The Python annotation for a property of `owner` (its name and first-choice name)."""
        owner_name, owner_base = owner
        _check(node, f"{owner_name}.{prop}")
        if "$ref" in node:
            target = _resolve(node["$ref"], defs)
            name = _definition_name(node["$ref"], target)
            if "enum" in target:
                return self.enum(name, target, action)
            doc = f"`{node['$ref'].rsplit('/', 1)[1]}` of the OCA schemas."
            return self.struct(name, target, action, defs, doc)
        kind = node.get("type")
        if "enum" in node:
            base = owner_base + _upper_first(prop)
            if self.version.package == "v16":
                base = V16_ENUM_NAMES.get(f"{owner_base}.{prop}", base)
            return self.enum(base, node, action)
        if kind is None:
            self.uses_any = True
            return "Any"
        if kind == "string":
            if node.get("format") == "date-time":
                self.uses_datetime = True
                return "datetime.datetime"
            if "maxLength" in node:
                return self._constrained("str", f"max_length={node['maxLength']}")
            return "str"
        if kind == "integer":
            return self._number("int", node)
        if kind == "number":
            return self._number("float", node)
        if kind == "boolean":
            return "bool"
        if kind == "array":
            item = self.annotation(node["items"], owner, prop, action, defs)
            meta = []
            if "minItems" in node:
                meta.append(f"min_length={node['minItems']}")
            if "maxItems" in node:
                meta.append(f"max_length={node['maxItems']}")
            return self._constrained(f"list[{item}]", ", ".join(meta))
        if kind == "object":
            if not node.get("properties"):
                self.uses_any = True
                return "dict[str, Any]"
            base = _upper_first(prop)
            if self.version.package == "v16":
                base = V16_OBJECT_NAMES.get(f"{owner_base}.{prop}", base)
            key = _key(node, defs)
            if key in self.struct_by_shape:
                return self.struct_by_shape[key]
            doc = f"`{prop}` of {owner_name}."
            name = self.struct(base, node, action, defs, doc)
            self.struct_by_shape[key] = name
            return name
        raise SystemExit(f"unsupported schema at {owner_name}.{prop}: {node}")

    def _constrained(self, base: str, meta: str) -> str:
        if not meta:
            return base
        self.uses_annotated = True
        return f"Annotated[{base}, Meta({meta})]"

    def _number(self, base: str, node: dict[str, Any]) -> str:
        meta = []
        for key, arg in (("minimum", "ge"), ("maximum", "le")):
            if key in node:
                value = node[key]
                meta.append(f"{arg}={int(value) if base == 'int' else float(value)!r}")
        # multipleOf is deliberately not enforced on floats (see the module docstring).
        if "multipleOf" in node and base == "int":
            meta.append(f"multiple_of={int(node['multipleOf'])}")
        return self._constrained(base, ", ".join(meta))

    def enum(self, base: str, node: dict[str, Any], action: str) -> str:
        """A `Literal` alias for an enum schema."""
        values = node["enum"]
        name, done = self.claim(base, json.dumps(values), action)
        if not done:
            literal = ", ".join(json.dumps(v) for v in values)
            self.blocks.append(f"{name}: TypeAlias = Literal[{literal}]")
        return name

    def struct(
        self, base: str, node: dict[str, Any], action: str, defs: dict[str, Any], doc: str = ""
    ) -> str:
        """A Struct for an object schema; nested types are emitted first."""
        name, done = self.claim(base, _key(node, defs), action)
        if done:
            return name
        _check(node, name)
        props: dict[str, Any] = node.get("properties", {})
        required = set(node.get("required", []))
        missing = required - set(props)
        if missing:
            raise SystemExit(f"{name}: required but undefined {sorted(missing)}")
        order = sorted(props, key=lambda p: (p not in required, p == "customData"))
        lines = []
        attrs: set[str] = set()
        for prop in order:
            schema = props[prop]
            annotation = self.annotation(schema, (name, base), prop, action, defs)
            attr = snake_case(prop)
            if attr in attrs:
                raise SystemExit(f"{name}: duplicate attribute {attr}")
            attrs.add(attr)
            target = _resolve(schema["$ref"], defs) if "$ref" in schema else schema
            lines.append(_field_line(prop, attr, annotation, prop in required, target))
        open_ = node.get("additionalProperties", True) is not False
        options = _OPEN_STRUCT_OPTIONS if open_ else _STRUCT_OPTIONS
        body = [f"    {_docstring(doc or name)}"]
        if lines:
            body += ["", *lines]
        self.blocks.append(f"class {name}(msgspec.Struct, {options}):\n" + "\n".join(body))
        return name

    def render(self, registry: list[tuple[str, str, str, bool, bool]]) -> str:
        """The complete module source (before formatting)."""
        version = importlib.metadata.version("ocpp")
        label = self.version.label
        typing_names = ["Literal", "TypeAlias"]
        if self.uses_any:
            typing_names.insert(0, "Any")
        if self.uses_annotated:
            typing_names.insert(0, "Annotated")
        imports = []
        if self.uses_datetime:
            imports.append("import datetime")
        imports.append(f"from typing import {', '.join(sorted(typing_names))}")
        imports += ["", "import msgspec"]
        if self.uses_annotated:
            imports.append("from msgspec import Meta")
        imports += ["", "from chargegrid.ocpp.versions import ActionSpec"]
        head = [
            f"# Generated by tools/generate_ocpp.py from the OCA JSON schemas of ocpp=={version}",
            f"# (ocpp/{self.version.package}/schemas). Do not edit by hand: run `make generate`.",
            f'"""OCPP {label} message types and the action registry."""',
            "",
            *imports,
        ]
        entries = [
            f'    "{action}": ActionSpec(name="{action}", request={req}, response={res}, '
            f"from_charger={charger}, from_csms={csms}),"
            for action, req, res, charger, csms in registry
        ]
        tail = [
            "# Every action of this version: request and response types, and who may send it.",
            "ACTIONS: dict[str, ActionSpec] = {",
            *entries,
            "}",
        ]
        return "\n".join(head) + "\n\n\n" + "\n\n\n".join([*self.blocks, "\n".join(tail)]) + "\n"


def schema_dir(version: VersionSpec) -> Path:
    """The schema directory of a version inside the installed `ocpp` package."""
    return Path(str(importlib.resources.files("ocpp") / version.package / "schemas"))


def build(version: VersionSpec) -> str:
    """Unformatted source of the messages module of a version."""
    directory = schema_dir(version)
    files = {p.name: p for p in directory.glob("*.json")}
    actions = sorted(n[: -len("Response.json")] for n in files if n.endswith("Response.json"))
    unknown = version.from_charger - set(actions)
    if unknown:
        raise SystemExit(f"{version.label}: unknown charger-initiated actions {sorted(unknown)}")
    module = Module(version)
    registry = []
    for action in actions:
        names = []
        for suffix, kind in ((version.request_suffix, "Request"), ("Response", "Response")):
            schema = json.loads(files[f"{action}{suffix}.json"].read_text(encoding="utf-8"))
            defs = schema.get("definitions", {})
            by_charger = (action in version.from_charger) == (kind == "Request")
            doc = f"{action} {kind.lower()} (sent by the {'charger' if by_charger else 'CSMS'})."
            if action in BOTH_WAYS:
                doc = f"{action} {kind.lower()} (either side)."
            name = module.struct(f"{action}{kind}", schema, action, defs, doc)
            if name != f"{action}{kind}":
                raise SystemExit(f"{version.label}: {action}{kind} is already taken")
            names.append(name)
        from_charger = action in version.from_charger
        from_csms = not from_charger or action in BOTH_WAYS
        registry.append((action, names[0], names[1], from_charger, from_csms))
    if len(files) != 2 * len(actions):
        raise SystemExit(f"{version.label}: unpaired schema files in {directory}")
    return module.render(registry)


def ruff_format(source: str, path: Path) -> str:
    """Format source with the project's ruff configuration."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(path), "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"ruff format failed for {path}:\n{result.stderr}")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    """Write the generated modules under --out-dir (default: the repository)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT, help="root to write under")
    args = parser.parse_args(argv)
    sources = {}  # build everything before writing anything
    for version in VERSIONS:
        relative = PACKAGE_DIR / version.package / "messages.py"
        sources[relative] = ruff_format(build(version), relative)
    for relative, source in sources.items():
        target = args.out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
