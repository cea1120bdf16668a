"""Valid example payloads built from the generated types, and the OCA schemas to check them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import msgspec.inspect as mi
import ocpp

from chargegrid.ocpp.versions import ActionSpec, OcppVersion, actions

SCHEMA_DIRS = {OcppVersion.V16: "v16", OcppVersion.V201: "v201"}

# The error code tables of OCPP-J 1.6 §4.2.3 and OCPP-J 2.0.1 §4.3, written out independently.
ERROR_CODE_TABLES = {
    OcppVersion.V16: frozenset(
        {
            "NotImplemented",
            "NotSupported",
            "InternalError",
            "ProtocolError",
            "SecurityError",
            "FormationViolation",
            "PropertyConstraintViolation",
            "OccurenceConstraintViolation",
            "TypeConstraintViolation",
            "GenericError",
        }
    ),
    OcppVersion.V201: frozenset(
        {
            "FormatViolation",
            "GenericError",
            "InternalError",
            "MessageTypeNotSupported",
            "NotImplemented",
            "NotSupported",
            "OccurrenceConstraintViolation",
            "PropertyConstraintViolation",
            "ProtocolError",
            "RpcFrameworkError",
            "SecurityError",
            "TypeConstraintViolation",
        }
    ),
}


def example(type_: type[msgspec.Struct], *, full: bool) -> dict[str, Any]:
    """A JSON-ready payload: required fields only, or (full) every optional field too."""
    value = _value(mi.type_info(type_), full=full)
    assert isinstance(value, dict)
    return value


def _value(t: mi.Type, *, full: bool) -> Any:
    if isinstance(t, mi.UnionType):
        return _value(next(x for x in t.types if not isinstance(x, mi.NoneType)), full=full)
    if isinstance(t, mi.StructType):
        return {f.encode_name: _value(f.type, full=full) for f in t.fields if f.required or full}
    if isinstance(t, mi.StrType):
        return "x" * min(t.max_length or 3, 3)
    if isinstance(t, mi.IntType):
        return t.ge if t.ge is not None else 1
    if isinstance(t, mi.FloatType):
        return 1.0
    if isinstance(t, mi.BoolType):
        return True
    if isinstance(t, mi.DateTimeType):
        return "2025-03-01T12:00:00Z"
    if isinstance(t, mi.LiteralType):
        return t.values[0]
    if isinstance(t, mi.ListType):
        return [_value(t.item_type, full=full) for _ in range(t.min_length or 1)]
    if isinstance(t, mi.DictType):
        return {"k": "v"}
    if isinstance(t, mi.AnyType):
        return {"any": [1, "two"]}
    raise AssertionError(f"no example for {t}")


def schema_dir(version: OcppVersion) -> Path:
    """The directory of a version's official OCA schemas in the installed `ocpp` package."""
    return Path(ocpp.__file__).parent / SCHEMA_DIRS[version] / "schemas"


@cache
def schema(version: OcppVersion, file_name: str) -> dict[str, Any]:
    """An official OCA schema from the installed `ocpp` package."""
    path = schema_dir(version) / file_name
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def schema_files(version: OcppVersion, spec: ActionSpec) -> tuple[str, str]:
    """File names of the request and response schemas of an action."""
    request = f"{spec.name}.json" if version is OcppVersion.V16 else f"{spec.name}Request.json"
    return request, f"{spec.name}Response.json"


def validator(version: OcppVersion, file_name: str) -> Any:
    """A jsonschema validator for an official schema."""
    document = schema(version, file_name)
    return jsonschema.validators.validator_for(document)(document)


def assert_valid(version: OcppVersion, file_name: str, payload: Any) -> None:
    """Raise if `payload` breaks the official schema."""
    validator(version, file_name).validate(payload)


def all_actions() -> list[tuple[OcppVersion, ActionSpec]]:
    """Every (version, action) pair of the registries."""
    return [(v, spec) for v in OcppVersion for spec in actions(v).values()]
