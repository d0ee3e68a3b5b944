"""Demo data of the Schnittstellengespräch: the offers catalogue, the prevention team and the coming sessions.

Idempotent: offers are added by key, team seats only for agencies without one, sessions by the
day of the cadence. Invented people only (same password as the other demo users).
"""
from __future__ import annotations

import sqlalchemy as sa

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.accounts.operations import create_user
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.offers.demo import load_demo_offers
from praevcase.sessions.models import TeamSeat
from praevcase.sessions.operations import generate_sessions
from praevcase.sessions.operations import set_seat
from praevcase.tenancy import scoped
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant

#: A Präventionskraft of the Jobcenter, so that the agency that notices the need sits in the team
TEAM_LOGINS = [("jobcenter-team@demo.praevcase.test", "Frank Weber", Role.team_member, "Jobcenter Kreis Düren")]

#: agency -> e-mail of its Präventionskraft (None: the agency has not named one yet)
SEATS = {
    "Präventionsbüro Kreis Düren": "koordination@demo.praevcase.test",
    "Gesundheitsamt Kreis Düren": "praeventionskraft@demo.praevcase.test",
    "Jugendamt Kreis Düren": "jugendamt@demo.praevcase.test",
    "Jobcenter Kreis Düren": "jobcenter-team@demo.praevcase.test",
    "Kita Sonnenblume": None,
    "Familienhilfe Rur e. V.": None,
}


def load_demo_sessions(tenant: Tenant, password: str, *, months: int = 3) -> None:
    """Offers, team seats and the sessions of the next *months* (each part only where missing)."""
    load_demo_offers(tenant)
    with scoped(db.session, tenant.id):
        now = utcnow()
        agencies = {a.name: a for a in db.session.scalars(sa.select(Agency))}
        users = {u.email: u for u in db.session.scalars(sa.select(User))}
        for email, name, role, agency in TEAM_LOGINS:
            if email not in users and agency in agencies:
                users[email] = create_user(tenant=tenant, agency=agencies[agency], email=email, display_name=name,
                                           roles={role}, password=password, actor=None, now=now)
        seated = set(db.session.scalars(sa.select(TeamSeat.agency_id)))
        for agency_name, email in SEATS.items():
            agency = agencies.get(agency_name)
            if agency is None or agency.id in seated:
                continue
            user = users.get(email) if email else None
            set_seat(tenant, agency.id, user.id if user else None, actor=None, now=now)
        generate_sessions(tenant, months=months, actor=None, now=now)
