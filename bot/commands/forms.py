"""``/ops run`` without all parameters: a form built from the remediation's params model.

Each pydantic field becomes one input: ``str`` a text input, ``int``/``float`` a number input,
a ``Literal`` or ``Enum`` a select of its choices, lists comma-separated text, dicts JSON text.
Defaults (and whatever the command already gave) are the initial values; fields without a
default are required. The submission is validated by the same model, and each pydantic error
becomes a field error under its input (block id = field name).

What the form is for (remediation, account, region, channel, who asked) is sealed into its
``private_metadata`` when the command opens it; the submission re-authorizes the submitting user
and then goes through exactly what a complete ``/ops run`` does (``run.propose_and_request``).

Example::

    missing_required(rem, {"instance_id": "i-0abc"})   # → False: no form needed
    fields = form_fields(rem, {"group_id": "sg-1"})   # → [FormField("group_id", …), FormField("ports", …)]
"""

from __future__ import annotations

import enum
import json
import logging
import types
import typing
from typing import Any, Literal

from pydantic import ValidationError
from pydantic_core import PydanticUndefined

from bot.commands.base import Invocation, Reply
from bot.commands.output import code, esc, message
from bot.slack.modals import FormField, params_view, seal

log = logging.getLogger("eventops.commands")


def missing_required(rem: Any, given: dict[str, Any]) -> bool:
    """True when a required parameter of ``rem`` was not given."""
    return any(info.is_required() and name not in given for name, info in rem.Params.model_fields.items())


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` → (X, True); anything else → (annotation, False)."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else str), True
    return annotation, False


def _shape(annotation: Any) -> tuple[str, tuple[str, ...], bool]:
    """(kind, choices, decimal) of a field's type for ``FormField``."""
    inner, _ = _unwrap(annotation)
    origin = typing.get_origin(inner)
    if origin is Literal:
        return "select", tuple(str(a) for a in typing.get_args(inner)), False
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        return "select", tuple(str(m.value) for m in inner), False
    if inner is bool:
        return "select", ("true", "false"), False
    if inner is int:
        return "number", (), False
    if inner is float:
        return "number", (), True
    if origin is list:
        return "list", (), False
    if origin is dict:
        return "json", (), False
    return "text", (), False


def _initial(value: Any) -> str | None:
    if value is None or value is PydanticUndefined:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or None
    if isinstance(value, dict):
        return json.dumps(value) if value else None
    return str(value)


def form_fields(rem: Any, given: dict[str, Any]) -> list[FormField]:
    """One ``FormField`` per parameter of ``rem``, initial values from ``given`` or the defaults."""
    out = []
    for name, info in rem.Params.model_fields.items():
        kind, choices, decimal = _shape(info.annotation)
        default = info.get_default(call_default_factory=True) if not info.is_required() else None
        hint = {"list": "Comma-separated.", "json": "A JSON object."}.get(kind, "")
        if info.description:
            hint = f"{info.description[:1].upper()}{info.description[1:]}. {hint}".strip()
        out.append(
            FormField(
                name=name,
                label=name.replace("_", " "),
                kind={"list": "text", "json": "text"}.get(kind, kind),
                required=info.is_required(),
                initial=_initial(given.get(name, default)),
                choices=choices,
                decimal=decimal,
                hint=hint,
            )
        )
    return out


def open_params_form(inv: Invocation, rem: Any, given: dict[str, Any], account: str, region: str) -> Reply:
    """Open the form (views.open with the command's trigger_id); the reply says what happened."""
    if not inv.trigger_id:
        raise inv.usage_error(
            f"`{esc(inv.slash)} run {esc(rem.name)}` needs all its parameters: {_required_list(rem)}."
        )
    meta = seal(
        inv.rt.secrets.signing_secret,
        {
            "kind": "run",
            "rem": rem.name,
            "account": account,
            "region": region,
            "user": inv.actor.user_id,
            "channel": inv.channel,
        },
    )
    summary = f"*{rem.title}* ({rem.risk.value} risk) in {account} / {region}. {_first_line(rem)}"
    view = params_view(rem.title, summary, form_fields(rem, given), meta)
    try:
        inv.rt.slack.open_view(inv.trigger_id, view)
    except Exception as exc:  # noqa: BLE001 - say so; nothing was proposed
        log.warning("views.open for /ops run %s failed: %s", rem.name, exc)
        return message(f":warning: The form for {code(rem.name)} could not be opened ({esc(exc)}); please try again.")
    return message(f"A form for {code(rem.name)} is open: fill in {_required_list(rem)} and press Run.")


def _required_list(rem: Any) -> str:
    return ", ".join(code(n) for n, i in rem.Params.model_fields.items() if i.is_required()) or "its parameters"


def _first_line(rem: Any) -> str:
    return ((type(rem).__doc__ or "").strip().splitlines() or [""])[0]


def params_from_form(rem: Any, values: dict[str, Any]) -> tuple[Any | None, dict[str, str]]:
    """(the validated params, {}) or (None, {field: error}) from a submitted form's values."""
    raw: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, info in rem.Params.model_fields.items():
        value = values.get(name)
        if not isinstance(value, str) or not value.strip():
            continue  # left empty: the default applies, or the model says it is required
        kind = _shape(info.annotation)[0]
        if kind == "list":
            raw[name] = [v.strip() for v in value.split(",") if v.strip()]
        elif kind == "json":
            try:
                raw[name] = json.loads(value)
            except ValueError:
                errors[name] = "Not valid JSON."
        else:
            raw[name] = value.strip()
    if errors:
        return None, errors
    try:
        return rem.Params.model_validate(raw), {}
    except ValidationError as exc:
        first_field = next(iter(rem.Params.model_fields), "")
        for err in exc.errors():
            loc = err.get("loc") or ()
            name = str(loc[0]) if loc and str(loc[0]) in rem.Params.model_fields else first_field
            errors.setdefault(name, _say(err))
        return None, errors


def _say(err: Any) -> str:
    if err.get("type") == "missing":
        return "Required."
    return str(err.get("msg") or "Invalid value.")[:300]
