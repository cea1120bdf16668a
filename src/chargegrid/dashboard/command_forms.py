"""Forms for the commands an operator can send, made from the API's command bodies.

Each command's body model (``chargegrid.api.command_params``) gives its fields; simple
ones become inputs, selects and checkboxes, nested ones a JSON text area. What a form
sends is turned back into the body and checked by the same model as an API request.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, ValidationError

from chargegrid.api.command_params import COMMANDS
from chargegrid.values import immutable

# Commands whose effect an operator should confirm first.
DISRUPTIVE = frozenset(
    {"reset", "unlock", "change-availability", "update-firmware", "clear-cache", "send-local-list"}
)
HELP = {
    "remote-start": "Start charging for an id token, on an EVSE or wherever the charger picks.",
    "remote-stop": "Stop a transaction (its platform id).",
    "reset": "Restart the charger: soft ends transactions first, hard at once.",
    "unlock": "Release the cable of a connector.",
    "change-availability": "Take the charger or an EVSE out of service, or back into it.",
    "trigger-message": "Ask the charger to send a message now (StatusNotification...).",
    "get-configuration": "Read configuration keys (1.6) or variables (2.0.1).",
    "set-configuration": "Change a configuration key (1.6) or a variable (2.0.1).",
    "clear-cache": "Empty the charger's authorization cache.",
    "update-firmware": "Install firmware from a URL.",
    "get-diagnostics": "Upload diagnostics or the security log to a URL.",
    "send-local-list": "Send the local authorization list (whole or changes).",
    "get-local-list-version": "Read the version of the charger's local list.",
    "reserve-now": "Reserve the charger or an EVSE for an id token.",
    "cancel-reservation": "Cancel a reservation (the id of its reserve-now command).",
    "set-charging-profile": "Limit power with a charging profile.",
    "clear-charging-profile": "Remove charging profiles.",
    "get-composite-schedule": "Read the schedule the charger will follow.",
    "data-transfer": "Send vendor-specific data.",
    "get-base-report": "Ask a 2.0.1 charger to report its device model.",
    "set-display-message": "Show a message on the charger's display (2.0.1).",
}
_DATETIME_WITHOUT_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


@immutable
class FormField:
    """One input of a command form."""

    name: str
    label: str
    kind: Literal["text", "number", "select", "checkbox", "datetime", "list", "json"]
    required: bool
    help: str | None = None
    options: tuple[str, ...] = ()
    default: str = ""


@immutable
class CommandForm:
    name: str
    title: str
    help: str | None
    fields: tuple[FormField, ...]
    disruptive: bool


class FormProblem(ValueError):
    """What is wrong with a submitted form, field by field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _without_none(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``| None``, and whether None was allowed."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        optional = len(members) < len(get_args(annotation))
        return (members[0] if len(members) == 1 else Any), optional
    return annotation, False


def _field(name: str, info: Any) -> FormField:
    annotation, _ = _without_none(info.annotation)
    required = info.is_required()
    label = name.replace("_", " ").capitalize()
    default = info.default if not required and info.default not in (None, ...) else ""
    common: dict[str, Any] = {"help": info.description, "required": required}
    origin = get_origin(annotation)
    if origin is Literal:
        options = tuple(str(arg) for arg in get_args(annotation))
        return FormField(name, label, "select", options=options, default=str(default), **common)
    if annotation is bool:
        if required:
            return FormField(name, label, "select", options=("true", "false"), **common)
        return FormField(name, label, "checkbox", default="on" if default else "", **common)
    if annotation in (int, float):
        return FormField(name, label, "number", default=str(default), **common)
    if annotation in (datetime, AwareDatetime):
        return FormField(name, label, "datetime", **common)
    if origin is list and get_args(annotation) == (str,):
        return FormField(name, label, "list", **common)
    if annotation is str:
        return FormField(name, label, "text", default=str(default), **common)
    return FormField(name, label, "json", **common)


def form_of(name: str) -> CommandForm:
    """The form of one command."""
    model = COMMANDS[name]
    fields = tuple(_field(field, info) for field, info in model.model_fields.items())
    title = name.replace("-", " ").capitalize()
    return CommandForm(name, title, HELP.get(name), fields, name in DISRUPTIVE)


FORMS = {name: form_of(name) for name in COMMANDS}


def forms_for(names: frozenset[str] | None) -> dict[str, CommandForm]:
    """The forms of the commands in ``names`` (what the charger's OCPP version can carry,
    from the platform's command catalog); every form when the version is not known."""
    if names is None:
        return FORMS
    return {name: form for name, form in FORMS.items() if name in names}


def _value(field: FormField | None, text: str) -> Any:
    if field is None:
        return text
    if field.kind == "json":
        try:
            return json.loads(text)
        except ValueError:
            if field.name == "data":
                return text  # free data (data-transfer) may be plain text
            raise FormProblem([f"{field.label}: not valid JSON"]) from None
    if field.kind == "list":
        return [part for part in re.split(r"[\s,]+", text) if part]
    if field.kind == "datetime" and _DATETIME_WITHOUT_OFFSET.match(text):
        return text + "Z"  # the form's times are UTC
    return text


def _put(body: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value


def params_of(name: str, form: Mapping[str, str]) -> dict[str, Any]:
    """A command's body from a submitted form, checked as the API checks it.

    Empty inputs are left out; ``a.b`` names fill nested objects. Raises ``FormProblem``.
    """
    spec = FORMS[name]
    fields = {field.name: field for field in spec.fields}
    body: dict[str, Any] = {}
    for key, text in form.items():
        if key == "csrf_token" or not text.strip():
            continue
        top = key.split(".", 1)[0]
        if top not in fields:
            continue
        _put(body, key, _value(fields.get(key), text.strip()))
    try:
        checked = COMMANDS[name].model_validate(body)
    except ValidationError as invalid:
        raise FormProblem(
            [
                f"{'.'.join(str(part) for part in problem['loc']) or 'form'}: {problem['msg']}"
                for problem in invalid.errors()
            ]
        ) from None
    return checked.model_dump(mode="json", exclude_none=True)
