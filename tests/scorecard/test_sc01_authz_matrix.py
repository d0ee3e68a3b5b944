"""SC-01 authorization matrix: every route and API endpoint × every role × agency × tenant × consent state.

The routes come from ``app.url_map`` (a new route is covered without touching this file); each URL
parameter is filled with ids of objects of the own tenant (different agencies, families in every
consent state), of another tenant and of nothing. The expected outcome is derived, not listed:

- the route's permission (``praevcase.permissions``: declare/grant, the role table) decides
  anonymous → login (web 302) / 401 (API), not granted → 403;
- a granted request for another tenant's object (or no object) → 404;
- a granted request for an own-tenant object → any answer but a server error;
- never a 5xx;
- the body of every response is searched for the canary names planted in the seeded families:
  a family's name may only appear where the consent kernel (``consent.policy.decide``, fed with the
  family's grants as they are at that moment) lets this viewer see the family's identity for some
  purpose — never another tenant's family, never a family whose consent is missing, withdrawn,
  expired or names another agency.

Two full demo tenants ("Kreis Düren (Demo)", loaded twice) give objects of every kind.
"""
from __future__ import annotations

import itertools
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from consent.scopes import DataCategory
from consent.scopes import LegalBasis
from consent.scopes import Purpose
from praevcase.accounts.models import ApiToken
from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.accounts.tokens import create_token
from praevcase.cases import operations as case_ops
from praevcase.cases.catalogue import IntakeChannel
from praevcase.cases.models import Case
from praevcase.cases.schemas import JobcenterIntakeIn
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.lotse.models import Contact
from praevcase.offers.models import Offer
from praevcase.permissions import AUTHENTICATED
from praevcase.permissions import PUBLIC
from praevcase.permissions import endpoint_permission
from praevcase.permissions import permissions_of
from praevcase.privacy import operations as privacy_ops
from praevcase.privacy.models import ConsentChannel
from praevcase.privacy.models import ConsentRecord
from praevcase.privacy.models import ConsentTemplate
from praevcase.privacy.models import ErasureRequest
from praevcase.privacy.models import Family
from praevcase.privacy.models import Person
from praevcase.privacy.models import PersonRole
from praevcase.privacy.vault import FIELD_CATEGORIES
from praevcase.privacy.vault import check_access
from praevcase.privacy.vault import forget_grants
from praevcase.referrals.models import Referral
from praevcase.reminders.models import Reminder
from praevcase.reports.models import ReachDenominator
from praevcase.sessions.models import AgendaItem
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.models import SessionAttendee
from praevcase.sessions.models import TeamSeat
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import scoped
from praevcase.tenancy import set_scope
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant
from praevcase.transitions.models import ProtocolVersion
from praevcase.transitions.models import U1Protocol
from praevcase.transitions.models import U2Protocol
from tests.conftest import arrange
from tests.conftest import get_csrf
from tests.conftest import login_as
from tests.factories import UserFactory
from tests.scorecard._committed import committed_app

MIN_REQUESTS = 5_000

#: URL parameter → the model whose ids fill it. A route with a parameter not named here fails the
#: test (so a new kind of object gets its own-tenant / other-tenant ids, not a blind guess).
PARAM_MODELS: dict[str, tuple[type, ...]] = {
    "case_id": (Case,), "family_id": (Family,), "consent_id": (ConsentRecord,), "offer_id": (Offer,),
    "referral_id": (Referral,), "session_id": (ReviewSession,), "item_id": (AgendaItem,),
    "attendee_id": (SessionAttendee,), "seat_id": (TeamSeat,), "user_id": (User,), "agency_id": (Agency,),
    "denominator_id": (ReachDenominator,), "request_id": (ErasureRequest,), "reminder_id": (Reminder,),
    "token_id": (ApiToken,), "protocol_id": (U1Protocol, U2Protocol), "version_id": (ProtocolVersion,),
    "contact_id": (Contact,),
}
#: Non-id parameters: plausible values (the any() converters list their own).
TEXT_PARAMS = {"slug": "jobcenter", "trigger": "submit", "token": "kein-gueltiger-token", "filename": "x.css"}
#: Parameters whose value follows from the rule (any() converters) or from the protocol in the URL.
CHOICE_PARAMS = ("page", "key", "segment", "kind")

#: (family name, consent state) of the planted families; the tenant-B family has its own canary.
CANARY_STATES = ("active", "other_recipient", "pending", "withdrawn", "expired")
CANARY_OTHER_TENANT = "Kanarowska"


def _canary(state: str) -> str:
    return "Kanar" + {"active": "ia", "other_recipient": "ello", "pending": "ienko", "withdrawn": "ovic",
                      "expired": "ussen"}[state]



@pytest.fixture
def app(keyring):
    """Thousands of requests: on a database of their own, committed (tests/scorecard/_committed.py)."""
    with committed_app(keyring, "sc01") as app:
        yield app

# --- seed ---------------------------------------------------------------------------------------


def _load_two_demo_tenants() -> tuple[Tenant, Tenant]:
    from praevcase.demo import load_demo

    a, _ = load_demo()
    db.session.flush()
    # make room for a second copy of the demo: another slug and other e-mail addresses for the first
    db.session.execute(sa.update(Tenant).where(Tenant.id == a.id).values(slug="sc01-tenant-a"))
    db.session.execute(sa.update(User).where(User.tenant_id == a.id).values(email="a-" + User.email))
    b, _ = load_demo()
    db.session.flush()
    set_scope(db.session, ALL_TENANTS)
    return a, b


def _intake(tenant: Tenant, actor: User, family_name: str, consent: dict[str, Any]) -> Case:
    today = utcnow().date()
    payload = {
        "children": [{"given_name": family_name + "kind", "family_name": family_name,
                      "birth_date": (today - timedelta(days=5 * 365)).isoformat(), "languages": "Deutsch"}],
        "guardians": [{"given_name": family_name + "mutter", "family_name": family_name,
                       "address": "Kanarienweg 1, 52349 Düren", "phone": "0000 111111", "has_custody": True}],
        "observed_on": today.isoformat(), "child_has_daycare": "nein", "german_language": "gut",
        "family_language": "Deutsch", "interpreter_needed": False, "beyond_own_remit": True,
        "needs": ["kita_platz"], "team_summary": "Kind, 5 Jahre, ohne Kita-Platz.", "consent": consent,
    }
    data = JobcenterIntakeIn().load(payload)
    return case_ops.open_case(tenant, IntakeChannel.jobcenter_observation, data, JobcenterIntakeIn.ANSWER_FIELDS,
                              actor=actor, now=utcnow())


def _plant_canaries(tenant: Tenant, other: Tenant) -> dict[str, tuple[uuid.UUID, uuid.UUID]]:
    """Canary families in each consent state (tenant A) and one in tenant B: name → (tenant, family)."""
    now = utcnow()
    planted: dict[str, tuple[uuid.UUID, uuid.UUID]] = {}
    for t, states in ((tenant, CANARY_STATES), (other, ("active",))):
        with scoped(db.session, t.id):
            agencies = {a.kind.value: a for a in db.session.scalars(sa.select(Agency))}
            template = db.session.scalars(sa.select(ConsentTemplate)).first()
            intake = db.session.scalars(sa.select(User).where(
                User.agency_id == agencies["jobcenter"].id, User.role_rows.any(role=Role.intake))).first()
            team = [agencies[k].id for k in ("praeventionsbuero", "gesundheitsamt", "kita")]
            for state in states:
                name = _canary(state) if t is tenant else CANARY_OTHER_TENANT
                recipients = [agencies["freier_traeger"].id] if state == "other_recipient" else team
                consent = {"status": "pending"} if state in ("pending", "expired") else {
                    "status": "given", "template_id": str(template.id),
                    "purposes": ["team_review", "lotse_support", "referral"],
                    "categories": ["identity", "contact", "family_situation", "case_notes"],
                    "recipient_agency_ids": [str(x) for x in recipients], "channel": "written"}
                case = _intake(t, intake, name, consent)
                family = db.session.get(Family, case.family_id)
                if state == "withdrawn":
                    rec = db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.family_id == family.id)).one()
                    privacy_ops.withdraw_consent(rec, via="oral", actor=intake, now=now)
                if state == "expired":
                    guardian = db.session.scalars(sa.select(Person).where(
                        Person.family_id == family.id, Person.role == PersonRole.guardian)).one()
                    privacy_ops.record_consent(
                        family, template=template, purposes={Purpose.team_review, Purpose.lotse_support},
                        categories={DataCategory.identity, DataCategory.contact},
                        recipient_agency_ids=set(team), signatories=[{"person_id": guardian.id}],
                        channel=ConsentChannel.written, actor=intake, now=now,
                        valid_from=now - timedelta(days=400), valid_until=now - timedelta(days=1))
                    privacy_ops.expire_due_consents(now=now)
                planted[name] = (t.id, family.id)
            db.session.flush()
    return planted


# --- the matrix ---------------------------------------------------------------------------------


def _rows(model: type, tenant_id: uuid.UUID) -> list[Any]:
    return list(db.session.scalars(sa.select(model).where(model.tenant_id == tenant_id)))


def _variants(rule, own: dict[str, list[Any]], other: dict[str, list[Any]], victims: dict[str, Any], full: bool):
    """(variant label, {param: value}) for *rule*: own-tenant objects, another tenant's, nothing."""
    params = [a for a in rule.arguments]
    uuid_params = [p for p in params if p in PARAM_MODELS]
    unknown = [p for p in params if p not in PARAM_MODELS and p not in TEXT_PARAMS and p not in CHOICE_PARAMS]
    assert not unknown, f"{rule.rule}: no ids for {unknown} (add the model to PARAM_MODELS)"

    def text_values(anchor=None) -> dict[str, str]:
        out = {p: TEXT_PARAMS[p] for p in params if p in TEXT_PARAMS}
        for p in ("page", "key"):
            if p in params:
                out[p] = _any_values(rule, p)[0]
        if "segment" in params:  # web: ue1/ue2, API: u1/u2 (the kind of the protocol in the URL)
            out["segment"] = "ue2" if isinstance(anchor, U2Protocol) else "ue1"
        if "kind" in params:
            out["kind"] = "u2" if isinstance(anchor, U2Protocol) else "u1"
        return out

    if not uuid_params:
        yield "none", text_values()
        return
    last = uuid_params[-1]

    def consistent(pool: dict[str, list[Any]], row) -> dict[str, Any] | None:
        """Parents of *row* for the earlier parameters (session of an agenda item, protocol of a version)."""
        found = {last: row}
        for p in uuid_params[:-1]:
            parent_id = getattr(row, p, None)
            match = next((r for r in pool.get(p, []) if r.id == parent_id), None)
            if match is None:
                match = next(iter(pool.get(p, [])), None)
            if match is None:
                return None
            found[p] = match
        return found

    def values(found: dict[str, Any]) -> dict[str, Any]:
        anchor = found.get("protocol_id")
        return {**text_values(anchor), **{p: str(r.id) for p, r in found.items()}}

    own_rows = victims.get(last) or own.get(last, [])
    for i, row in enumerate(own_rows):
        found = consistent(own, row)
        if found is not None:
            yield f"own{i}", values(found)
    other_found = next((f for f in (consistent(other, r) for r in other.get(last, [])) if f is not None), None)
    if other_found is not None:
        yield "other_tenant", values(other_found)
    if other_found is None or full:  # no object of this kind in the other tenant: an id of nothing
        yield "missing", {**text_values(), **{p: str(uuid.uuid4()) for p in uuid_params}}


def _any_values(rule, name) -> list[str]:
    """The alternatives of an ``<any(a,b,c):name>`` parameter, read from the rule text."""
    import re

    match = re.search(r"<any\(([^)]*)\):" + name + ">", rule.rule)
    return sorted(x.strip() for x in match.group(1).split(","))


def _url(rule, values: dict[str, Any]) -> str:
    return rule.build(values, append_unknown=False)[1]


def test_sc01_every_route_role_agency_tenant_and_consent_state_follows_the_policy(app, scorecard):
    """The CI sample: every route, actor and consent state; one own-tenant object of the other kinds."""
    _matrix(app, scorecard, per_kind=1, check="SC-01")


@pytest.mark.long
def test_sc01_full_matrix_with_more_objects_of_every_kind(app, scorecard):
    """The full run: three own-tenant objects of every kind (pytest -m long tests/scorecard)."""
    _matrix(app, scorecard, per_kind=3, check="SC-01-full")


def _matrix(app, scorecard, *, per_kind: int, check: str) -> None:
    with arrange(app):
        tenant_a, tenant_b = _load_two_demo_tenants()
        planted = _plant_canaries(tenant_a, tenant_b)
        actors, kinds = [], set()
        for u in db.session.scalars(sa.select(User).where(User.tenant_id == tenant_a.id).order_by(User.email)):
            kind = (frozenset(u.roles), u.agency.kind)  # one actor per role × agency kind (all of them when full)
            if per_kind > 1 or kind not in kinds:
                actors.append(u)
                kinds.add(kind)
        victim_agency = db.session.scalars(sa.select(Agency).where(Agency.tenant_id == tenant_a.id)).first()
        victim = UserFactory(agency=victim_agency, roles=[Role.intake], display_name="Opfer Konto")
        victim_token, _ = create_token(victim, name="v", scopes={Role.intake}, now=utcnow())
        bearer = {}
        for u in actors:
            _, plaintext = create_token(u, name="sc01", scopes=set(u.roles), now=utcnow())
            bearer[u.id] = {"Authorization": f"Bearer {plaintext}"}
        own, other = {}, {}
        for p, models in PARAM_MODELS.items():
            own[p] = [r for m in models for r in _rows(m, tenant_a.id)]
            other[p] = [r for m in models for r in _rows(m, tenant_b.id)]
        canary_families = {name: fam for name, (_, fam) in planted.items()}
        # own-tenant ids: the canary families (every consent state) and per_kind more of each kind
        canary_case_ids = set(db.session.scalars(
            sa.select(Case.id).where(Case.family_id.in_(canary_families.values()))))
        for p in own:
            if p in ("case_id", "family_id", "consent_id"):
                ids = canary_case_ids if p == "case_id" else set(canary_families.values())
                key = {"case_id": "id", "family_id": "id", "consent_id": "family_id"}[p]
                own[p] = [r for r in own[p] if getattr(r, key) in ids] + [r for r in own[p]
                                                                          if getattr(r, key) not in ids][:per_kind]
            else:
                own[p] = own[p][:per_kind]
        # rows whose change would disturb the run (accounts, tokens) are taken from a bystander
        victims = {"user_id": [victim], "token_id": [victim_token]}
        actor_roles = {u.id: frozenset(u.roles) for u in actors}
        actor_label = {u.id: f"{'+'.join(sorted(r.value for r in u.roles))}@{u.agency.kind.value}" for u in actors}

    def visible_canaries() -> dict[uuid.UUID, set[str]]:
        """Per actor: the planted names the consent kernel lets it see right now (identity, any purpose)."""
        out: dict[uuid.UUID, set[str]] = {}
        with arrange(app):
            forget_grants()
            now = utcnow()
            category = FIELD_CATEGORIES[("persons", "family_name")]
            families = {name: db.session.get(Family, fid) for name, fid in canary_families.items()}
            for u in actors:
                user = db.session.get(User, u.id)
                bases = [None] + ([LegalBasis.subject_access] if Role.dpo in actor_roles[u.id] else [])
                out[u.id] = {
                    name for name, fam in families.items()
                    if any(d.allowed for b in bases for p in Purpose
                           for d in check_access(fam, [category], actor=user, purpose=p, now=now, legal_basis=b))
                }
        return out

    allowed_names = visible_canaries()
    assert allowed_names[next(u.id for u in actors if Role.intake in actor_roles[u.id]
                              and "jobcenter" in actor_label[u.id])] >= {_canary("active"), _canary("pending")}

    clients = {}
    for u in actors:
        c = app.test_client()
        login_as(c, app, u)
        clients[u.id] = (c, get_csrf(c, "/konto"))
    anon = app.test_client()
    clients[None] = (anon, get_csrf(anon, "/login"))

    requests_made = 0
    deviations: list[str] = []
    leaks: list[str] = []
    cells: Counter[str] = Counter()
    started = time.perf_counter()
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    skip_endpoints = {"accounts.logout", "static"}  # logout ends the session under test (SC-17 covers it)
    # GETs first, then the writing methods (which may change consents; the oracle is recomputed after each)
    plan = [(rule, m) for rule in rules for m in sorted(rule.methods - {"HEAD", "OPTIONS"}) if m == "GET"]
    plan += [(rule, m) for rule in rules for m in sorted(rule.methods - {"HEAD", "OPTIONS"}) if m != "GET"]
    for rule, method in plan:
        if rule.endpoint in skip_endpoints:
            continue
        view = app.view_functions.get(rule.endpoint)
        permission = endpoint_permission(view, rule.endpoint)
        assert permission is not None, rule.endpoint
        is_api = rule.rule.startswith("/api/")
        variants = list(_variants(rule, own, other, victims, per_kind > 1))
        for actor, (label, values) in itertools.product([None, *actors], variants):
            url = _url(rule, values)
            client, csrf = clients[actor.id if actor else None]
            kwargs: dict[str, Any] = {}
            if is_api:
                if actor is not None:
                    kwargs["headers"] = bearer[actor.id]
                if method != "GET":
                    kwargs["json"] = {}
            elif method != "GET":
                kwargs["data"] = {"csrf_token": csrf}
            response = client.open(url, method=method, **kwargs)
            requests_made += 1
            status = response.status_code
            who = "anonymous" if actor is None else actor_label[actor.id]
            cell = f"{method} {rule.rule} as {who} on {label}"
            if actor is None:
                expected = "any" if permission == PUBLIC else (401 if is_api else "login")
            elif permission not in (PUBLIC, AUTHENTICATED) and permission not in permissions_of(actor_roles[actor.id]):
                expected = 403
            elif permission != PUBLIC and label in ("other_tenant", "missing") and rule.arguments & set(PARAM_MODELS):
                expected = 404
            else:
                expected = "any"
            cells[f"expect_{expected}"] += 1
            if status >= 500:
                deviations.append(f"{cell}: {status} (server error)")
            elif expected == "login":
                if not (status == 302 and "/login" in response.headers.get("Location", "")):
                    deviations.append(f"{cell}: {status}, expected redirect to /login")
            elif expected == 404 and is_api and method != "GET" and status == 422:
                pass  # the body is validated before the lookup; a missing id answers the same, so no oracle
            elif expected != "any" and status != expected:
                deviations.append(f"{cell}: {status}, expected {expected}")
            body = response.get_data().decode("utf-8", "replace")
            if "Kanar" in body:
                seen = {name for name in canary_families if name in body}
                mine = allowed_names.get(actor.id, set()) if actor is not None else set()
                for name in seen - mine:
                    leaks.append(f"{cell}: body contains family {name!r}")
            if method != "GET" and actor is not None and status < 400:
                allowed_names = visible_canaries()
    elapsed = time.perf_counter() - started
    assert requests_made >= MIN_REQUESTS, requests_made
    assert not deviations, f"{len(deviations)} deviations:\n" + "\n".join(deviations[:40])
    assert not leaks, f"{len(leaks)} responses with another family's data:\n" + "\n".join(leaks[:40])
    scorecard(check, "requests", f"{requests_made},deviations=0,foreign_family_in_body=0,"
              f"routes={len({(r.rule, m) for r, m in plan})},actors={len(actors) + 1},"
              f"cells_403={cells['expect_403']},cells_404={cells['expect_404']},"
              f"cells_unauthenticated={cells['expect_login'] + cells['expect_401']},"
              f"cells_granted={cells['expect_any']},s={elapsed:.0f}")
