"""Who may work with transition protocols, and who may fire which trigger.

Kita and school staff act only on protocols of their own institution and on those addressed to
it: the sending institution finalizes, reopens, hands over, defers, resumes, records the
follow-up, issues and forwards; the receiving school confirms receipt and records school start
(which the school-start sweep also does, without a person).
"""
from __future__ import annotations

from typing import Any

from praevcase.accounts.models import Role
from praevcase.permissions import declare
from praevcase.permissions import effective_roles
from praevcase.permissions import grant
from praevcase.statemachine import allow

PROTOCOLS = declare("transitions.protocols",
                    "Übergangsprotokolle (Ü1/Ü2) der eigenen Einrichtung schreiben, übergeben und empfangen")
TEMPLATES = declare("transitions.templates", "Vorlagen der Übergangsprotokolle (Bereiche, Skalen) bearbeiten")

grant(Role.school_staff, PROTOCOLS)
grant(Role.admin, TEMPLATES)


def _staff_of(actor: Any, protocol: Any, agency_id: Any) -> bool:
    return (Role.school_staff in effective_roles(actor) and actor.tenant_id == protocol.tenant_id
            and agency_id is not None and actor.agency_id == agency_id)


@allow("u1_protocol", "finalize", "reopen", "hand_over", "defer", "resume", "record_follow_up")
def _u1_sender(actor: Any, protocol: Any) -> bool:
    return _staff_of(actor, protocol, protocol.author_agency_id)


@allow("u1_protocol", "confirm_receipt", "school_started")
def _u1_receiver(actor: Any, protocol: Any) -> bool:
    return _staff_of(actor, protocol, protocol.receiver_agency_id)


@allow("u2_protocol", "issue", "hand_over")
def _u2_author(actor: Any, protocol: Any) -> bool:
    return _staff_of(actor, protocol, protocol.author_agency_id)


@allow("u2_protocol", "confirm_receipt", "forward")
def _u2_receiver(actor: Any, protocol: Any) -> bool:
    # forward ("wandert mit"): the school that received the protocol sends it on to the child's new school
    return _staff_of(actor, protocol, protocol.receiver_agency_id)
