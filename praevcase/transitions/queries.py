"""What a Kita or school may list and open: its own protocols and those handed over to it."""
from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import sqlalchemy as sa

from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.privacy.models import Family
from praevcase.tenants.models import Agency
from praevcase.transitions.models import U1_DELIVERED
from praevcase.transitions.models import U2_DELIVERED
from praevcase.transitions.models import Handover
from praevcase.transitions.models import ProtocolKind
from praevcase.transitions.models import U1Protocol
from praevcase.transitions.models import U2Protocol
from praevcase.transitions.operations import MODELS
from praevcase.transitions.operations import RECEIVER_KIND

DELIVERED = {ProtocolKind.u1: U1_DELIVERED, ProtocolKind.u2: U2_DELIVERED}


def visible_to(model: Any, actor: Any) -> Any:
    """Written by the actor's institution, or handed over to it (never before the handover)."""
    delivered = DELIVERED[model.kind]
    return sa.or_(model.author_agency_id == actor.agency_id,
                  sa.and_(model.receiver_agency_id == actor.agency_id, model.state.in_(delivered)))


def get_protocol(kind: ProtocolKind, protocol_id: uuid.UUID, actor: Any, *, for_update: bool = False) -> Any:
    """The protocol if the actor's institution may see it; 404 otherwise (also for other tenants)."""
    model = MODELS[kind]
    q = sa.select(model).where(model.id == protocol_id, visible_to(model, actor))
    if for_update:
        q = q.with_for_update()
    protocol = db.session.scalar(q)
    if protocol is None:
        raise NotFound()
    return protocol


def listing(actor: Any, *, school_year: int | None = None) -> list[dict[str, Any]]:
    """Rows for the overview: kind, protocol, case number, whether it is the actor's own."""
    rows = []
    for kind, model in ((ProtocolKind.u1, U1Protocol), (ProtocolKind.u2, U2Protocol)):
        q = (sa.select(model, Family.case_number).join(Family, Family.id == model.family_id)
             .where(visible_to(model, actor)).order_by(model.school_year.desc(), Family.case_number))
        if school_year is not None:
            q = q.where(model.school_year == school_year)
        for protocol, case_number in db.session.execute(q):
            rows.append({"kind": kind, "protocol": protocol, "case_number": case_number,
                         "own": protocol.author_agency_id == actor.agency_id})
    return rows


def counts(rows: list[dict[str, Any]]) -> dict[tuple[str, int], Counter]:
    """Protocols per (kind, school year) and state."""
    out: dict[tuple[str, int], Counter] = {}
    for row in rows:
        p = row["protocol"]
        out.setdefault((row["kind"].value, p.school_year), Counter())[p.state.value] += 1
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0], -kv[0][1])))


def school_years(actor: Any) -> list[int]:
    years: set[int] = set()
    for model in (U1Protocol, U2Protocol):
        years |= set(db.session.scalars(sa.select(model.school_year).where(visible_to(model, actor)).distinct()))
    return sorted(years, reverse=True)


def schools(kind: ProtocolKind) -> list[Agency]:
    """Active schools that can receive protocols of *kind*."""
    return list(db.session.scalars(sa.select(Agency).where(Agency.kind == RECEIVER_KIND[kind], Agency.is_active)
                                   .order_by(Agency.name)))


def agency_names(ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Agency.id, Agency.name).where(Agency.id.in_(ids))).all())


def handovers(protocol: Any, actor: Any) -> list[Handover]:
    """The protocol's handovers, oldest first: all for its author, only those to it for a receiving school."""
    rows = db.session.scalars(sa.select(Handover).where(
        getattr(Handover, f"{protocol.kind.value}_protocol_id") == protocol.id).order_by(Handover.handed_over_dt)).all()
    if actor.agency_id == protocol.author_agency_id:
        return list(rows)
    return [h for h in rows if h.to_agency_id == actor.agency_id]
