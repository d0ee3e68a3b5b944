"""Demo cases of "Kreis Düren (Demo)": a consent template and a few cases in different states.

All names are invented placeholders (Mustermann, Beispiel, Testmann …). Every case is opened and
moved through the same operations and schemas as the pages, so the demo shows real histories.
Idempotent: nothing is created when the demo consent template exists already.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from consent.scopes import Purpose
from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.accounts.operations import create_user
from praevcase.cases import operations as ops
from praevcase.cases.catalogue import IntakeChannel
from praevcase.cases.schemas import BirthClinicIntakeIn
from praevcase.cases.schemas import GeneralIntakeIn
from praevcase.cases.schemas import IntakeBaseIn
from praevcase.cases.schemas import JobcenterIntakeIn
from praevcase.cases.schemas import KitaExamIntakeIn
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.privacy.models import ConsentTemplate
from praevcase.privacy.operations import create_template
from praevcase.tenancy import scoped
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from workflows.case import ClosingReason

TEMPLATE_KEY = "praeventionsteam"

#: Extra demo logins for the case pages (same password as the other demo users).
CASE_LOGINS = [
    ("geburtsklinik@demo.praevcase.test", "Petra Schmitz", Role.intake, "Geburtsklinik St. Elisabeth"),
    ("geburtsklinik2@demo.praevcase.test", "Dr. Jan Krüger", Role.intake, "Geburtsklinik St. Elisabeth"),
    ("gesundheitsamt@demo.praevcase.test", "Dr. Miriam Vogel", Role.intake, "Gesundheitsamt Kreis Düren"),
    ("jugendamt@demo.praevcase.test", "Stefan Richter", Role.team_member, "Jugendamt Kreis Düren"),
]

TEMPLATE_BODY = (
    "Wir sind damit einverstanden, dass die Stelle, die uns beraten hat, Angaben über unsere Familie an das "
    "Präventionsteam des Kreises weitergibt. Das Präventionsteam besteht aus Fachkräften verschiedener Stellen "
    "(z. B. Gesundheitsamt, Jugendamt, Jobcenter, Kitas, Schulen, freie Träger). Es berät einmal im Monat im "
    "Schnittstellengespräch, welche Angebote zu unserer Familie passen. Eine Fachkraft aus dem Team begleitet uns "
    "als Lotsin oder Lotse. Weitergegeben werden nur die angekreuzten Angaben, nur für die angekreuzten Zwecke und "
    "nur an die genannten Stellen. Die Einwilligung ist freiwillig. Wir können sie jederzeit ohne Nachteile "
    "widerrufen – mündlich, schriftlich oder elektronisch bei jeder beteiligten Stelle. Der Widerruf gilt ab "
    "diesem Zeitpunkt. Rechtsgrundlage: Art. 6 Abs. 1 lit. a und Art. 9 Abs. 2 lit. a DSGVO, § 67b SGB X.")
TEMPLATE_PLAIN = (
    "Sie haben mit einer Fachkraft gesprochen. Sie möchte Ihnen helfen. Manchmal kann eine Stelle allein nicht "
    "genug helfen. Dann sprechen Fachleute von mehreren Stellen zusammen über Ihre Familie. Das ist das "
    "Präventionsteam. Dafür brauchen wir Ihre Erlaubnis. Sie entscheiden selbst. Sie können auch Nein sagen. "
    "Sie können Ihre Erlaubnis später zurücknehmen. Dann sagen Sie es einfach einer Fachkraft.")
PURPOSE_TEXTS = {
    Purpose.team_review.value: "Unser Fall darf im Präventionsteam (Schnittstellengespräch) besprochen werden.",
    Purpose.lotse_support.value: "Eine Lotsin oder ein Lotse aus dem Team darf uns begleiten und uns kontaktieren.",
    Purpose.referral.value: "Das Team darf uns an passende Angebote vermitteln.",
    Purpose.transition_u1.value: "Beim Wechsel von der Kita in die Grundschule darf das Ü1-Protokoll übergeben "
                                 "werden.",
    Purpose.health_data_sharing.value: "Gesundheitsdaten (z. B. Untersuchungsbefunde) dürfen an die genannten "
                                       "Stellen weitergegeben werden.",
}


def _consent(template: ConsentTemplate, agencies: dict[str, Agency], names: list[str], *,
             health: bool = False, status: str = "given") -> dict[str, Any]:
    purposes = ["team_review", "lotse_support", "referral"] + (["health_data_sharing"] if health else [])
    categories = ["identity", "contact", "family_situation", "case_notes"] + (["health"] if health else [])
    return {"status": status, "template_id": str(template.id), "purposes": purposes, "categories": categories,
            "recipient_agency_ids": [str(agencies[n].id) for n in names], "channel": "written"}


def _open(tenant: Tenant, schema: type[IntakeBaseIn], channel: IntakeChannel, payload: dict[str, Any],
          actor: User, now: Any):
    data = schema().load(payload)
    return ops.open_case(tenant, channel, data, schema.ANSWER_FIELDS, actor=actor, now=now)


def _family(child: tuple[str, str, int], parent: tuple[str, str, str, str], *, days_old: int = 0) -> dict[str, Any]:
    today = utcnow().date()
    born = today - timedelta(days=365 * child[2] + 40) if not days_old else today - timedelta(days=days_old)
    return {"children": [{"given_name": child[0], "family_name": child[1], "birth_date": born.isoformat(),
                          "languages": parent[3]}],
            "guardians": [{"given_name": parent[0], "family_name": parent[1], "address": parent[2],
                           "phone": "0000 000000", "languages": parent[3], "has_custody": True}]}


def load_demo_cases(tenant: Tenant, password: str) -> bool:
    """Create the demo consent template, the case demo users and the demo cases; False if present."""
    with scoped(db.session, tenant.id):
        if db.session.scalar(sa.select(ConsentTemplate.id).where(ConsentTemplate.key == TEMPLATE_KEY)):
            return False
        now = utcnow()
        agencies = {a.name: a for a in db.session.scalars(sa.select(Agency))}
        users = {u.email: u for u in db.session.scalars(sa.select(User))}
        for email, name, role, agency in CASE_LOGINS:
            if email not in users:
                users[email] = create_user(tenant=tenant, agency=agencies[agency], email=email, display_name=name,
                                           roles={role}, password=password, actor=None, now=now)
        template = create_template(tenant, key=TEMPLATE_KEY, version=1, language="de",
                                   title="Einwilligung in die Weitergabe an das Präventionsteam",
                                   body=TEMPLATE_BODY, plain_body=TEMPLATE_PLAIN, purpose_texts=PURPOSE_TEXTS,
                                   actor=None, now=now)
        _cases(tenant, template, agencies, users, now)
        return True


def _cases(tenant: Tenant, template: ConsentTemplate, agencies: dict[str, Agency], users: dict[str, User],
           now: Any) -> None:
    jobcenter = users["erstkontakt@demo.praevcase.test"]
    clinic = users["geburtsklinik@demo.praevcase.test"]
    health_office = users["gesundheitsamt@demo.praevcase.test"]
    coordinator = users["koordination@demo.praevcase.test"]
    lotse = users["praeventionskraft@demo.praevcase.test"]
    team = ["Präventionsbüro Kreis Düren", "Gesundheitsamt Kreis Düren", "Kita Sonnenblume"]
    jc_questions = {"observed_on": now.date().isoformat(), "child_has_daycare": "nein", "german_language": "keine",
                    "family_language": "Türkisch", "interpreter_needed": True, "beyond_own_remit": True}

    # 1. The Kreis Düren example: Jobcenter → team → Gesundheitsamt as Lotse (in support)
    case = _open(tenant, JobcenterIntakeIn, IntakeChannel.jobcenter_observation, {
        **_family(("Deniz", "Mustermann", 5), ("Elif", "Mustermann", "Musterweg 1, 52349 Düren", "Türkisch")),
        **jc_questions, "needs": ["kita_platz", "sprachfoerderung"], "sozialraum": "Düren-Nord",
        "observation": "Mutter kommt mit dem Kind zu Terminen am Vormittag; das Kind hat keinen Kita-Platz.",
        "team_summary": "Kind, 5 Jahre, ohne Kita-Platz, spricht kein Deutsch; Familiensprache Türkisch.",
        "consent": _consent(template, agencies, team)}, jobcenter, now)
    ops.fire_case(case, "put_on_agenda", actor=coordinator, now=now)
    ops.fire_case(case, "assign_lotse", actor=coordinator, now=now, lotse=lotse,
                  reason="Gesundheitsamt übernimmt: Sprachförderung und Kita-Platz.")

    # 2. Jobcenter, consent given: waits for the next Schnittstellengespräch
    _open(tenant, JobcenterIntakeIn, IntakeChannel.jobcenter_observation, {
        **_family(("Lina", "Beispiel", 3), ("Tom", "Beispiel", "Beispielstraße 2, 52428 Jülich", "Deutsch")),
        **jc_questions, "german_language": "gut", "family_language": "Deutsch", "interpreter_needed": False,
        "needs": ["kita_platz", "materielle_lage"], "sozialraum": "Jülich",
        "team_summary": "Kind, 3 Jahre, ohne Betreuungsplatz; Vater alleinerziehend, sucht Arbeit.",
        "consent": _consent(template, agencies, team)}, jobcenter, now)

    # 3. Jobcenter, the parents decide later
    _open(tenant, JobcenterIntakeIn, IntakeChannel.jobcenter_observation, {
        **_family(("Noah", "Testmann", 7), ("Sara", "Testmann", "Testallee 3, 52349 Düren", "Arabisch")),
        **jc_questions, "family_language": "Arabisch", "needs": ["bildung", "sprachfoerderung"],
        "team_summary": "Schulkind, 7 Jahre, kaum Deutsch, Familie neu zugezogen.",
        "consent": {"status": "pending"}}, jobcenter, now)

    # 4. Birth clinic: consent given, waits for the second professional (Dr. Jan Krüger)
    _open(tenant, BirthClinicIntakeIn, IntakeChannel.birth_clinic_screening, {
        **_family(("Emma", "Musterfrau", 0), ("Julia", "Musterfrau", "Musterplatz 4, 52349 Düren", "Deutsch"),
                  days_old=3),
        "screened_on": now.date().isoformat(), "health_mother": "belastet", "health_father": "nicht_erhoben",
        "health_child": "unauffaellig", "parental_overload": "hinweise", "pregnancy_experience": "belastend",
        "beyond_own_remit": True, "needs": ["psychosoziale_belastung", "erziehung"],
        "team_summary": "Neugeborenes, Mutter allein, erschöpft; wünscht Unterstützung nach der Entlassung.",
        "consent": _consent(template, agencies, team, health=True)}, clinic, now)

    # 5. Kita entry exam of the Gesundheitsamt: on the agenda
    case = _open(tenant, KitaExamIntakeIn, IntakeChannel.kita_entry_exam, {
        **_family(("Paul", "Probe", 3), ("Anna", "Probe", "Probeweg 5, 52372 Kreuzau", "Polnisch, Deutsch")),
        "examined_on": now.date().isoformat(), "height_cm": 98.5, "weight_kg": 15.2, "vision": "unauffaellig",
        "hearing": "unauffaellig", "vaccination_status": "unvollstaendig", "vaccination_advice_given": True,
        "language": "auffaellig", "gross_motor": "altersgerecht", "visual_perception": "altersgerecht",
        "eye_hand_coordination": "grenzwertig", "concentration": "altersgerecht", "attention": "altersgerecht",
        "emotional_stability": "altersgerecht", "mother_tongue_ability": "altersgerecht",
        "participants": ["kinderaerztin", "kinderkrankenschwester", "kita_fachkraft", "eltern"],
        "beyond_own_remit": True, "needs": ["sprachfoerderung", "gesundheit"], "sozialraum": "Kreuzau",
        "team_summary": "Kita-Kind, 3 Jahre, Sprachentwicklung verzögert, Impfungen unvollständig.",
        "consent": _consent(template, agencies, team, health=True)}, health_office, now)
    ops.fire_case(case, "put_on_agenda", actor=coordinator, now=now)

    # 6. School entry exam (general channel): accompanied, then handed to the regular system
    case = _open(tenant, GeneralIntakeIn, IntakeChannel.school_entry_exam, {
        **_family(("Mia", "Beispielfrau", 6), ("Lea", "Beispielfrau", "Beispielring 6, 52385 Nideggen", "Deutsch")),
        "channel": "school_entry_exam", "contacted_on": now.date().isoformat(), "setting": "einrichtung",
        "beyond_own_remit": True, "needs": ["gesundheit", "teilhabe"],
        "team_summary": "Vorschulkind, 6 Jahre, motorische Förderung empfohlen; Familie wünscht Sportangebot.",
        "consent": _consent(template, agencies, team, health=True)}, health_office, now)
    ops.fire_case(case, "put_on_agenda", actor=coordinator, now=now)
    ops.fire_case(case, "assign_lotse", actor=coordinator, now=now, lotse=lotse)
    ops.fire_case(case, "close", actor=lotse, now=now, closing_reason=ClosingReason.handed_to_regular_system,
                  reason="Sportverein und Ergotherapie laufen.")

    # 7. Consent refused: the case stays in the Jobcenter
    _open(tenant, JobcenterIntakeIn, IntakeChannel.jobcenter_observation, {
        **_family(("Ben", "Beispielmann", 4), ("Kai", "Beispielmann", "Beispielgasse 7, 52349 Düren", "Deutsch")),
        **jc_questions, "german_language": "gut", "family_language": "Deutsch", "interpreter_needed": False,
        "needs": ["kita_platz"], "team_summary": "Kind, 4 Jahre, ohne Kita-Platz.",
        "consent": {"status": "refused"}}, jobcenter, now)
