"""Vocabulary of the offers catalogue: offer types, fields of action, prevention standards, providers.

Codes are stored and sent over the API; every code has a German label. Values follow
practice-brief §6 (the generic offer types of §6.2, the catalogue sketch of §6.3). The age phases
are those of the case (praevcase.cases.catalogue.AgePhase), so an offer and a case can be matched.
"""
from __future__ import annotations

import enum

from praevcase.cases.catalogue import AGE_PHASE_LABELS
from praevcase.cases.catalogue import AgePhase
from praevcase.cases.catalogue import Need
from praevcase.i18n import N_

__all__ = ["AGE_PHASE_LABELS", "NEED_OFFER_TYPES", "AgePhase", "FieldOfAction", "OfferType", "ProviderType",
           "Standard"]


class OfferType(str, enum.Enum):
    """Kinds of offer (practice-brief §6.2, plus the kinds of the named offers of §6.1).

    Reports count referrals per type (``offers.offer_type``), so codes are never renamed.
    """

    schwangerenberatung = "schwangerenberatung"
    geburtsklinik_hebamme = "geburtsklinik_hebamme"
    willkommensbesuch = "willkommensbesuch"
    babyclub = "babyclub"
    elternbildung = "elternbildung"
    familienbildung = "familienbildung"
    fruehe_hilfen = "fruehe_hilfen"
    kita_platz = "kita_platz"
    sprachfoerderung = "sprachfoerderung"
    sprechstunde_kita = "sprechstunde_kita"
    erziehungsberatung = "erziehungsberatung"
    volkshochschule = "volkshochschule"
    ganztag_schulsozialarbeit = "ganztag_schulsozialarbeit"
    lernfoerderung = "lernfoerderung"
    bildungsbegleitung = "bildungsbegleitung"
    uebergangsbegleitung = "uebergangsbegleitung"
    schnuppertage_paten = "schnuppertage_paten"
    soziale_kompetenz = "soziale_kompetenz"
    freizeit = "freizeit"
    beteiligung = "beteiligung"
    berufsorientierung = "berufsorientierung"
    jugendarbeit = "jugendarbeit"
    sprach_kulturmittlung = "sprach_kulturmittlung"
    kurberatung = "kurberatung"
    therapie = "therapie"
    anlaufstelle = "anlaufstelle"
    sonstiges = "sonstiges"


OFFER_TYPE_LABELS: dict[OfferType, str] = {
    OfferType.schwangerenberatung: N_("Schwangeren- und Schwangerschaftskonfliktberatung"),
    OfferType.geburtsklinik_hebamme: N_("Unterstützung in der Geburtsklinik, (Familien-)Hebammen"),
    OfferType.willkommensbesuch: N_("Willkommens- und Begrüßungsbesuche"),
    OfferType.babyclub: N_("Babyclub"),
    OfferType.elternbildung: N_("Elternschule, Elterncafé, Elternkurs"),
    OfferType.familienbildung: N_("Krabbelgruppe, Ernährung und Bewegung, Familienbildung"),
    OfferType.fruehe_hilfen: N_("Frühe Hilfen (0–3), Frühförderung"),
    OfferType.kita_platz: N_("Kita-Platz, Kindertagespflege, Familienzentrum"),
    OfferType.sprachfoerderung: N_("Sprachförderung"),
    OfferType.sprechstunde_kita: N_("Sprechstunde in Kita oder Familienzentrum"),
    OfferType.erziehungsberatung: N_("Erziehungsberatung, Familienhilfe, Hilfen zur Erziehung"),
    OfferType.volkshochschule: N_("Volkshochschule"),
    OfferType.ganztag_schulsozialarbeit: N_("Offener Ganztag, Schulsozialarbeit, Familiengrundschule"),
    OfferType.lernfoerderung: N_("Lernförderung (Bildungs- und Teilhabepaket)"),
    OfferType.bildungsbegleitung: N_("Bildungsbegleitung, Fallmanagement"),
    OfferType.uebergangsbegleitung: N_("Übergangsbegleitung (Kita → Grundschule → weiterführende Schule)"),
    OfferType.schnuppertage_paten: N_("Schnuppertage, Patenmodelle"),
    OfferType.soziale_kompetenz: N_("Soziale Kompetenzen („Knigge-Kurs“)"),
    OfferType.freizeit: N_("Sportverein, Musikschule, Kultur und Freizeit"),
    OfferType.beteiligung: N_("Beteiligung von Kindern und Jugendlichen"),
    OfferType.berufsorientierung: N_("Berufsorientierung, Praktika, Freiwilligendienste"),
    OfferType.jugendarbeit: N_("Jugendzentrum, Jugendarbeit"),
    OfferType.sprach_kulturmittlung: N_("Migrationsdienst, Sprach- und Kulturmittlung, Dolmetscherpool"),
    OfferType.kurberatung: N_("Kurberatung"),
    OfferType.therapie: N_("Therapie (Logopädie, Ergotherapie, Psychotherapie)"),
    OfferType.anlaufstelle: N_("Anlaufstelle, Familienbüro"),
    OfferType.sonstiges: N_("Sonstiges"),
}


_T = OfferType
#: Which kinds of offer answer which recorded need. The gap report counts a need as unmet when the
#: catalogue has no active offer of these kinds for the case's age phase and the family's Sozialraum
#: (an offer without age phases or Sozialräume is open to all).
NEED_OFFER_TYPES: dict[Need, frozenset[OfferType]] = {
    Need.kita_platz: frozenset({_T.kita_platz}),
    Need.sprachfoerderung: frozenset({_T.sprachfoerderung, _T.sprechstunde_kita, _T.sprach_kulturmittlung,
                                      _T.volkshochschule}),
    Need.gesundheit: frozenset({_T.geburtsklinik_hebamme, _T.fruehe_hilfen, _T.therapie, _T.kurberatung}),
    Need.erziehung: frozenset({_T.erziehungsberatung, _T.elternbildung, _T.familienbildung, _T.babyclub,
                               _T.willkommensbesuch}),
    Need.psychosoziale_belastung: frozenset({_T.fruehe_hilfen, _T.erziehungsberatung, _T.schwangerenberatung,
                                             _T.kurberatung, _T.therapie, _T.anlaufstelle}),
    Need.materielle_lage: frozenset({_T.anlaufstelle, _T.schwangerenberatung}),
    Need.wohnen: frozenset({_T.anlaufstelle}),
    Need.bildung: frozenset({_T.lernfoerderung, _T.bildungsbegleitung, _T.uebergangsbegleitung,
                             _T.schnuppertage_paten, _T.ganztag_schulsozialarbeit, _T.berufsorientierung,
                             _T.volkshochschule}),
    Need.teilhabe: frozenset({_T.freizeit, _T.jugendarbeit, _T.beteiligung, _T.soziale_kompetenz, _T.babyclub}),
    Need.sonstiges: frozenset(OfferType),
}

class FieldOfAction(str, enum.Enum):
    """Handlungsfelder of the prevention chain (practice-brief §6.3)."""

    gesundheit = "gesundheit"
    kinder_jugendhilfe = "kinder_jugendhilfe"
    bildung = "bildung"
    soziales = "soziales"
    sport = "sport"
    kultur = "kultur"


FIELD_LABELS: dict[FieldOfAction, str] = {
    FieldOfAction.gesundheit: "Gesundheit",
    FieldOfAction.kinder_jugendhilfe: "Kinder- und Jugendhilfe",
    FieldOfAction.bildung: "Bildung",
    FieldOfAction.soziales: "Soziales",
    FieldOfAction.sport: "Sport",
    FieldOfAction.kultur: "Kultur",
}


class Standard(str, enum.Enum):
    """Präventionsstandards an offer serves ("Das ist besonders gut!", practice-brief §6.3, §9)."""

    beteiligungsorientierung = "beteiligungsorientierung"
    eltern_staerken_kinder_staerken = "eltern_staerken_kinder_staerken"
    aufsuchender_ansatz = "aufsuchender_ansatz"
    ungleiches_ungleich_behandeln = "ungleiches_ungleich_behandeln"
    soziale_inklusion = "soziale_inklusion"
    uebergaenge_fliessend = "uebergaenge_fliessend"
    multiprofessionelle_zusammenarbeit = "multiprofessionelle_zusammenarbeit"
    hauptamtliche_koordination = "hauptamtliche_koordination"


STANDARD_LABELS: dict[Standard, str] = {
    Standard.beteiligungsorientierung: "Beteiligungsorientierung",
    Standard.eltern_staerken_kinder_staerken: "Eltern stärken – Kinder stärken",
    Standard.aufsuchender_ansatz: "Aufsuchender Ansatz",
    Standard.ungleiches_ungleich_behandeln: "Ungleiches ungleich behandeln",
    Standard.soziale_inklusion: "Soziale Inklusion",
    Standard.uebergaenge_fliessend: "Übergänge fließend gestalten",
    Standard.multiprofessionelle_zusammenarbeit: "Multiprofessionelle Zusammenarbeit",
    Standard.hauptamtliche_koordination: "Hauptamtliche Koordination",
}


class ProviderType(str, enum.Enum):
    """Kind of provider (practice-brief §6.3)."""

    oeffentlich = "oeffentlich"
    frei = "frei"
    gesundheitswesen = "gesundheitswesen"
    schule = "schule"
    ehrenamt = "ehrenamt"


PROVIDER_TYPE_LABELS: dict[ProviderType, str] = {
    ProviderType.oeffentlich: "Öffentlicher Träger",
    ProviderType.frei: "Freier Träger",
    ProviderType.gesundheitswesen: "Gesundheitswesen",
    ProviderType.schule: "Schule, Kita",
    ProviderType.ehrenamt: "Ehrenamt, Verein",
}


def labels(codes: list[str], table: dict) -> list[str]:
    """German labels of stored codes (unknown codes are shown as they are)."""
    by_value = {k.value: v for k, v in table.items()}
    return [by_value.get(c, c) for c in codes]


def options(table: dict) -> list[tuple[str, str]]:
    """(code, label) pairs for a form, in declaration order."""
    return [(k.value, v) for k, v in table.items()]


def offer_type_label(code: str | None) -> str:
    return labels([code], OFFER_TYPE_LABELS)[0] if code else ""
