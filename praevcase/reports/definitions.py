"""Report definitions: one small declarative object per table, grouped into report pages (pure).

A table names a fact *source* (praevcase.reports.queries.SOURCES: one aggregate query each), the
dimensions of its rows and columns and its measure. A source that is not installed yet (sessions,
referrals, contacts, transition protocols) leaves its tables on the page as "noch nicht
verfügbar"; adding it is one entry in SOURCES.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from praevcase.reports.periods import Period

#: Dimension key → German header. Values and their labels come from the vocabulary (queries).
DIMENSIONS: dict[str, str] = {
    "month": "Monat",
    "channel": "Zugang",
    "sozialraum": "Sozialraum",
    "age_phase": "Altersphase",
    "agency": "Aufnehmende Stelle",
    "outcome": "Stand des Falls",
    "consent_event": "Einwilligung",
    "need": "Bedarf",
    "session": "Schnittstellengespräch",
    "offer_type": "Angebotsart",
    "referral_outcome": "Ergebnis der Vermittlung",
    "referral_stage": "Verlauf",
    "institution": "Kita / Schule",
    "u1_state": "Stand Ü1",
    "u2_state": "Stand Ü2",
    "protocol": "Protokoll",
    "timeliness": "Übergabe",
}

#: How "ohne Angabe" (no Sozialraum / no age phase recorded) is written in a query string.
NO_VALUE_ARG = "-"

#: Dimensions a page can be filtered by (besides the period).
FILTER_DIMENSIONS = ("sozialraum", "age_phase", "agency")


@dataclass(frozen=True)
class CountTable:
    """A two-way (or, without ``cols``, one-way) table of counts with totals."""

    key: str
    title: str
    source: str
    rows: str
    cols: str | None = None
    measure: str = "Fälle"
    #: What the period refers to, e.g. "Monat der Aufnahme"
    basis: str = ""
    note: str = ""
    #: "cols": column chart of the column totals; "rows": bar chart of the row totals
    chart: str = "rows"
    #: German: what has to be recorded in praevcase before this table can be filled
    needs_feature: str = ""


@dataclass(frozen=True)
class DurationTable:
    """Days between two events per group: n (protected like any count), median and quartiles."""

    key: str
    title: str
    source: str
    group: str
    basis: str = ""
    note: str = ""
    needs_feature: str = ""


Definition = CountTable | DurationTable


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    lead: str
    tables: tuple[str, ...]


@dataclass(frozen=True)
class Filters:
    """What a page is restricted to: a grid period and at most one value per filter dimension."""

    period: Period
    sozialraum: str | None = None
    age_phase: str | None = None
    agency_id: uuid.UUID | None = None
    #: The intake programme of the Sachbericht
    channel: str | None = None

    def as_args(self) -> dict[str, str]:
        """Query-string arguments that reproduce these filters (links to CSV, PDF, API)."""
        args = {"period": self.period.code}
        for name, value in (("sozialraum", self.sozialraum), ("age_phase", self.age_phase),
                            ("agency", self.agency_id), ("programme", self.channel)):
            if value is not None:
                args[name] = str(value) or NO_VALUE_ARG
        return args


_SCHOOL_YEAR = "Schuljahr, das im gewählten Jahr beginnt (Einschulung bzw. Klasse 5)"

_T = (
    CountTable("intakes", "Aufnahmen nach Zugang und Monat", "cases", rows="channel", cols="month",
               basis="Monat der Aufnahme", chart="cols",
               note="Gezählt sind eingereichte Aufnahmen (ohne Entwürfe), auch wenn die Einwilligung fehlt."),
    CountTable("consent", "Einwilligungen: angefragt, erteilt, abgelehnt, widerrufen", "consent_events",
               rows="consent_event", cols="month", measure="Ereignisse", basis="Monat des Ereignisses"),
    DurationTable("time_to_review", "Zeit von der Aufnahme bis zur Fallbesprechung im Team", "time_to_review",
                  group="month", basis="Monat der Aufnahme",
                  note="Bis zur ersten Entscheidung im Schnittstellengespräch (Lotse zugewiesen, vertagt "
                       "oder abgeschlossen)."),
    DurationTable("time_to_lotse", "Zeit von der Aufnahme bis zur Zuweisung einer Lotsin oder eines Lotsen",
                  "time_to_lotse", group="month", basis="Monat der Aufnahme"),
    DurationTable("time_to_first_contact", "Zeit von der Aufnahme bis zum ersten Kontakt der Lotsin oder des Lotsen",
                  "time_to_first_contact", group="month", basis="Monat der Aufnahme",
                  needs_feature="Kontakte der Lotsinnen und Lotsen"),
    CountTable("cases_per_session", "Fälle je Schnittstellengespräch", "session_cases", rows="session",
               basis="Datum der Sitzung", note="Gezählt sind Sitzungen, die stattgefunden haben."),
    CountTable("outcomes", "Offene und abgeschlossene Fälle nach Stand und Abschlussgrund", "cases",
               rows="outcome", cols="age_phase", basis="Monat der Aufnahme (Stand heute)"),
    CountTable("referrals", "Vermittlungen nach Angebotsart und Ergebnis", "referrals", rows="offer_type",
               cols="referral_outcome", measure="Vermittlungen", basis="Monat der Vermittlung",
               needs_feature="Vermittlungen und Angebote"),
    CountTable("transitions_on_time", "Übergänge: Protokolle vor Schulbeginn übergeben", "transition_steps",
               rows="protocol", cols="timeliness", measure="Protokolle", basis=_SCHOOL_YEAR),
    CountTable("by_sozialraum", "Fälle nach Sozialraum und Altersphase", "cases", rows="sozialraum",
               cols="age_phase", basis="Monat der Aufnahme",
               note="Wohnort der Familie, zusammengefasst zum Sozialraum."),
    CountTable("channel_by_sozialraum", "Aufnahmen nach Zugang und Sozialraum", "cases", rows="channel",
               cols="sozialraum", basis="Monat der Aufnahme"),
    CountTable("outcome_by_channel", "Stand der Fälle nach Zugang", "cases", rows="channel", cols="outcome",
               basis="Monat der Aufnahme (Stand heute)"),
    CountTable("referrals_by_channel", "Vermittlungen nach Zugang und Angebotsart", "referrals", rows="channel",
               cols="offer_type", measure="Vermittlungen", basis="Monat der Vermittlung",
               needs_feature="Vermittlungen und Angebote"),
    CountTable("needs", "Erfasste Bedarfe nach Sozialraum", "needs", rows="need", cols="sozialraum",
               measure="Nennungen", basis="Monat der Aufnahme",
               note="Ein Fall kann mehrere Bedarfe haben; gezählt sind Nennungen."),
    CountTable("unmet_needs", "Bedarfe ohne passendes Angebot nach Altersphase und Sozialraum", "unmet_needs",
               rows="age_phase", cols="sozialraum", measure="Nennungen", basis="Monat der Aufnahme",
               needs_feature="Bedarfe, für die kein passendes Angebot gefunden wurde,"),
    CountTable("waitlists", "Wartelisten nach Angebotsart und Sozialraum", "waitlists", rows="offer_type",
               cols="sozialraum", measure="Vermittlungen", basis="Stand heute",
               needs_feature="Vermittlungen und Angebote"),
    CountTable("sustainability", "Nachhaltigkeit der Vermittlungen: vermittelt, angenommen, nach 6 Monaten aktiv",
               "referral_followup", rows="offer_type", cols="referral_stage", measure="Vermittlungen",
               basis="Monat der Vermittlung", needs_feature="Vermittlungen und Angebote"),
    CountTable("u1_by_kita", "Ü1-Protokolle je Kita", "u1_protocols", rows="institution", cols="u1_state",
               measure="Protokolle", basis=_SCHOOL_YEAR,
               note="Zurückgestellte Kinder zählen im Schuljahr ihrer neuen Einschulung."),
    CountTable("u2_by_school", "Ü2-Protokolle je Grundschule", "u2_protocols", rows="institution", cols="u2_state",
               measure="Protokolle", basis="Jahr des Wechsels in Klasse 5"),
)
TABLES: dict[str, Definition] = {t.key: t for t in _T}

PAGES: dict[str, Page] = {p.key: p for p in (
    Page("fallfluss", "Fallfluss", "Wie Familien in die Präventionskette kommen und wie es weitergeht.",
         ("intakes", "consent", "time_to_review", "time_to_lotse", "time_to_first_contact",
          "cases_per_session", "outcomes", "referrals", "transitions_on_time")),
    Page("sozialraum", "Sozialräume", "Fälle und Zugänge nach dem Wohnort der Familien, zusammengefasst zu "
         "Sozialräumen.", ("by_sozialraum", "channel_by_sozialraum")),
    Page("luecken", "Lückenanalyse", "Welche Bedarfe erfasst wurden und wo passende Angebote fehlen.",
         ("needs", "unmet_needs", "waitlists")),
    Page("nachhaltigkeit", "Nachhaltigkeit der Vermittlungen",
         "Für die jährlichen Auswertungsgespräche: vermittelt, angenommen und nach einigen Monaten noch aktiv.",
         ("sustainability",)),
    Page("uebergaenge", "Übergänge", "Ü1- und Ü2-Protokolle je Kita und Schule, und ob sie vor Schulbeginn "
         "übergeben wurden. Es zählt das Schuljahr, das im gewählten Jahr beginnt.",
         ("u1_by_kita", "u2_by_school", "transitions_on_time")),
)}

#: The Sachbericht shows, per intake programme, rows of these tables (one protected table each).
SACHBERICHT_TABLES = (("Fallzahlen je Monat", "intakes"),
                      ("Wohnort der Familien nach Sozialraum", "channel_by_sozialraum"),
                      ("Stand der Fälle", "outcome_by_channel"),
                      ("Vermittlungen nach Angebotsart", "referrals_by_channel"))
