"""Schemas for agencies (admin forms and the API)."""
from __future__ import annotations

from marshmallow import fields
from marshmallow import validate

from praevcase.i18n import N_
from praevcase.schemas import BaseSchema
from praevcase.tenants.models import AgencyKind

#: German labels (API ``kind_label``); pages show ``praevcase.i18n.translated(AGENCY_KIND_LABELS)``.
AGENCY_KIND_LABELS = {
    AgencyKind.jobcenter: N_("Jobcenter"),
    AgencyKind.gesundheitsamt: N_("Gesundheitsamt"),
    AgencyKind.jugendamt: N_("Jugendamt"),
    AgencyKind.kita: N_("Kita"),
    AgencyKind.grundschule: N_("Grundschule"),
    AgencyKind.weiterfuehrende_schule: N_("Weiterführende Schule"),
    AgencyKind.geburtsklinik: N_("Geburtsklinik"),
    AgencyKind.familienbuero: N_("Familienbüro"),
    AgencyKind.freier_traeger: N_("Freier Träger"),
    AgencyKind.bildungsbuero: N_("Bildungsbüro"),
    AgencyKind.schulamt: N_("Schulamt"),
    AgencyKind.praeventionsbuero: N_("Präventionsbüro"),
    AgencyKind.other: N_("Sonstige Stelle"),
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
