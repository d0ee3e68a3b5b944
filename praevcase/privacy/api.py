"""API: a family's consent records (metadata), withdrawal, and the subject-access report (dpo)."""
from __future__ import annotations

import uuid

from flask import g
from flask_smorest import Blueprint

from praevcase.database import utcnow
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.permissions import requires
from praevcase.privacy import operations as ops
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import Family
from praevcase.privacy.permissions import CONSENT_READ
from praevcase.privacy.permissions import CONSENT_WITHDRAW
from praevcase.privacy.permissions import SUBJECT_ACCESS
from praevcase.privacy.queries import family_consents
from praevcase.privacy.queries import involved
from praevcase.privacy.report import subject_access_report
from praevcase.privacy.schemas import ConsentOut
from praevcase.privacy.schemas import SubjectAccessOut
from praevcase.privacy.schemas import WithdrawIn

blp = Blueprint("privacy_api", __name__, url_prefix="/api/v1/families",
                description="Einwilligungen und Auskunft (Art. 15 DSGVO)")


def _family(family_id: uuid.UUID, *, need_to_know: bool = True) -> Family:
    family = db.session.get(Family, family_id)
    if family is None or (need_to_know and not involved(g.user, family)):
        raise NotFound()
    return family


def _consent(family: Family, consent_id: uuid.UUID, *, lock: bool = False) -> ConsentRecord:
    rec = db.session.get(ConsentRecord, consent_id, with_for_update=lock)
    if rec is None or rec.family_id != family.id:
        raise NotFound()
    return rec


@blp.route("/<uuid:family_id>/consents")
@requires(CONSENT_READ)
@blp.response(200, ConsentOut(many=True))
def list_consents(family_id: uuid.UUID):
    """Consent records of a family, newest first (metadata only; 404 unless your agency is involved)."""
    return family_consents(_family(family_id))


@blp.route("/<uuid:family_id>/consents/<uuid:consent_id>")
@requires(CONSENT_READ)
@blp.response(200, ConsentOut)
def get_consent(family_id: uuid.UUID, consent_id: uuid.UUID):
    """One consent record of a family."""
    return _consent(_family(family_id), consent_id)


@blp.route("/<uuid:family_id>/consents/<uuid:consent_id>/withdraw", methods=["POST"])
@requires(CONSENT_WITHDRAW)
@blp.arguments(WithdrawIn)
@blp.response(200, ConsentOut)
def withdraw_consent(data, family_id: uuid.UUID, consent_id: uuid.UUID):
    """Record a withdrawal (via: in_person, phone, written, electronic); effective at once.

    ``expected_version`` (optional) gives 409 if the record changed since it was read.
    """
    family = _family(family_id)
    rec = _consent(family, consent_id, lock=True)
    return ops.withdraw_consent(rec, via=data["via"], actor=g.user, now=utcnow(),
                                expected_version=data["expected_version"])


@blp.route("/<uuid:family_id>/subject-access")
@requires(SUBJECT_ACCESS)
@blp.response(200, SubjectAccessOut)
def subject_access(family_id: uuid.UUID):
    """The subject-access report (Art. 15 DSGVO) as JSON: data, consents with texts, recipients, access log.

    Personal values are revealed under the legal basis subject_access (dpo only) and audited; the
    report is audited as an export.
    """
    family = _family(family_id, need_to_know=False)
    return subject_access_report(family, fmt="api", actor=g.user, now=utcnow()).to_dict()


