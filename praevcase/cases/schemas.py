"""Input schemas of the intake channels and case actions (shared by the German forms and the API).

Each channel has its own schema; they share the family, needs, team summary and consent parts
of :class:`IntakeBaseIn`. Every message is German and names the field it belongs to.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from consent.scopes import DataCategory
from consent.scopes import Purpose
from praevcase.cases import catalogue as cat
from praevcase.cases.catalogue import IntakeChannel
from praevcase.cases.catalogue import Need
from praevcase.database import utcnow
from praevcase.privacy.models import ConsentChannel
from praevcase.schemas import BaseSchema
from workflows.case import CaseState
from workflows.case import ClosingReason

CHOOSE = "Bitte einen der angebotenen Werte wählen."
MAX_CHILD_AGE_YEARS = 27  # the prevention chain ends with early adulthood (practice-brief §1)


def _text(max_len: int, *, required: bool = False, min_len: int = 0, **kw: Any) -> fields.String:
    msg = f"Bitte höchstens {max_len} Zeichen." if not min_len else f"Bitte {min_len} bis {max_len} Zeichen."
    return fields.String(required=required, validate=validate.Length(min=min_len, max=max_len, error=msg), **kw)


def _choice(options: dict[str, str], *, required: bool = True) -> fields.String:
    return fields.String(required=required, validate=validate.OneOf(list(options), error=CHOOSE))


def _number(lo: float, hi: float, unit: str) -> fields.Float:
    return fields.Float(validate=validate.Range(min=lo, max=hi,
                                                error=f"Bitte einen Wert zwischen {lo:g} und {hi:g} {unit} angeben."))


def _today() -> date:
    return utcnow().date()


def not_in_future(value: date) -> None:
    if value > _today():
        raise ValidationError("Das Datum darf nicht in der Zukunft liegen.")


def _past_date(required: bool = True) -> fields.Date:
    return fields.Date(required=required, validate=not_in_future)


# --- family -------------------------------------------------------------------------------------


class ChildIn(BaseSchema):
    given_name = _text(100, required=True, min_len=1)
    family_name = _text(100, required=True, min_len=1)
    birth_date = fields.Date(required=True)
    languages = _text(200)

    @validates_schema
    def _plausible_birth_date(self, data: dict, **kwargs: Any) -> None:
        born, today = data.get("birth_date"), _today()
        if born is None:
            return
        if born > today:
            raise ValidationError("Das Geburtsdatum darf nicht in der Zukunft liegen.", "birth_date")
        if today.year - born.year > MAX_CHILD_AGE_YEARS:
            raise ValidationError(f"Bitte ein Kind oder eine junge Person bis {MAX_CHILD_AGE_YEARS} Jahre angeben.",
                                  "birth_date")


class GuardianIn(BaseSchema):
    given_name = _text(100, required=True, min_len=1)
    family_name = _text(100, required=True, min_len=1)
    birth_date = fields.Date()
    address = _text(300)
    phone = _text(50)
    languages = _text(200)
    #: Holds custody (Sorgerecht): signs the consent
    has_custody = fields.Boolean(load_default=False)

    @validates_schema
    def _birth_date_in_past(self, data: dict, **kwargs: Any) -> None:
        if data.get("birth_date") and data["birth_date"] > _today():
            raise ValidationError("Das Geburtsdatum darf nicht in der Zukunft liegen.", "birth_date")


class ConsentIn(BaseSchema):
    """The consent the parents gave (or not) at intake."""

    #: given: recorded now; pending: the parents decide later; refused: the case stays in the agency
    status = fields.String(required=True, validate=validate.OneOf(["given", "pending", "refused"], error=CHOOSE))
    template_id = fields.UUID()
    purposes = fields.List(fields.Enum(Purpose), load_default=list)
    categories = fields.List(fields.Enum(DataCategory), load_default=list)
    recipient_agency_ids = fields.List(fields.UUID(), load_default=list)
    channel = fields.Enum(ConsentChannel)
    valid_until = fields.Date()

    @validates_schema
    def _complete_when_given(self, data: dict, **kwargs: Any) -> None:
        if data.get("status") != "given":
            return
        errors: dict[str, list[str]] = {}
        if not data.get("template_id"):
            errors["template_id"] = ["Bitte den Einwilligungstext wählen, den die Eltern erhalten haben."]
        purposes = set(data.get("purposes") or [])
        categories = set(data.get("categories") or [])
        if Purpose.team_review not in purposes:
            errors["purposes"] = ["Ohne den Zweck „Fallberatung im Präventionsteam“ kann der Fall "
                                  "die Stelle nicht verlassen."]
        if not categories:
            errors["categories"] = ["Bitte mindestens eine Datenart wählen."]
        elif (Purpose.health_data_sharing in purposes) != (DataCategory.health in categories):
            errors["categories"] = ["Gesundheitsdaten nur zusammen mit dem Zweck „Weitergabe von "
                                    "Gesundheitsdaten“ (und umgekehrt)."]
        if not data.get("recipient_agency_ids"):
            errors["recipient_agency_ids"] = ["Bitte mindestens eine Stelle wählen, an die Daten gehen dürfen."]
        if not data.get("channel"):
            errors["channel"] = ["Bitte angeben, wie die Einwilligung erteilt wurde."]
        if data.get("valid_until") and data["valid_until"] <= _today():
            errors["valid_until"] = ["Das Ende der Gültigkeit muss in der Zukunft liegen."]
        if errors:
            raise ValidationError(errors)


def _names(data: dict) -> set[str]:
    names = set()
    for person in [*data.get("children", []), *data.get("guardians", [])]:
        for key in ("given_name", "family_name"):
            names.update(p for p in re.split(r"[\s-]+", person.get(key) or "") if len(p) >= 2)
    return names


class IntakeBaseIn(BaseSchema):
    """What every channel asks: the family, needs, the team summary and the consent."""

    children = fields.List(fields.Nested(ChildIn), required=True,
                           validate=validate.Length(min=1, max=8, error="Bitte mindestens ein Kind angeben."))
    guardians = fields.List(fields.Nested(GuardianIn), load_default=list,
                            validate=validate.Length(max=4, error="Bitte höchstens vier Erwachsene angeben."))
    sozialraum = _text(100)
    needs = fields.List(fields.Enum(Need), required=True,
                        validate=validate.Length(min=1, error="Bitte mindestens einen Bedarf wählen."))
    #: Entry criterion of the Schnittstellengespräch (practice-brief §4.1 item 4)
    beyond_own_remit = fields.Boolean(required=True)
    observation = _text(4000)
    team_summary = _text(600, required=True, min_len=10)
    consent = fields.Nested(ConsentIn, required=True)
    #: After a possible duplicate was offered: "new" or the id of the own agency's family to add to
    duplicate_choice = fields.String(validate=validate.Length(max=40))

    @validates_schema
    def _team_path(self, data: dict, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("beyond_own_remit") is False:
            errors["beyond_own_remit"] = ["Das Präventionsteam berät Familien, die mehr Unterstützung brauchen, "
                                          "als eine Stelle allein geben kann. Bitte bestätigen."]
        summary = (data.get("team_summary") or "").casefold()
        words = set(re.findall(r"\w+", summary))
        if any(n.casefold() in words for n in _names(data)):
            errors["team_summary"] = ["Bitte ohne Namen schreiben: Die Zusammenfassung enthält einen Namen "
                                      "aus der Familie."]
        consent = data.get("consent") or {}
        if consent.get("status") == "given" and not any(g.get("has_custody") for g in data.get("guardians", [])):
            errors["guardians"] = ["Die Einwilligung unterschreiben die Sorgeberechtigten: bitte mindestens eine "
                                   "sorgeberechtigte Person angeben."]
        if errors:
            raise ValidationError(errors)

    #: Fields of the channel's own questions (subclasses list theirs)
    ANSWER_FIELDS: tuple[str, ...] = ()


class JobcenterIntakeIn(IntakeBaseIn):
    observed_on = _past_date()
    child_has_daycare = _choice(cat.YES_NO_UNKNOWN)
    german_language = _choice(cat.GERMAN_LEVEL)
    family_language = _text(100)
    interpreter_needed = fields.Boolean(load_default=False)

    ANSWER_FIELDS = ("observed_on", "child_has_daycare", "german_language", "family_language", "interpreter_needed")


class BirthClinicIntakeIn(IntakeBaseIn):
    screened_on = _past_date()
    health_mother = _choice(cat.HEALTH_STATUS)
    health_father = _choice(cat.HEALTH_STATUS)
    health_child = _choice(cat.HEALTH_STATUS)
    parental_overload = _choice(cat.OVERLOAD)
    pregnancy_experience = _choice(cat.PREGNANCY)
    screening_notes = _text(2000)

    ANSWER_FIELDS = ("screened_on", "health_mother", "health_father", "health_child", "parental_overload",
                     "pregnancy_experience", "screening_notes")


class KitaExamIntakeIn(IntakeBaseIn):
    examined_on = _past_date()
    height_cm = _number(40, 200, "cm")
    weight_kg = _number(5, 100, "kg")
    vision = _choice(cat.SENSE_FINDING)
    hearing = _choice(cat.SENSE_FINDING)
    vaccination_status = _choice(cat.VACCINATION)
    vaccination_advice_given = fields.Boolean(load_default=False)
    language = _choice(cat.DEVELOPMENT)
    gross_motor = _choice(cat.DEVELOPMENT)
    visual_perception = _choice(cat.DEVELOPMENT)
    eye_hand_coordination = _choice(cat.DEVELOPMENT)
    concentration = _choice(cat.DEVELOPMENT)
    attention = _choice(cat.DEVELOPMENT)
    emotional_stability = _choice(cat.DEVELOPMENT)
    mother_tongue_ability = _choice(cat.MOTHER_TONGUE)
    wellbeing = _text(1000)
    last_exam_findings = _text(1000)
    participants = fields.List(fields.String(validate=validate.OneOf(list(cat.EXAM_PARTICIPANTS), error=CHOOSE)),
                               load_default=list)

    ANSWER_FIELDS = ("examined_on", "height_cm", "weight_kg", "vision", "hearing", "vaccination_status",
                     "vaccination_advice_given", "language", "gross_motor", "visual_perception",
                     "eye_hand_coordination", "concentration", "attention", "emotional_stability",
                     "mother_tongue_ability", "wellbeing", "last_exam_findings", "participants")


class GeneralIntakeIn(IntakeBaseIn):
    """Every other contact named in the practice brief (FamoS, welcome visit, Familienbüro, …)."""

    channel = fields.Enum(IntakeChannel, required=True,
                          validate=validate.OneOf(cat.GENERAL_CHANNELS, error=CHOOSE))
    contacted_on = _past_date()
    setting = _choice(cat.SETTINGS, required=False)
    referred_directly = fields.Boolean(load_default=False)
    offer_taken_up = fields.Boolean(load_default=False)

    ANSWER_FIELDS = ("contacted_on", "setting", "referred_directly", "offer_taken_up")


#: URL slug -> (channel or None for the general form, schema class, German title)
CHANNEL_FORMS: dict[str, tuple[IntakeChannel | None, type[IntakeBaseIn], str]] = {
    "jobcenter": (IntakeChannel.jobcenter_observation, JobcenterIntakeIn, "Beobachtung im Jobcenter"),
    "geburtsklinik": (IntakeChannel.birth_clinic_screening, BirthClinicIntakeIn, "Screening in der Geburtsklinik"),
    "kita-untersuchung": (IntakeChannel.kita_entry_exam, KitaExamIntakeIn,
                          "Kita-Eingangsuntersuchung des Gesundheitsamts"),
    "weitere": (None, GeneralIntakeIn, "Weitere Zugänge (Hebamme, Willkommensbesuch, Familienbüro, …)"),
}


# --- actions on a case -------------------------------------------------------------------------


class VersionIn(BaseSchema):
    #: The case version the form was rendered with (409 when someone changed the case since)
    version = fields.Integer(required=True)


WITHDRAWAL_CHANNELS = {"persoenlich": "Persönlich", "telefon": "Telefonisch", "schriftlich": "Schriftlich",
                       "elektronisch": "Elektronisch"}


class TransitionIn(VersionIn):
    trigger = fields.String(required=True, validate=validate.Length(min=1, max=40))
    #: Optional remark for the history (no names)
    reason = _text(500)
    closing_reason = fields.Enum(ClosingReason)
    lotse_user_id = fields.UUID()
    withdrawn_via = _choice(WITHDRAWAL_CHANNELS, required=False)

    @validates_schema
    def _inputs_of_trigger(self, data: dict, **kwargs: Any) -> None:
        trigger = data.get("trigger")
        if trigger == "close" and not data.get("closing_reason"):
            raise ValidationError("Bitte einen Grund für den Abschluss wählen.", "closing_reason")
        if trigger in ("assign_lotse", "hand_over_lotse") and not data.get("lotse_user_id"):
            raise ValidationError("Bitte die Lotsin oder den Lotsen wählen.", "lotse_user_id")
        if trigger == "withdraw_consent" and not data.get("withdrawn_via"):
            raise ValidationError("Bitte angeben, wie der Widerruf eingegangen ist.", "withdrawn_via")


class CaseConsentIn(ConsentIn):
    """Record the parents' decision later, for a case waiting in consent_pending."""

    version = fields.Integer(required=True)

    @validates_schema
    def _decided(self, data: dict, **kwargs: Any) -> None:
        if data.get("status") == "pending":
            raise ValidationError("Bitte „erteilt“ oder „abgelehnt“ wählen.", "status")


class EscalationProposalIn(VersionIn):
    escalated_to_agency_id = fields.UUID(required=True)
    justification = _text(4000, required=True, min_len=20)


class CaseListArgs(BaseSchema):
    state = fields.Enum(CaseState)


# --- API output ----------------------------------------------------------------------------------


class CaseOut(BaseSchema):
    """Pseudonymous metadata of a case (what every list shows)."""

    id = fields.UUID()
    case_number = fields.String(metadata={"description": "pseudonymous number of the family, e.g. DN-2026-00042"})
    channel = fields.Enum(IntakeChannel)
    channel_label = fields.String()
    state = fields.Enum(CaseState)
    state_label = fields.String()
    version = fields.Integer(metadata={"description": "send it back with every action (409 when stale)"})
    origin_agency_id = fields.UUID()
    created_dt = fields.DateTime()
    reached_team_dt = fields.DateTime(allow_none=True)
    age_phase = fields.Enum(cat.AgePhase, allow_none=True)
    needs = fields.List(fields.String())
    four_eyes_required = fields.Boolean()
    intake_confirmed_dt = fields.DateTime(allow_none=True)
    lotse_user_id = fields.UUID(allow_none=True)
    closing_reason = fields.Enum(ClosingReason, allow_none=True)
    closed_dt = fields.DateTime(allow_none=True)
    escalated_to_agency_id = fields.UUID(allow_none=True)
    escalated_dt = fields.DateTime(allow_none=True)


class PersonOut(BaseSchema):
    id = fields.UUID()
    role = fields.String()
    has_custody = fields.Boolean()
    given_name = fields.String(allow_none=True)
    family_name = fields.String(allow_none=True)
    birth_date = fields.String(allow_none=True)
    languages = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    denied = fields.String(allow_none=True, metadata={
        "description": "reason code when the consent does not cover the viewer (the values are then null)"})


class AnswersOut(BaseSchema):
    category = fields.String()
    values = fields.Dict(allow_none=True)
    denied = fields.String(allow_none=True)
    observation = fields.String(allow_none=True)
    observation_denied = fields.String(allow_none=True)


class HistoryOut(BaseSchema):
    occurred_dt = fields.DateTime()
    label = fields.String()
    trigger = fields.String(allow_none=True)
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class ConsentSummaryOut(BaseSchema):
    id = fields.UUID()
    state = fields.String()
    purposes = fields.List(fields.String())
    categories = fields.List(fields.String())
    recipients = fields.List(fields.String())
    obtained_dt = fields.DateTime()
    valid_until = fields.DateTime(allow_none=True)
    withdrawn_dt = fields.DateTime(allow_none=True)


class CaseDetailOut(CaseOut):
    """The case as the caller may see it: personal values only where reveal() allowed them."""

    team_summary = fields.String(allow_none=True)
    persons = fields.List(fields.Nested(PersonOut), allow_none=True)
    answers = fields.Nested(AnswersOut, allow_none=True)
    escalation_justification = fields.String(allow_none=True)
    consents = fields.List(fields.Nested(ConsentSummaryOut))
    history = fields.List(fields.Nested(HistoryOut))
    permitted_triggers = fields.List(fields.String())
    possible_duplicates = fields.List(fields.String())
