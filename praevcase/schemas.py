"""Base schema: unknown fields are refused, messages are German (shared by forms and API).

The messages are msgids (``N_``): form pages show them translated (the ``translate`` filter).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import pre_load

from praevcase.i18n import N_

_FIELD_MESSAGES: dict[type, dict[str, str]] = {
    fields.Field: {
        "required": N_("Dieses Feld ist ein Pflichtfeld."),
        "null": N_("Dieses Feld darf nicht leer sein."),
        "validator_failed": N_("Ungültiger Wert."),
    },
    fields.String: {"invalid": N_("Bitte einen Text angeben."), "invalid_utf8": N_("Ungültiger Text.")},
    fields.Integer: {"invalid": N_("Bitte eine ganze Zahl angeben."), "too_large": N_("Die Zahl ist zu groß.")},
    fields.Float: {"invalid": N_("Bitte eine Zahl angeben."), "special": N_("Bitte eine Zahl angeben.")},
    fields.Boolean: {"invalid": N_("Bitte ja oder nein angeben.")},
    fields.Date: {"invalid": N_("Bitte ein gültiges Datum angeben."),
                  "format": N_("Bitte ein gültiges Datum angeben.")},
    fields.DateTime: {"invalid": N_("Bitte einen gültigen Zeitpunkt angeben."),
                      "format": N_("Bitte einen gültigen Zeitpunkt angeben.")},
    fields.Email: {"invalid": N_("Bitte eine gültige E-Mail-Adresse angeben.")},
    fields.UUID: {"invalid_uuid": N_("Ungültige Kennung.")},
    fields.List: {"invalid": N_("Bitte eine Liste angeben.")},
    fields.Nested: {"type": N_("Ungültige Angabe.")},
    fields.Enum: {"unknown": N_("Bitte einen der angebotenen Werte wählen.")},
}


class BaseSchema(Schema):
    """Every *In / *Out schema derives from this one."""

    class Meta:
        unknown = RAISE

    error_messages = {
        "unknown": N_("Unbekanntes Feld."),
        "type": N_("Ungültige Eingabedaten."),
    }

    @pre_load
    def _refuse_nul(self, data: Any, **kwargs: Any) -> Any:
        """A NUL character (0x00) cannot be stored or compared in PostgreSQL text: invalid input (422), not a 500."""
        if isinstance(data, Mapping):
            bad = [key for key in data if _has_nul(data[key])]
            if bad:
                raise ValidationError({key: [N_("Ungültiger Text.")] for key in bad})
        return data

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        german: dict[str, str] = {}
        defaults: dict[str, str] = {}
        for klass in reversed(type(field_obj).__mro__):
            german.update(_FIELD_MESSAGES.get(klass, {}))
            defaults.update(getattr(klass, "default_error_messages", {}))
        # messages a schema set explicitly on the field win over the German defaults
        explicit = {k: v for k, v in field_obj.error_messages.items() if defaults.get(k) != v}
        field_obj.error_messages = {**field_obj.error_messages, **german, **explicit}


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def form_data(form: Any, schema: Schema) -> dict[str, Any]:
    """Turn a submitted HTML form into schema input.

    Drops the CSRF token and empty values (so a blank optional field is simply absent), and
    keeps lists only for list fields.
    """
    out: dict[str, Any] = {}
    for key in form.keys():
        if key == "csrf_token":
            continue
        field = schema.fields.get(key)
        if isinstance(field, fields.List):
            values = [v for v in form.getlist(key) if v != ""]
            out[key] = values
        else:
            value = form.get(key, "")
            if value.strip() == "":
                continue
            out[key] = value
    for name, field in schema.fields.items():
        # an unchecked checkbox sends nothing; a boolean field means "no" then
        if isinstance(field, fields.Boolean) and name not in out and not field.dump_only:
            out[name] = False
    return out
