"""Demo data of the transitions: a Kita child with an Ü1 draft, a Grundschule child with an issued Ü2."""
from __future__ import annotations

from datetime import date
from datetime import datetime

import sqlalchemy as sa

from praevcase.accounts.models import User
from praevcase.extensions import db
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings
from praevcase.transitions import operations as ops
from praevcase.transitions.calendar import SchoolCalendar
from praevcase.transitions.calendar import local_date
from praevcase.transitions.content import content_schema
from praevcase.transitions.models import ProtocolKind
from praevcase.transitions.models import U1Protocol

U1_CONTENT = {"level_bewegung": "sicher_altersgemaess", "note_bewegung": "Klettert gern, fährt Laufrad.",
              "level_sprache_und_kommunikation": "in_entwicklung",
              "note_sprache_und_kommunikation": "Erzählt in kurzen Sätzen; zweisprachig (Deutsch, Polnisch).",
              "level_mathematische_bildung": "sicher_altersgemaess",
              "support": "Sprachförderung in Kleingruppe seit 2025",
              "interests": "Bauen mit Holz, Tiere, Singen"}
U2_CONTENT = {"level_arbeitsverhalten": "ausgepraegt", "level_sozialverhalten": "deutlich_ausgepraegt",
              "level_leistungsstand_deutsch": "ausgepraegt", "level_leistungsstand_mathematik": "deutlich_ausgepraegt",
              "note_leistungsstand_mathematik": "Löst Sachaufgaben selbstständig.", "recommendation": "gymnasium",
              "reasoning": "Arbeitet ausdauernd und strukturiert; sehr gute Leistungen in Mathematik."}


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _agency(name: str) -> Agency:
    return db.session.scalar(sa.select(Agency).where(Agency.name == name))


def _protocol(kind: ProtocolKind, actor: User, *, given: str, family: str, birth: date, guardian: str,
              receiver: Agency, school_year: int, content: dict, now: datetime):
    protocol = ops.create_protocol(kind, child={"given_name": given, "family_name": family, "birth_date": birth},
                                   guardians=[{"given_name": guardian, "family_name": family}],
                                   receiver_agency_id=receiver.id, school_year=school_year, actor=actor, now=now)
    template = ops.current_template(protocol.tenant_id, kind, now=now)
    ops.save_content(protocol, content_schema(kind, template).load(content), template=template, actor=actor, now=now)
    return protocol


def load_transition_demo(tenant: Tenant, *, now: datetime) -> bool:
    """Add the two demo protocols unless the tenant has protocols already; returns True if added."""
    from praevcase.demo import DEMO_PASSWORD
    from praevcase.demo import LOGINS

    if db.session.scalar(sa.select(U1Protocol.id).limit(1)) is not None:
        return False
    from praevcase.accounts.operations import create_user

    for login in LOGINS:  # demo databases created before these logins existed
        if _user(login.email) is None and _agency(login.agency) is not None:
            create_user(tenant=tenant, agency=_agency(login.agency), email=login.email, display_name=login.name,
                        roles={login.role}, password=DEMO_PASSWORD, actor=None, now=now)
    kita, school = _user("kita@demo.praevcase.test"), _user("grundschule@demo.praevcase.test")
    if kita is None or school is None:
        return False
    this_year = SchoolCalendar.of(effective_settings(tenant.settings)).school_year_of(local_date(now))
    _protocol(ProtocolKind.u1, kita, given="Mila", family="Sommerfeld", birth=date(this_year - 5, 5, 12),
              guardian="Julia", receiver=_agency("Grundschule Am Rurufer"), school_year=this_year + 1,
              content=U1_CONTENT, now=now)
    u2 = _protocol(ProtocolKind.u2, school, given="Noah", family="Bergmann", birth=date(this_year - 9, 2, 3),
                   guardian="Deniz", receiver=_agency("Gesamtschule Düren"), school_year=this_year + 1,
                   content=U2_CONTENT, now=now)
    ops.fire(u2, "issue", actor=school, now=now)
    return True
