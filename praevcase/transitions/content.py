"""What a protocol contains: the default templates (NRW) and the form schema built from a template."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from praevcase.schemas import BaseSchema
from praevcase.transitions.models import ProtocolKind

#: The ten educational areas of the NRW Bildungsgrundsätze (Ü1)
NRW_AREAS = [
    "Bewegung",
    "Körper, Gesundheit und Ernährung",
    "Sprache und Kommunikation",
    "Soziale und (inter-)kulturelle Bildung",
    "Musisch-ästhetische Bildung",
    "Religion und Ethik",
    "Mathematische Bildung",
    "Naturwissenschaftlich-technische Bildung",
    "Ökologische Bildung",
    "Medien",
]
U1_SCALE = ["sicher, altersgemäß", "in Entwicklung", "braucht Unterstützung", "nicht beobachtet"]
U2_AREAS = ["Arbeitsverhalten", "Sozialverhalten", "Leistungsstand Deutsch", "Leistungsstand Mathematik"]
U2_SCALE = ["deutlich ausgeprägt", "ausgeprägt", "wenig ausgeprägt", "Förderbedarf"]
U2_RECOMMENDATIONS = [
    "Gymnasium",
    "Realschule",
    "Hauptschule",
    "Realschule, eingeschränkt auch Gymnasium",
    "Hauptschule, eingeschränkt auch Realschule",
]

TEXT_MAX = 4000


def key_of(label: str) -> str:
    """A stable ASCII key for a label ("Körper, Gesundheit …" → "koerper_gesundheit_…")."""
    text = label.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:40] or "bereich"


def options(labels: list[str]) -> list[dict[str, str]]:
    """Labels as [{"key", "label"}] with unique keys."""
    out, seen = [], set()
    for label in labels:
        key = key_of(label)
        while key in seen:
            key += "_"
        seen.add(key)
        out.append({"key": key, "label": label})
    return out


def default_template(kind: ProtocolKind) -> dict[str, list[dict[str, str]]]:
    if kind is ProtocolKind.u1:
        return {"areas": options(NRW_AREAS), "scale": options(U1_SCALE), "recommendations": []}
    return {"areas": options(U2_AREAS), "scale": options(U2_SCALE), "recommendations": options(U2_RECOMMENDATIONS)}


def content_schema(kind: ProtocolKind, template: Any) -> BaseSchema:
    """The form of a protocol: per area a level of the scale and a note, plus the kind's own fields.

    Field names are flat (``level_<area>``, ``note_<area>``) so the same schema reads an HTML form.
    """
    scale = [o["key"] for o in template.scale]
    attrs: dict[str, Any] = {"expected_version": fields.Integer(load_default=None)}
    for area in template.areas:
        attrs[f"level_{area['key']}"] = fields.String(load_default=None, validate=validate.OneOf(
            scale, error="Bitte einen Wert der Skala wählen."))
        attrs[f"note_{area['key']}"] = fields.String(load_default="", validate=validate.Length(max=TEXT_MAX))
    if kind is ProtocolKind.u1:
        attrs["support"] = fields.String(load_default="", validate=validate.Length(max=TEXT_MAX))
        attrs["interests"] = fields.String(load_default="", validate=validate.Length(max=TEXT_MAX))
    else:
        attrs["recommendation"] = fields.String(load_default=None, validate=validate.OneOf(
            [o["key"] for o in template.recommendations], error="Bitte eine der angebotenen Schulformen wählen."))
        attrs["reasoning"] = fields.String(load_default="", validate=validate.Length(max=TEXT_MAX))

        @validates_schema
        def _reasoned(self: Any, data: dict[str, Any], **kwargs: Any) -> None:
            if data.get("recommendation") and not data.get("reasoning", "").strip():
                raise ValidationError("Die Empfehlung muss begründet werden.", "reasoning")

        attrs["_reasoned"] = _reasoned
    return BaseSchema.from_dict(attrs, name=f"{kind.value.upper()}ContentIn")()


def content_from_form(kind: ProtocolKind, template: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The stored JSON shape of validated form *data*."""
    content: dict[str, Any] = {
        "areas": {a["key"]: {"level": data.get(f"level_{a['key']}"), "note": data.get(f"note_{a['key']}", "")}
                  for a in template.areas},
    }
    if kind is ProtocolKind.u1:
        content.update(support=data.get("support", ""), interests=data.get("interests", ""))
    else:
        content.update(recommendation=data.get("recommendation"), reasoning=data.get("reasoning", ""))
    return content


def form_from_content(content: dict[str, Any] | None) -> dict[str, Any]:
    """Form values of stored *content* (to edit the latest version)."""
    if not content:
        return {}
    form = {k: v for k, v in content.items() if k != "areas" and v is not None}
    for key, entry in content.get("areas", {}).items():
        if entry.get("level"):
            form[f"level_{key}"] = entry["level"]
        form[f"note_{key}"] = entry.get("note", "")
    return form


def has_reasoned_recommendation(content: dict[str, Any]) -> bool:
    return bool(content.get("recommendation")) and bool((content.get("reasoning") or "").strip())
