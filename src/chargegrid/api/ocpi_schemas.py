"""OpenAPI schemas of the OCPI objects the API takes and returns as they are (Tariff, CDR).

They are made from the very types that parse and write them (``chargegrid.tariffs``,
``chargegrid.domain.cdr``), named ``Ocpi<Name>``. Amounts are JSON numbers, as OCPI
writes them, not the strings a schema of ``Decimal`` would say.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec

from chargegrid.domain.cdr import Cdr
from chargegrid.tariffs import Tariff

PREFIX = "Ocpi"
_TEMPLATE = "#/components/schemas/" + PREFIX + "{name}"
_DECIMAL = {"type": "string", "format": "decimal"}


def ref(name: str) -> dict[str, str]:
    """A reference to the schema of the OCPI object ``name`` (``Tariff``, ``Cdr``)."""
    return {"$ref": _TEMPLATE.format(name=name)}


def json_content(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An OpenAPI response (or request body) of JSON with this schema."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def page_of(name: str) -> dict[str, Any]:
    """The schema of a list page of OCPI objects ``name``."""
    return {
        "type": "object",
        "title": f"{PREFIX}{name}Page",
        "required": ["items", "total", "limit", "offset"],
        "properties": {
            "items": {"type": "array", "items": ref(name)},
            "total": {"type": "integer"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        },
    }


@cache
def components() -> dict[str, Any]:
    """The ``components.schemas`` entries of the OCPI objects."""
    _, found = msgspec.json.schema_components([Tariff, Cdr], ref_template=_TEMPLATE)
    return {PREFIX + name: _numbers(schema) for name, schema in found.items()}


def _numbers(schema: Any) -> Any:
    if schema == _DECIMAL:
        return {"type": "number"}
    if isinstance(schema, dict):
        return {key: _numbers(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_numbers(value) for value in schema]
    return schema
