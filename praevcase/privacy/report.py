"""The subject-access report (Art. 15 DSGVO): what is stored, consents, recipients, every access.

Built for the data-protection officer, who is otherwise content-blind: personal values are
revealed under the legal basis ``subject_access`` (consent.policy allows it to the dpo role only)
and every reveal is audited like any other; the report itself is audited as an export
(``privacy.subject_access``). Staff names are left out; agencies are named.

Other features add their part with ``register_report_section(fn)``:
``fn(family, *, actor, now) -> ReportSection | None`` (reveal with
``legal_basis=LegalBasis.subject_access, purpose=None``). The same dictionary feeds the HTML page,
the PDF and the JSON.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from consent.scopes import LABELS
from consent.scopes import ConsentState
from consent.scopes import DataCategory
from consent.scopes import LegalBasis
from consent.scopes import Purpose
from praevcase.accounts.models import ROLE_LABELS
from praevcase.audit.models import AuditEvent
from praevcase.audit.operations import record
from praevcase.audit.queries import action_label
from praevcase.audit.queries import family_events
from praevcase.extensions import db
from praevcase.privacy.models import PERSON_FIELDS
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import ConsentTemplate
from praevcase.privacy.models import ErasureTombstone
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.privacy.vault import reveal
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings

PERSON_LABELS = {"given_name": "Vorname", "family_name": "Familienname", "birth_date": "Geburtsdatum",
                 "address": "Anschrift", "phone": "Telefon", "languages": "Sprachen"}
ROLE_TEXT = {PersonRole.child: "Kind", PersonRole.guardian: "Sorgeberechtigte/r bzw. Elternteil"}
CHANNEL_TEXT = {"written": "schriftlich", "electronic": "elektronisch", "oral_documented": "mündlich (dokumentiert)"}
WITHDRAWAL_TEXT = {"in_person": "persönlich", "phone": "telefonisch", "written": "schriftlich",
                   "electronic": "elektronisch"}
OUTCOME_TEXT = {"ok": "erfolgt", "granted": "gewährt", "denied": "verweigert", "failed": "fehlgeschlagen"}


@dataclass
class ReportSection:
    """A part of the report contributed by a feature: a heading and a table (values already revealed)."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    intro: str | None = None


SectionBuilder = Callable[..., ReportSection | None]
#: Report parts of other features, in registration order
REPORT_SECTIONS: list[SectionBuilder] = []


def register_report_section(fn: SectionBuilder) -> SectionBuilder:
    """Add ``fn(family, *, actor, now) -> ReportSection | None`` to every subject-access report."""
    if fn not in REPORT_SECTIONS:
        REPORT_SECTIONS.append(fn)
    return fn


@dataclass
class SubjectAccessReport:
    generated_at: datetime
    tenant: str
    family: dict[str, Any]
    persons: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    recipients: list[dict[str, Any]]
    access_log: list[dict[str, Any]]
    retention: dict[str, Any]
    sections: list[ReportSection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601 text."""
        return _jsonable(asdict(self))

    def for_page(self) -> dict[str, Any]:
        """For templates: the same structure with datetimes kept (formatted in German there)."""
        return asdict(self)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _label(code: str | None) -> str:
    if code is None:
        return ""
    for enum_cls in (Purpose, DataCategory, LegalBasis, ConsentState):
        try:
            return LABELS[enum_cls(code)]
        except ValueError:
            continue
    return code


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _persons(family: Family, *, actor: Any, now: datetime) -> list[dict[str, Any]]:
    if family.erased_dt is not None:
        return []
    persons = db.session.scalars(sa.select(Person).where(Person.family_id == family.id)
                                 .order_by(Person.role, Person.created_dt, Person.id)).all()
    out = []
    for p in persons:
        values = reveal(family, p, list(PERSON_FIELDS), actor=actor, purpose=None, now=now,
                        legal_basis=LegalBasis.subject_access)
        out.append({"id": str(p.id), "role": ROLE_TEXT[p.role], "has_custody": p.has_custody,
                    "birth_year": p.birth_year, "recorded_at": p.created_dt,
                    "data": {PERSON_LABELS[k]: _text(values[k]) for k in PERSON_FIELDS}})
    return out


def _consents(family: Family, agencies: dict[uuid.UUID, str], *, actor: Any, now: datetime) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(ConsentRecord, ConsentTemplate).join(ConsentTemplate, ConsentTemplate.id == ConsentRecord.template_id)
        .where(ConsentRecord.family_id == family.id).order_by(ConsentRecord.obtained_dt, ConsentRecord.id)
    ).all()
    out = []
    for rec, tpl in rows:
        child_view = None
        if rec.child_view_ct is not None and family.erased_dt is None:
            child_view = reveal(family, rec, ["child_view"], actor=actor, purpose=None, now=now,
                                legal_basis=LegalBasis.subject_access)["child_view"]
        out.append({
            "id": str(rec.id),
            "template": {"title": tpl.title, "version": tpl.version, "language": tpl.language,
                         "sha256": tpl.text_sha256, "body": tpl.body, "plain_body": tpl.plain_body,
                         "purpose_texts": {k: tpl.purpose_texts[k] for k in sorted(tpl.purpose_texts)}},
            "purposes": [{"code": p, "label": _label(p)} for p in rec.purposes],
            "categories": [{"code": c, "label": _label(c)} for c in rec.categories],
            "recipients": [agencies.get(uuid.UUID(a), "unbekannte Stelle") for a in rec.recipient_agency_ids],
            "channel": CHANNEL_TEXT.get(rec.channel.value, rec.channel.value),
            "obtained_at": rec.obtained_dt, "obtained_by_agency": agencies.get(rec.obtained_agency_id, ""),
            "valid_from": rec.valid_from, "valid_until": rec.valid_until,
            "state": _label(rec.state.value),
            "withdrawn_at": rec.withdrawn_dt,
            "withdrawn_via": WITHDRAWAL_TEXT.get(rec.withdrawn_via or "", rec.withdrawn_via),
            "superseded_at": rec.superseded_dt,
            "child_view": _text(child_view) if child_view is not None else None,
            "evidence_sha256": rec.evidence_sha256,
        })
    return out


def _event_row(e: AuditEvent, agencies: dict[uuid.UUID, str]) -> dict[str, Any]:
    details = e.details or {}
    roles = ", ".join(ROLE_LABELS.get(r, r) for r in _roles(e.actor_roles))
    return {"at": e.occurred_dt, "action": action_label(e.action),
            "agency": agencies.get(e.actor_agency_id, "System") if e.actor_agency_id else "System",
            "roles": roles, "purpose": _label(e.purpose), "legal_basis": _label(e.legal_basis),
            "categories": [_label(c) for c in details.get("categories", [])],
            "outcome": OUTCOME_TEXT.get(e.outcome, e.outcome)}


def _roles(codes: str | None) -> list[Any]:
    from praevcase.accounts.models import Role

    out: list[Any] = []
    for c in (codes or "").split(","):
        if c:
            try:
                out.append(Role(c))
            except ValueError:
                out.append(c)
    return out


def _access(family: Family, agencies: dict[uuid.UUID, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every audit event of the family (staff names left out), and who outside the holder received what."""
    log, received = [], defaultdict(lambda: {"categories": set(), "purposes": set(), "count": 0,
                                              "first": None, "last": None})
    for e in db.session.scalars(family_events(family.id, family.tenant_id)):
        log.append(_event_row(e, agencies))
        if e.action == "data.reveal" and e.outcome == "granted" and e.actor_agency_id not in (None,
                                                                                            family.holder_agency_id):
            r = received[e.actor_agency_id]
            r["categories"].update(_label(c) for c in (e.details or {}).get("categories", []))
            if e.purpose:
                r["purposes"].add(_label(e.purpose))
            r["count"] += 1
            r["first"] = r["first"] or e.occurred_dt
            r["last"] = e.occurred_dt
    recipients = [{"agency": agencies.get(a, "unbekannte Stelle"), "categories": sorted(r["categories"]),
                   "purposes": sorted(r["purposes"]), "accesses": r["count"], "first_access": r["first"],
                   "last_access": r["last"]} for a, r in received.items()]
    return log, sorted(recipients, key=lambda r: r["agency"])


def build_report(family: Family, *, actor: Any, now: datetime) -> SubjectAccessReport:
    """Collect everything stored about *family* (revealing under the subject-access basis)."""
    tenant = db.session.get(Tenant, family.tenant_id)
    agencies = {a.id: a.name for a in db.session.scalars(sa.select(Agency).where(Agency.tenant_id == family.tenant_id))}
    tomb = db.session.scalar(sa.select(ErasureTombstone).where(ErasureTombstone.family_id == family.id))
    retention = effective_settings(tenant.settings)["retention"]
    persons = _persons(family, actor=actor, now=now)
    consents = _consents(family, agencies, actor=actor, now=now)
    sections = [s for fn in REPORT_SECTIONS if (s := fn(family, actor=actor, now=now)) is not None]
    log, recipients = _access(family, agencies)
    return SubjectAccessReport(
        generated_at=now, tenant=tenant.name,
        family={"case_number": family.case_number, "sozialraum": family.sozialraum, "created_at": family.created_dt,
                "source_agency": agencies.get(family.holder_agency_id, ""), "erased_at": family.erased_dt,
                "erasure_cause": tomb.cause if tomb else None},
        persons=persons, consents=consents, recipients=recipients, access_log=log,
        retention={"consent_ended_months": retention["refused_consent_months"],
                   "closed_case_months": retention["closed_case_months"],
                   "text": (f"Die Daten werden gelöscht, wenn alle Einwilligungen seit "
                            f"{retention['refused_consent_months']} Monaten beendet sind, bzw. "
                            f"{retention['closed_case_months']} Monate nach Abschluss des Falls.")},
        sections=sections,
    )


def subject_access_report(family: Family, *, fmt: str, actor: Any, now: datetime) -> SubjectAccessReport:
    """Build the report and record it as an export (action ``privacy.subject_access``)."""
    report = build_report(family, actor=actor, now=now)
    record(db.session, "privacy.subject_access", now=now, actor=actor, object_type="family", object_id=family.id,
           family_ref=family.id, legal_basis=LegalBasis.subject_access,
           details={"format": fmt, "persons": len(report.persons), "consents": len(report.consents),
                    "events": len(report.access_log), "sections": [s.title for s in report.sections]})
    return report
