"""API: Ü1/Ü2 transition protocols of the caller's institution and those handed over to it.

The same operations and checks as the pages: a school sees a protocol only after its handover,
personal data comes through the consent check (or the recorded school-law basis) and every read
is in the audit log; a trigger is refused unless your institution may fire it in that state.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import g
from flask_smorest import Blueprint

from praevcase.api import ProblemOut
from praevcase.database import utcnow
from praevcase.errors import InvalidInput
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.permissions import requires
from praevcase.privacy.models import Family
from praevcase.privacy.vault import Denied
from praevcase.statemachine import permitted_triggers
from praevcase.transitions import operations as ops
from praevcase.transitions import queries
from praevcase.transitions.models import ProtocolKind
from praevcase.transitions.permissions import PROTOCOLS
from praevcase.transitions.schemas import ProtocolDetailOut
from praevcase.transitions.schemas import ProtocolListArgs
from praevcase.transitions.schemas import ProtocolOut
from praevcase.transitions.schemas import ProtocolTriggerIn
from praevcase.transitions.schemas import ReceiverIn
from workflows import WORKFLOWS

blp = Blueprint("transitions_api", __name__, url_prefix="/api/v1/transitions",
                description="Übergänge Kita → Grundschule (Ü1) und Grundschule → weiterführende Schule (Ü2)")

_CONFLICT = {"schema": ProblemOut, "description": "stale version (code stale) or refused transition"}


def _summary(protocol: Any, case_number: str, now: datetime) -> dict[str, Any]:
    workflow = WORKFLOWS[protocol.workflow_name]
    return {"id": protocol.id, "kind": protocol.kind, "case_number": case_number, "school_year": protocol.school_year,
            "state": protocol.state.value, "state_label": workflow.state_label(protocol.state),
            "version": protocol.version, "own": protocol.author_agency_id == g.user.agency_id,
            "author_agency_id": protocol.author_agency_id, "receiver_agency_id": protocol.receiver_agency_id,
            "permitted_triggers": permitted_triggers(workflow, protocol, actor=g.user, now=now)}


def _plain(value: Any) -> Any:
    return None if isinstance(value, Denied) else value if value is None or isinstance(value, str) else str(value)


def _detail(protocol: Any) -> dict[str, Any]:
    now = utcnow()
    out = _summary(protocol, db.session.get(Family, protocol.family_id).case_number, now)
    versions = ops.readable_versions(protocol, g.user)
    content = ops.read_version(protocol, versions[0], actor=g.user, now=now) if versions else None
    child = ops.read_child(protocol, actor=g.user, now=now)
    denied = next((v.reason for v in (content, *child.values()) if isinstance(v, Denied)), None)
    out.update(child=None if denied else {k: _plain(v) for k, v in child.items()},
               content=None if isinstance(content, Denied) else content,
               version_number=versions[0].number if versions else None, denied=denied,
               handovers=[{"id": str(h.id), "from_agency_id": str(h.from_agency_id),
                           "to_agency_id": str(h.to_agency_id), "legal_basis": h.legal_basis,
                           "handed_over_dt": h.handed_over_dt.isoformat(),
                           "received_dt": h.received_dt.isoformat() if h.received_dt else None}
                          for h in queries.handovers(protocol, g.user)])
    return out


@blp.route("/")
@requires(PROTOCOLS)
@blp.arguments(ProtocolListArgs, location="query")
@blp.response(200, ProtocolOut(many=True))
def list_protocols(args: dict[str, Any]):
    """Protocols of your institution and those handed over to it (no personal data in the list)."""
    now = utcnow()
    rows = queries.listing(g.user, school_year=args.get("school_year"))
    return [_summary(r["protocol"], r["case_number"], now) for r in rows
            if args.get("kind") is None or r["kind"] is args["kind"]]


@blp.route("/<kind>/<uuid:protocol_id>")
@requires(PROTOCOLS)
@blp.response(200, ProtocolDetailOut)
def get_protocol(kind: str, protocol_id: uuid.UUID):
    """One protocol with the child's name and the latest version you may read (consent-checked, logged)."""
    return _detail(queries.get_protocol(_kind(kind), protocol_id, g.user))


@blp.route("/<kind>/<uuid:protocol_id>/receiver", methods=["PUT"])
@requires(PROTOCOLS)
@blp.arguments(ReceiverIn)
@blp.response(200, ProtocolDetailOut)
def set_receiver(data: dict[str, Any], kind: str, protocol_id: uuid.UUID):
    """Name the receiving school (the writing Kita or Grundschule, before the handover)."""
    protocol = queries.get_protocol(_kind(kind), protocol_id, g.user, for_update=True)
    ops.set_receiver(protocol, data["receiver_agency_id"], actor=g.user, now=utcnow())
    return _detail(protocol)


@blp.route("/<kind>/<uuid:protocol_id>/transitions", methods=["POST"])
@requires(PROTOCOLS)
@blp.arguments(ProtocolTriggerIn)
@blp.response(200, ProtocolDetailOut)
@blp.alt_response(409, **_CONFLICT)
def fire(data: dict[str, Any], kind: str, protocol_id: uuid.UUID):
    """Fire a trigger: hand over (only to a school an active consent names, or on school law), confirm
    receipt, defer, record the follow-up visit (``follow_up_on``, ``note``), forward (``to``) …"""
    protocol = queries.get_protocol(_kind(kind), protocol_id, g.user, for_update=True)
    if data["trigger"] not in WORKFLOWS[protocol.workflow_name].triggers:
        raise InvalidInput(errors={"trigger": ["Diese Aktion gibt es für dieses Protokoll nicht."]})
    ops.fire(protocol, data["trigger"], actor=g.user, now=utcnow(), expected_version=data["expected_version"],
             reason=data["reason"], to=data["to"], follow_up_on=data["follow_up_on"], note=data["note"])
    return _detail(protocol)


def _kind(segment: str) -> ProtocolKind:
    try:
        return ProtocolKind(segment)
    except ValueError:
        raise NotFound() from None
