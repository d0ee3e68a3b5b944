"""May a protocol go to this school? The one check behind every handover and forward.

Ü1 always needs the parents' consent; Ü2 needs it unless the tenant set the school law as the
basis (``settings["u2_handover_basis"]``). A consent counts only if it is active at *now*, names
the transition's purpose, covers the child's identity and the protocol content (education) and
names the receiving school itself — the same pure policy function that gates every reveal.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from consent.policy import Subject
from consent.policy import Viewer
from consent.policy import decide
from consent.scopes import DataCategory
from consent.scopes import LegalBasis
from consent.scopes import Purpose
from praevcase.extensions import db
from praevcase.privacy import vault
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings
from praevcase.transitions.models import ProtocolKind

PURPOSE = {ProtocolKind.u1: Purpose.transition_u1, ProtocolKind.u2: Purpose.transition_u2}
#: What the receiving school gets: who the child is, and the protocol
HANDOVER_CATEGORIES = (DataCategory.identity, DataCategory.education)


def configured_basis(protocol: Any) -> LegalBasis:
    """The legal basis a handover of *protocol* has to rely on in its tenant."""
    if protocol.kind is ProtocolKind.u1:
        return LegalBasis.consent
    tenant = db.session.get(Tenant, protocol.tenant_id)
    return LegalBasis(effective_settings(tenant.settings)["u2_handover_basis"])


def handover_basis(protocol: Any, to_agency_id: uuid.UUID, *, now: datetime
                   ) -> tuple[LegalBasis, uuid.UUID | None] | None:
    """``(legal basis, consent id)`` that permits handing *protocol* to *to_agency_id* now, or None."""
    basis = configured_basis(protocol)
    if basis is LegalBasis.school_law:
        return basis, None
    grants = vault.grants_for([protocol.family_id])[protocol.family_id]
    # The school is judged as a recipient only: no holder, so nothing passes as "own agency".
    subject = Subject(tenant_id=str(protocol.tenant_id), family_id=str(protocol.family_id),
                      holder_agency_ids=frozenset())
    viewer = Viewer(user_id="handover-check", tenant_id=str(protocol.tenant_id), agency_id=str(to_agency_id),
                    roles=frozenset({"school_staff"}))
    decisions = [decide(viewer=viewer, subject=subject, category=c, purpose=PURPOSE[protocol.kind],
                        grants=grants, now=now) for c in HANDOVER_CATEGORIES]
    if not all(decisions):
        return None
    return LegalBasis.consent, uuid.UUID(decisions[-1].consent_id)
