"""Catalogue data of the demo tenant: the named practice offers and the generic offer types.

From practice-brief §6.1 (named offers, with the municipality they come from and the standards
they are tagged with) and §6.2 (generic offer types, here as offers of the demo Kreis's agencies
or of free providers). Loaded by key, so running it again adds only what is missing.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.offers.models import Offer
from praevcase.offers.operations import create_offer
from praevcase.tenancy import scoped
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant

_SG, _KITA, _GS, _JUG = "schwangerschaft_geburt", "kita", "grundschule", "jugendphase"
_ALL = [_SG, _KITA, _GS, _JUG]
_BET, _ELT, _AUF, _UNG = ("beteiligungsorientierung", "eltern_staerken_kinder_staerken", "aufsuchender_ansatz",
                          "ungleiches_ungleich_behandeln")
_INK, _UEB, _MUL, _KOO = ("soziale_inklusion", "uebergaenge_fliessend", "multiprofessionelle_zusammenarbeit",
                          "hauptamtliche_koordination")

#: (key, name, type, phases, fields, provider, municipality, access, standards, source, description)
NAMED: list[tuple[Any, ...]] = [
    ("screening-geburtskliniken-moers", "Screeningverfahren in Geburtskliniken (KinderZUKUNFT NRW)",
     "geburtsklinik_hebamme", [_SG], ["gesundheit", "kinder_jugendhilfe"], "Städtische Geburtskliniken und lokales "
     "Netzwerk", "Moers", "in der Klinik, freiwillig", [_AUF, _ELT], "001:1387-1412",
     "Screening nach der Geburt mit Vier-Augen-Prinzip und Fallnummer; über 95 % der Eltern sind bereit."),
    ("famos-kreis-unna", "FamoS – Familienorientierter Start", "fruehe_hilfen", [_SG],
     ["gesundheit", "kinder_jugendhilfe"], "Netzwerk Frühe Hilfen/Kinderschutz mit Kliniken, Jugendämtern und "
     "Familienhebamme", "Kommunen im Kreis Unna", "in der Klinik, kostenfrei", [_AUF, _ELT], "001:1414-1435",
     "Beratung rund um die Geburt; 774 von 977 Geburten erreicht (rund 80 %)."),
    ("willkommensbesuch-gelsenkirchen", "Willkommensbesuch (Begrüßungshausbesuche)", "willkommensbesuch", [_SG],
     ["kinder_jugendhilfe"], "Team Familienförderung/Familienbildung", "Gelsenkirchen",
     "Hausbesuch 1–8 Wochen nach der ersten Geburt", [_AUF, _ELT], "001:1439-1468", None),
    ("familienbuero-gelsenkirchen", "Familienbüro (Info, Treff und Angebote)", "anlaufstelle", [_SG, _KITA],
     ["kinder_jugendhilfe", "soziales"], "Team Familienförderung/Familienbildung", "Gelsenkirchen",
     "zentrale Anlaufstelle ohne Termin, kostenfrei", [_INK, _ELT], "001:1475-1499",
     "Etwa 1.000 Kontakte im Monat."),
    ("cafe-kinderwagen-warendorf", "Café Kinderwagen", "familienbildung", [_SG], ["kinder_jugendhilfe", "gesundheit"],
     "Amt für Kinder, Jugendliche und Familie mit Hebammen, Beratungsstellen und Familienzentren",
     "Kreis Warendorf", "15 Cafés, wöchentlich", [_INK, _AUF, _ELT, _BET], "001:1504-1528", None),
    ("achtung-oberhausen", "„achtung“ – Entwicklungsförderung und Bindungsaufbau (0–3)", "elternbildung", [_SG],
     ["kinder_jugendhilfe", "gesundheit"], "Stadt Oberhausen mit Einrichtungen und Trägern", "Oberhausen",
     "über Hebammen und Familienbegleiter, Gruppe oder einzeln", [_ELT], "001:1531-1557", None),
    ("kita-eingangsuntersuchung-duesseldorf", "Kita-Eingangsuntersuchung („Fit für die Schule“)", "sprechstunde_kita",
     [_KITA], ["gesundheit"], "Gesundheitsamt mit Kita und Präventionsmanagerin", "Düsseldorf (Bielefeld)",
     "in der Kita, kostenfrei", [_BET, _AUF, _UNG], "001:1561-1598", None),
    ("kinderstuben-dortmund", "Kinderstuben (Großtagespflege)", "kita_platz", [_KITA], ["kinder_jugendhilfe"],
     "Öffentliche und freie Träger, Tagesmütter", "Dortmund", "Wohnung oder Ladenlokal im Quartier, bis 9 Kinder",
     [_INK], "001:1604-1632", None),
    ("home-moenchengladbach", "HOME – Hilfe und Orientierung für Mönchengladbacher Eltern", "elternbildung",
     [_KITA, _GS], ["kinder_jugendhilfe"], "HOME-Partnerinnen (mehrere Träger)", "Mönchengladbach",
     "in Kitas, Familienzentren und Grundschulen", [_AUF, _ELT], "001:1634-1663", None),
    ("sprachmittlung-kitas-muenster", "Sprach- und Kulturmittlerinnen in Kitas", "sprach_kulturmittlung", [_KITA],
     ["kinder_jugendhilfe", "soziales"], "Amt für Kinder, Jugendliche und Familien mit Haus der Familie",
     "Münster", "in der Kita, kostenfrei", [_ELT, _AUF, _INK], "001:1669-1704", None),
    ("uebergangsmanagement-warendorf", "Übergangsmanagement Kita–Grundschule für Kinder mit besonderem "
     "Unterstützungsbedarf („Förderplätze Plus“)", "uebergangsbegleitung", [_KITA, _GS], ["bildung", "gesundheit"],
     "Jugendamt, Schulamt und Gesundheitsamt mit OGS-Trägern", "Kreis Warendorf", "in der Schuleingangsphase",
     [_UEB, _INK, _BET, _ELT, _KOO], "001:1709-1746", None),
    ("ue1-kreis-unna", "Übergangsprotokoll 1 (Ü1)", "uebergangsbegleitung", [_KITA], ["bildung"],
     "Kitas und Grundschulen, Regionales Bildungsnetzwerk", "Kommunen im Kreis Unna", "Dokument",
     [_UEB, _ELT, _BET, _MUL], "001:1752-1784", None),
    ("bildungsbegleitung-primar-hamm", "Bildungsbegleitung im Primarbereich", "bildungsbegleitung", [_GS],
     ["bildung", "soziales"], "Stadt Hamm", "Hamm", "an 22 Grundschulen", [_INK], "001:1790-1816", None),
    ("elterncafes-bruecke-gelsenkirchen", "Elterncafés „Brücke“", "elternbildung", [_GS], ["bildung", "soziales"],
     "Eltern für Eltern, zweisprachige Moderation", "Gelsenkirchen", "24 Orte in Schulen und Stadtteilen, wöchentlich",
     [_INK, _ELT, _BET], "001:1818-1843", None),
    ("uebergangsordner-dormagen", "Übergangsordner Grundschule – weiterführende Schule (Dormagener Handbuch)",
     "uebergangsbegleitung", [_GS], ["bildung"], "NeFF mit Schulen, Jugendhilfe und Eltern", "Dormagen", "Handbuch",
     [_UEB], "001:1847-1878", None),
    ("ue2-kreis-unna", "Übergangsprotokoll 2 (Ü2)", "uebergangsbegleitung", [_GS], ["bildung"],
     "Grund- und weiterführende Schulen, Arbeitskreis „Übergang 2“", "Kommunen im Kreis Unna", "Dokument",
     [_UEB, _MUL], "001:1882-1908", None),
    ("schatzkiste-witten", "„Meine Schatzkiste“ – Portfolioverfahren", "uebergangsbegleitung", [_GS], ["bildung"],
     "Schulen und Jugendhilfe", "Witten", "im Unterricht, Klasse 4", [_UEB, _BET], "001:1912-1948", None),
    ("beteiligungsprojekte-wuppertal", "Beteiligungsprojekte mit Kindern und Jugendlichen", "beteiligung", [_JUG],
     ["kinder_jugendhilfe", "kultur"], "Jugendzentren und Schulen", "Wuppertal", "14 Projekte, 6–16 Jahre", [_BET],
     "001:1952-1977", None),
    ("jugendrat-gladbeck", "Jugendrat", "beteiligung", [_JUG], ["kinder_jugendhilfe"],
     "Stadt (Kinder- und Jugendbeauftragte)", "Gladbeck", "in den Ratsausschüssen", [_BET], "001:1983-2014", None),
    ("bildungsbegleitung-sek-hamm", "Bildungsbegleitung im Sekundarbereich", "bildungsbegleitung", [_GS, _JUG],
     ["bildung", "soziales"], "Stadt Hamm", "Hamm", "an 15 weiterführenden Schulen", [_INK], "001:2017-2038", None),
    ("berufsorientierung-arnsberg", "Leitfaden Berufsorientierung („Generation Zukunft“)", "berufsorientierung",
     [_JUG], ["bildung"], "Stadt mit Schulen, Betrieben, Kammern und Agentur für Arbeit", "Arnsberg",
     "Leitfaden in zwei Fassungen", [_BET, _UEB], "001:2044-2066", None),
]

#: (key, name, type, phases, fields, provider agency of the demo tenant or free text, capacity, waiting list)
GENERIC: list[tuple[Any, ...]] = [
    ("typ-schwangerenberatung", "Schwangerschafts- und Schwangerschaftskonfliktberatung", "schwangerenberatung",
     [_SG], ["gesundheit", "soziales"], "Familienhilfe Rur e. V.", None, False),
    ("typ-familienhebamme", "Familienhebamme", "geburtsklinik_hebamme", [_SG], ["gesundheit"],
     "Gesundheitsamt Kreis Düren", 12, True),
    ("typ-babyclub", "Babyclub im ersten Lebensjahr", "babyclub", [_SG], ["kinder_jugendhilfe"],
     "Familienhilfe Rur e. V.", 15, False),
    ("typ-elternkurs", "Elternkurs „Starke Eltern – Starke Kinder®“", "elternbildung", _ALL, ["kinder_jugendhilfe"],
     "Kinderschutzbund Düren", 14, True),
    ("typ-krabbelgruppe", "Krabbelgruppe, Ernährung und Bewegung", "familienbildung", [_SG, _KITA],
     ["gesundheit", "sport"], "Familienbildungsstätte Düren", None, False),
    ("typ-fruehfoerderung", "Frühförderung (Frühförderstelle)", "fruehe_hilfen", [_SG, _KITA], ["gesundheit"],
     "Gesundheitsamt Kreis Düren", 20, True),
    ("typ-kita-platz", "Kita-Platz und Kindertagespflege (Platzvergabe)", "kita_platz", [_KITA],
     ["kinder_jugendhilfe", "bildung"], "Jugendamt Kreis Düren", None, True),
    ("typ-sprachfoerderung", "Sprachförderung für Kinder vor der Einschulung", "sprachfoerderung", [_KITA],
     ["bildung", "gesundheit"], "Gesundheitsamt Kreis Düren", 25, False),
    ("typ-sprechstunde-kita", "Kinderärztliche und psychologische Sprechstunde in der Kita", "sprechstunde_kita",
     [_KITA], ["gesundheit"], "Kita Sonnenblume", None, False),
    ("typ-erziehungsberatung", "Erziehungsberatung und Familienhilfe", "erziehungsberatung", _ALL,
     ["kinder_jugendhilfe"], "Familienhilfe Rur e. V.", 30, True),
    ("typ-vhs", "Volkshochschule: Deutschkurs für Eltern", "volkshochschule", [_GS], ["bildung"],
     "Volkshochschule Rur-Eifel", None, False),
    ("typ-ogs", "Offener Ganztag und Schulsozialarbeit", "ganztag_schulsozialarbeit", [_GS], ["bildung", "soziales"],
     "Grundschule Am Rurufer", None, True),
    ("typ-lernfoerderung", "Lernförderung (Bildungs- und Teilhabepaket)", "lernfoerderung", [_GS, _JUG], ["bildung"],
     "Jobcenter Kreis Düren", None, False),
    ("typ-paten", "Schnuppertage und Patenmodell beim Schulwechsel", "schnuppertage_paten", [_KITA, _GS], ["bildung"],
     "Gesamtschule Düren", None, False),
    ("typ-knigge", "„Knigge-Kurs“ (soziale Kompetenzen)", "soziale_kompetenz", [_JUG], ["bildung", "soziales"],
     "Gesamtschule Düren", 16, False),
    ("typ-freizeit", "Sportverein, Musikschule, Kultur- und Freizeitangebote", "freizeit", _ALL, ["sport", "kultur"],
     "Vereine im Kreis Düren", None, False),
    ("typ-berufsorientierung", "Betriebspraktika (KAoA), Freiwilligendienste", "berufsorientierung", [_JUG],
     ["bildung"], "Agentur für Arbeit Düren", None, False),
    ("typ-jugendzentrum", "Jugendzentrum und offene Jugendarbeit", "jugendarbeit", [_JUG], ["kinder_jugendhilfe"],
     "Jugendamt Kreis Düren", None, False),
    ("typ-sprachmittlung", "Migrationsdienst und Dolmetscherpool", "sprach_kulturmittlung", _ALL, ["soziales"],
     "Kommunales Integrationszentrum Kreis Düren", None, False),
    ("typ-kurberatung", "Kurberatung (Mutter/Vater-Kind-Kur)", "kurberatung", [_SG, _KITA], ["gesundheit"],
     "Familienhilfe Rur e. V.", None, False),
    ("typ-therapie", "Logopädie und Ergotherapie", "therapie", _ALL, ["gesundheit"], "Therapiepraxen im Kreis Düren",
     None, True),
]


def _payload(name: str, offer_type: str, phases: list[str], fields: list[str], provider: str,
             agencies: dict[str, Agency], **extra: Any) -> dict[str, Any]:
    agency = agencies.get(provider)
    return {"name": name, "offer_type": offer_type, "age_phases": phases, "fields_of_action": fields,
            "provider_agency_id": agency.id if agency else None, "provider_name": None if agency else provider,
            "provider_type": None, "description": None, "sozialraeume": [], "municipality": None, "access": None,
            "languages": None, "contact": None, "capacity": None, "waiting_list": False, "standards": [],
            "source": None, "is_active": True, **extra}


def load_demo_offers(tenant: Tenant) -> int:
    """Add the catalogue entries of the demo tenant that are missing (by key); returns how many."""
    from praevcase.offers.catalogue import OfferType

    with scoped(db.session, tenant.id):
        now = utcnow()
        present = set(db.session.scalars(sa.select(Offer.key).where(Offer.key.is_not(None))))
        agencies = {a.name: a for a in db.session.scalars(sa.select(Agency))}
        added = 0
        for key, name, kind, phases, fields, provider, town, access, standards, source, text in NAMED:
            if key in present:
                continue
            data = _payload(name, OfferType(kind), phases, fields, provider, agencies, municipality=town,
                            access=access, standards=standards, source=source, description=text)
            create_offer(tenant, data, actor=None, now=now, key=key)
            added += 1
        for key, name, kind, phases, fields, provider, capacity, waiting in GENERIC:
            if key in present:
                continue
            contact = f"{agencies[provider].name}, Tel. 02421 0000-0" if provider in agencies else None
            data = _payload(name, OfferType(kind), phases, fields, provider, agencies, capacity=capacity,
                            waiting_list=waiting, contact=contact, source="practice-brief §6.2")
            create_offer(tenant, data, actor=None, now=now, key=key)
            added += 1
        return added
