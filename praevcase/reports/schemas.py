"""Filters of the reports, the denominator form, and the API's output (aggregates only)."""
from __future__ import annotations

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates

from praevcase.reports.models import DENOMINATOR_KINDS
from praevcase.reports.periods import InvalidPeriod
from praevcase.reports.periods import Period
from praevcase.schemas import BaseSchema

_PERIOD_HELP = "Zeitraum im Raster: 2026 (Jahr), 2026-H1 (Halbjahr) oder 2026-Q3 (Quartal)"


class ReportFilterIn(BaseSchema):
    """Query-string filters of every report (web and API)."""

    period = fields.String(metadata={"description": _PERIOD_HELP})
    sozialraum = fields.String(validate=validate.Length(1, 100),
                               metadata={"description": "ein Sozialraum der Kommune; '-' = ohne Angabe"})
    age_phase = fields.String(validate=validate.Length(1, 40),
                              metadata={"description": "Altersphase (Code); '-' = ohne Angabe"})
    agency = fields.UUID(metadata={"description": "aufnehmende Stelle (id)"})
    programme = fields.String(validate=validate.Length(1, 40),
                              metadata={"description": "Zugang (Code) für den Sachbericht"})

    @validates("period")
    def _period(self, value: str, **kwargs: object) -> None:
        try:
            Period.parse(value)
        except InvalidPeriod:
            raise ValidationError("Bitte einen Zeitraum aus der Liste wählen (Jahr, Halbjahr oder Quartal).") from None


class DenominatorIn(BaseSchema):
    """A reference number for a reach rate (e.g. births of 2025 in the whole Kreis)."""

    programme = fields.String(required=True, validate=validate.Length(1, 40))
    kind = fields.String(required=True, validate=validate.OneOf(list(DENOMINATOR_KINDS)))
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    half = fields.Integer(load_default=0, validate=validate.OneOf([0, 1, 2]))
    sozialraum = fields.String(load_default="", validate=validate.Length(0, 100))
    value = fields.Integer(required=True, validate=validate.Range(1, 10_000_000,
                                                                  error="Bitte eine Zahl größer als 0 angeben."))
    source_note = fields.String(load_default=None, validate=validate.Length(0, 200))


# --- API output --------------------------------------------------------------------------------

_NULL = "null = unterdrückt (Wert unter k oder ergänzend unterdrückt)"


class ItemOut(BaseSchema):
    key = fields.String()
    label = fields.String()


class CountRowOut(BaseSchema):
    key = fields.String()
    label = fields.String()
    values = fields.List(fields.Integer(allow_none=True), metadata={"description": _NULL})
    total = fields.Integer(allow_none=True, metadata={"description": _NULL})


class DurationGroupOut(BaseSchema):
    key = fields.String()
    label = fields.String()
    n = fields.Integer(allow_none=True, metadata={"description": _NULL})
    median_days = fields.Float(allow_none=True)
    p25_days = fields.Float(allow_none=True)
    p75_days = fields.Float(allow_none=True)


class ListItemOut(BaseSchema):
    key = fields.String()
    label = fields.String()
    value = fields.Integer(allow_none=True, metadata={"description": _NULL})


class TableOut(BaseSchema):
    """One protected table. ``kind`` says which of the other fields are filled."""

    key = fields.String()
    title = fields.String()
    kind = fields.String(metadata={"description": "counts | durations | list | unavailable"})
    measure = fields.String()
    basis = fields.String(metadata={"description": "worauf sich der Zeitraum bezieht"})
    note = fields.String()
    k = fields.Integer(metadata={"description": "Mindestfallzahl des Mandanten"})
    method = fields.String(metadata={"description": "Verfahren der Geheimhaltung, ein Satz"})
    columns = fields.List(fields.Nested(ItemOut))
    rows = fields.List(fields.Nested(CountRowOut))
    column_totals = fields.List(fields.Integer(allow_none=True))
    grand_total = fields.Integer(allow_none=True)
    groups = fields.List(fields.Nested(DurationGroupOut))
    overall = fields.Nested(DurationGroupOut)
    entries = fields.List(fields.Nested(ListItemOut), metadata={"description": "kind list: die Werte"})
    total = fields.Integer(allow_none=True)
    message = fields.String()


class PeriodOut(BaseSchema):
    code = fields.String()
    label = fields.String()


class ReportOut(BaseSchema):
    """A report page: its tables under one set of filters."""

    key = fields.String()
    title = fields.String()
    period = fields.Nested(PeriodOut)
    filters = fields.Dict(keys=fields.String(), values=fields.String())
    tables = fields.List(fields.Nested(TableOut))


class ReachRowOut(BaseSchema):
    programme = fields.String()
    programme_label = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    sozialraum = fields.String(metadata={"description": "leer = ganze Kommune"})
    numerator = fields.Integer(allow_none=True, metadata={"description": _NULL})
    denominator = fields.Integer()
    percent = fields.Float(allow_none=True, metadata={"description": "auf eine Nachkommastelle"})
    display = fields.String(metadata={"description": "z. B. 774/977 = 79,2 %"})
    source_note = fields.String(allow_none=True)


class ReachOut(BaseSchema):
    period = fields.Nested(PeriodOut)
    k = fields.Integer()
    method = fields.String()
    rates = fields.List(fields.Nested(ReachRowOut))


class CatalogueOut(BaseSchema):
    pages = fields.List(fields.Dict())
    tables = fields.List(fields.Dict())
