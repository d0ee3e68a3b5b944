"""Schemas for agencies (admin forms and the API)."""
from __future__ import annotations

from marshmallow import fields
from marshmallow import validate

from praevcase.schemas import BaseSchema
from praevcase.tenants.models import AgencyKind

AGENCY_KIND_LABELS = {
    AgencyKind.jobcenter: "Jobcenter",
    AgencyKind.gesundheitsamt: "Gesundheitsamt",
    AgencyKind.jugendamt: "Jugendamt",
    AgencyKind.kita: "Kita",
    AgencyKind.grundschule: "Grundschule",
    AgencyKind.weiterfuehrende_schule: "Weiterführende Schule",
    AgencyKind.geburtsklinik: "Geburtsklinik",
    AgencyKind.familienbuero: "Familienbüro",
    AgencyKind.freier_traeger: "Freier Träger",
    AgencyKind.bildungsbuero: "Bildungsbüro",
    AgencyKind.schulamt: "Schulamt",
    AgencyKind.praeventionsbuero: "Präventionsbüro",
    AgencyKind.other: "Sonstige Stelle",
}


class AgencyIn(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    kind = fields.Enum(AgencyKind, required=True)
    sozialraum = fields.String(load_default=None, validate=validate.Length(max=100))
    is_active = fields.Boolean(load_default=True)


class AgencyOut(BaseSchema):
    id = fields.UUID()
    name = fields.String()
    kind = fields.Enum(AgencyKind)
    kind_label = fields.Function(lambda a: AGENCY_KIND_LABELS[a.kind])
    sozialraum = fields.String(allow_none=True)
    is_active = fields.Boolean()
