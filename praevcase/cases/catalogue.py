"""Vocabulary of intake: channels, needs, age phases and the question catalogue of each channel.

Codes are English or the German technical term (stored, sent over the API); every code has a
German label for the forms. The questions follow practice-brief §3 (what each channel asks).
"""
from __future__ import annotations

import enum
from datetime import date

from praevcase.i18n import N_


class IntakeChannel(str, enum.Enum):  # noqa: UP042 - stored by name, like workflows/
    """Where a case came from (practice-brief §3)."""

    jobcenter_observation = "jobcenter_observation"
    birth_clinic_screening = "birth_clinic_screening"
    kita_entry_exam = "kita_entry_exam"
    famos_midwife = "famos_midwife"
    welcome_visit = "welcome_visit"
    familienbuero = "familienbuero"
    school_entry_exam = "school_entry_exam"
    u_exam_feedback = "u_exam_feedback"
    family_centre = "family_centre"
    school_social_work = "school_social_work"
    outreach = "outreach"
    self_referral = "self_referral"


CHANNEL_LABELS = {
    IntakeChannel.jobcenter_observation: N_("Beobachtung im Jobcenter"),
    IntakeChannel.birth_clinic_screening: N_("Screening in der Geburtsklinik"),
    IntakeChannel.kita_entry_exam: N_("Kita-Eingangsuntersuchung (Gesundheitsamt)"),
    IntakeChannel.famos_midwife: N_("Familienhebamme (FamoS)"),
    IntakeChannel.welcome_visit: N_("Willkommensbesuch"),
    IntakeChannel.familienbuero: N_("Familienbüro"),
    IntakeChannel.school_entry_exam: N_("Schuleingangsuntersuchung"),
    IntakeChannel.u_exam_feedback: N_("Rückmeldung aus einer U-Untersuchung"),
    IntakeChannel.family_centre: N_("Familienzentrum"),
    IntakeChannel.school_social_work: N_("Schulsozialarbeit"),
    IntakeChannel.outreach: N_("Aufsuchende Arbeit"),
    IntakeChannel.self_referral: N_("Familie kommt selbst"),
}

#: Channels of the general intake form ("weitere Zugänge").
GENERAL_CHANNELS = (
    IntakeChannel.famos_midwife, IntakeChannel.welcome_visit, IntakeChannel.familienbuero,
    IntakeChannel.school_entry_exam, IntakeChannel.u_exam_feedback, IntakeChannel.family_centre,
    IntakeChannel.school_social_work, IntakeChannel.outreach, IntakeChannel.self_referral,
)
#: Channels whose answers are health data (Art. 9 DSGVO): sealed as DataCategory.health.
HEALTH_CHANNELS = frozenset({IntakeChannel.birth_clinic_screening, IntakeChannel.kita_entry_exam,
                             IntakeChannel.school_entry_exam, IntakeChannel.u_exam_feedback})
#: Channels where a second professional of the same agency confirms before the case proceeds.
FOUR_EYES_CHANNELS = frozenset({IntakeChannel.birth_clinic_screening})


class Need(str, enum.Enum):  # noqa: UP042
    """Coarse need codes (no free text), used for agendas and aggregates."""

    kita_platz = "kita_platz"
    sprachfoerderung = "sprachfoerderung"
    gesundheit = "gesundheit"
    erziehung = "erziehung"
    psychosoziale_belastung = "psychosoziale_belastung"
    materielle_lage = "materielle_lage"
    wohnen = "wohnen"
    bildung = "bildung"
    teilhabe = "teilhabe"
    sonstiges = "sonstiges"


NEED_LABELS = {
    Need.kita_platz: N_("Betreuungsplatz (Kita, Tagespflege)"),
    Need.sprachfoerderung: N_("Sprachförderung"),
    Need.gesundheit: N_("Gesundheit, Entwicklung"),
    Need.erziehung: N_("Erziehung, Eltern stärken"),
    Need.psychosoziale_belastung: N_("Belastung, Überforderung der Eltern"),
    Need.materielle_lage: N_("Materielle Lage, Existenzsicherung"),
    Need.wohnen: N_("Wohnen"),
    Need.bildung: N_("Schule, Bildung"),
    Need.teilhabe: N_("Freizeit, Teilhabe"),
    Need.sonstiges: N_("Sonstiges"),
}


class AgePhase(str, enum.Enum):  # noqa: UP042
    """The four age phases of the prevention chain (practice-brief §6.3)."""

    schwangerschaft_geburt = "schwangerschaft_geburt"
    kita = "kita"
    grundschule = "grundschule"
    jugendphase = "jugendphase"


AGE_PHASE_LABELS = {
    AgePhase.schwangerschaft_geburt: N_("Schwangerschaft und Geburt"),
    AgePhase.kita: N_("Rund um die Kita"),
    AgePhase.grundschule: N_("Grundschule bis weiterführende Schule"),
    AgePhase.jugendphase: N_("Jugendphase"),
}


def age_phase(birth_date: date, today: date) -> AgePhase:
    """Age phase of the youngest child on *today* (the case's main phase)."""
    years = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    if years < 1:
        return AgePhase.schwangerschaft_geburt
    if years < 6:
        return AgePhase.kita
    if years < 10:
        return AgePhase.grundschule
    return AgePhase.jugendphase


# --- answer options ----------------------------------------------------------------------------

YES_NO_UNKNOWN = {"ja": "Ja", "nein": "Nein", "unbekannt": "Unbekannt"}
GERMAN_LEVEL = {"keine": "Keine Deutschkenntnisse", "wenig": "Wenig", "gut": "Gut", "unbekannt": "Unbekannt"}
HEALTH_STATUS = {"unauffaellig": "Unauffällig", "belastet": "Belastet", "stark_belastet": "Stark belastet",
                 "nicht_erhoben": "Nicht erhoben"}
OVERLOAD = {"keine": "Keine Hinweise", "hinweise": "Hinweise auf Überforderung",
            "deutlich": "Deutliche Überforderung"}
PREGNANCY = {"positiv": "Überwiegend positiv", "gemischt": "Gemischt", "belastend": "Belastend",
             "nicht_erhoben": "Nicht erhoben"}
SENSE_FINDING = {"unauffaellig": "Unauffällig", "auffaellig": "Auffällig", "nicht_geprueft": "Nicht geprüft"}
DEVELOPMENT = {"altersgerecht": "Altersgerecht", "grenzwertig": "Grenzwertig", "auffaellig": "Auffällig",
               "nicht_geprueft": "Nicht geprüft"}
VACCINATION = {"vollstaendig": "Vollständig", "unvollstaendig": "Unvollständig", "unbekannt": "Unbekannt"}
MOTHER_TONGUE = {"altersgerecht": "Altersgerecht", "eingeschraenkt": "Eingeschränkt",
                 "nicht_beurteilbar": "Nicht beurteilbar"}
EXAM_PARTICIPANTS = {"kinderaerztin": "Kinderärztin/Kinderarzt des Gesundheitsamts",
                     "kinderkrankenschwester": "Kinderkrankenschwester",
                     "praeventionsmanagerin": "Präventionsmanagerin",
                     "kita_fachkraft": "Kita-Fachkraft", "eltern": "Eltern"}
SETTINGS = {"zuhause": "Zuhause", "einrichtung": "In der Einrichtung", "klinik": "Klinik", "telefon": "Telefon",
            "buero": "Büro, Sprechstunde", "familienzentrum": "Familienzentrum", "schule": "Schule",
            "quartier": "Im Quartier"}

#: field -> (German question, option labels or None for free values). Drives display of answers.
QUESTIONS: dict[str, tuple[str, dict[str, str] | None]] = {
    # Jobcenter
    "observed_on": ("Datum der Beobachtung", None),
    "child_has_daycare": ("Hat das Kind einen Kita- oder Tagespflegeplatz?", YES_NO_UNKNOWN),
    "german_language": ("Deutschkenntnisse des Kindes", GERMAN_LEVEL),
    "family_language": ("Familiensprache", None),
    "interpreter_needed": ("Sprach- und Kulturmittlung nötig", None),
    # birth clinic
    "screened_on": ("Datum des Screenings", None),
    "health_mother": ("Gesundheit der Mutter", HEALTH_STATUS),
    "health_father": ("Gesundheit des Vaters", HEALTH_STATUS),
    "health_child": ("Gesundheit des Kindes", HEALTH_STATUS),
    "parental_overload": ("Überforderung der Eltern", OVERLOAD),
    "pregnancy_experience": ("Erleben der Schwangerschaft", PREGNANCY),
    "screening_notes": ("Anmerkungen zum Screening", None),
    # Kita entry exam
    "examined_on": ("Datum der Untersuchung", None),
    "height_cm": ("Größe (cm)", None),
    "weight_kg": ("Gewicht (kg)", None),
    "vision": ("Sehen", SENSE_FINDING),
    "hearing": ("Hören", SENSE_FINDING),
    "vaccination_status": ("Impfstatus", VACCINATION),
    "vaccination_advice_given": ("Impfberatung erfolgt", None),
    "language": ("Sprache", DEVELOPMENT),
    "gross_motor": ("Grobmotorik", DEVELOPMENT),
    "visual_perception": ("Visuelle Wahrnehmung", DEVELOPMENT),
    "eye_hand_coordination": ("Auge-Hand-Koordination", DEVELOPMENT),
    "concentration": ("Konzentration", DEVELOPMENT),
    "attention": ("Aufmerksamkeit", DEVELOPMENT),
    "emotional_stability": ("Emotionale Stabilität", DEVELOPMENT),
    "mother_tongue_ability": ("Sprachfähigkeit in der Muttersprache (Elterngespräch)", MOTHER_TONGUE),
    "wellbeing": ("Befinden des Kindes (Elterngespräch)", None),
    "last_exam_findings": ("Befunde der letzten ärztlichen Untersuchungen", None),
    "participants": ("Anwesend", EXAM_PARTICIPANTS),
    # general channels
    "contacted_on": ("Datum des Kontakts", None),
    "setting": ("Ort des Kontakts", SETTINGS),
    "referred_directly": ("Direkt an ein Angebot vermittelt", None),
    "offer_taken_up": ("Angebot angenommen", None),
}


def answer_rows(answers: dict) -> list[tuple[str, str]]:
    """(German question, German answer) rows for display, in catalogue order."""
    rows = []
    for key, (question, options) in QUESTIONS.items():
        if key not in answers or answers[key] in (None, ""):
            continue
        value = answers[key]
        if isinstance(value, bool):
            text = "Ja" if value else "Nein"
        elif isinstance(value, list):
            text = ", ".join((options or {}).get(v, v) for v in value)
        elif options:
            text = options.get(value, value)
        elif isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            text = f"{value[8:10]}.{value[5:7]}.{value[0:4]}"
        else:
            text = str(value).replace(".", ",") if isinstance(value, float) else str(value)
        rows.append((question, text))
    return rows
