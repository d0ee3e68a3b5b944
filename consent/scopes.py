"""Vocabulary of consent scopes: purposes, data categories, legal bases, states.

The enums mix in ``str`` with member name == value: the value is what the database
and the transitions library store, and a member compares equal to its code string.
``LABELS`` holds the German UI text for every member of every enum here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


# Not enum.StrEnum: the brief asks for the (str, Enum) mixin, which SQLAlchemy's
# Enum type and transitions handle by member name.
class _Code(str, enum.Enum):  # noqa: UP042
    """A str enum whose str() is the bare code (Python 3.11 would print Class.member)."""

    def __str__(self) -> str:
        return str.__str__(self)

    @property
    def label(self) -> str:
        """German UI label of this member."""
        return LABELS[self]


class Purpose(_Code):
    """Why data is processed; consent is given per purpose (no bundling, SR-02)."""

    team_review = "team_review"
    lotse_support = "lotse_support"
    referral = "referral"
    transition_u1 = "transition_u1"
    transition_u2 = "transition_u2"
    health_data_sharing = "health_data_sharing"
    evaluation = "evaluation"


class DataCategory(_Code):
    """What kind of personal data is accessed; gated separately (SR-13)."""

    identity = "identity"
    contact = "contact"
    family_situation = "family_situation"
    health = "health"
    education = "education"
    case_notes = "case_notes"


class LegalBasis(_Code):
    """On what ground an access is lawful; recorded with every access (SR-14)."""

    consent = "consent"
    own_agency = "own_agency"
    child_welfare_8a = "child_welfare_8a"
    school_law = "school_law"
    #: The family's right of access (Art. 15 DSGVO): only the dpo may invoke it
    subject_access = "subject_access"


class ConsentState(_Code):
    """State of one consent version at a point in time.

    ``pending`` (valid_from still in the future) extends the four states of the
    brief: a consent recorded today for a handover next month is neither active nor
    any of the ended states.
    """

    active = "active"
    pending = "pending"
    expired = "expired"
    withdrawn = "withdrawn"
    superseded = "superseded"


# Art. 9 DSGVO special categories: need explicit consent for a specified purpose.
SPECIAL_CATEGORIES: frozenset[DataCategory] = frozenset({DataCategory.health})

# Roles that administer, audit or count but never see case content (SR-17, SR-22).
CONTENT_BLIND_ROLES: frozenset[str] = frozenset({"admin", "dpo", "statistics"})

LABELS: Mapping[_Code, str] = MappingProxyType({
    Purpose.team_review: "Fallberatung im Präventionsteam (Schnittstellengespräch)",
    Purpose.lotse_support: "Begleitung durch eine Lotsin/einen Lotsen",
    Purpose.referral: "Vermittlung an Angebote",
    Purpose.transition_u1: "Übergabe Ü1-Protokoll Kita → Grundschule",
    Purpose.transition_u2: "Übergabe Ü2-Protokoll Grundschule → weiterführende Schule",
    Purpose.health_data_sharing: "Weitergabe von Gesundheitsdaten",
    Purpose.evaluation: "Anonymisierte Auswertung / Nachbefragung",
    DataCategory.identity: "Name, Geburtsdatum",
    DataCategory.contact: "Anschrift, Telefon",
    DataCategory.family_situation: "Lebenslage, Bedarfe, Beobachtungen",
    DataCategory.health: "Gesundheitsdaten, Untersuchungsbefunde (Art. 9 DSGVO)",
    DataCategory.education: "Entwicklungs- und Bildungsdokumentation (Ü1/Ü2)",
    DataCategory.case_notes: "Notizen der Fallberatung, Kontakte",
    LegalBasis.consent: "Einwilligung (Art. 6 Abs. 1 lit. a / Art. 9 Abs. 2 lit. a DSGVO, "
    "§ 67b SGB X)",
    LegalBasis.own_agency: "Eigene Aufgabenerfüllung der erhebenden Stelle",
    LegalBasis.child_welfare_8a: "§ 8a SGB VIII / § 4 KKG – Schutzauftrag bei "
    "Kindeswohlgefährdung",
    LegalBasis.school_law: "Schulgesetz NRW (Übermittlung zwischen Schulen)",
    LegalBasis.subject_access: "Auskunftsrecht der betroffenen Person, Art. 15 DSGVO",
    ConsentState.active: "Gültig",
    ConsentState.pending: "Noch nicht gültig",
    ConsentState.expired: "Abgelaufen",
    ConsentState.withdrawn: "Widerrufen",
    ConsentState.superseded: "Durch neue Fassung ersetzt",
})
