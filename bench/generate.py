"""Benchmark data: a fresh database with tenants, families, cases in every state and their history.

    .venv/bin/python -m bench.generate --scale small|kreis|state [--database-url postgresql+psycopg://…/bench_kreis]
                                       [--workers 2]

How the rows come about (the "bulk path that produces the same rows"):

1. **Template, through the app's own operations.** The demo tenant is created with ``praevcase.demo.load_demo``
   (intake forms → ``cases.operations.open_case``, consents, ``fire_case`` transitions, Ü1/Ü2 protocols through
   ``transitions.operations``, sessions, offers), and the bench adds what the demo lacks, again only through
   operations: a referral fired to ``started`` and two Lotse contacts on the supported case, the case pages viewed
   (``vault.reveal``: ``data.reveal`` audit events), and a reminder sweep. Every row of this template tenant is
   therefore exactly what the service writes.
2. **Clones, by COPY.** The template's rows are split into tenant-level rows (agencies, users, templates, offers,
   sessions …) and one *family graph* per template family (family, persons, consent records, case, intake answers,
   history, referrals, contacts, protocols and their versions, reminders, audit events). Each target tenant gets a
   copy of the tenant-level rows and N copies of family graphs (the template family picked by a weight that gives a
   realistic spread of states: ~70 % closed, 15 % in support, the rest open) with

   - new ids everywhere (every uuid column and every uuid inside a JSON or text column is remapped consistently),
   - a fresh data key per family, wrapped under the keyring's active KEK with the real ``consent.crypto``,
   - every ``*_ct`` column decrypted from the template and **encrypted again** under the new family's key with the
     new row's associated data (tenant, table, column, row, family), so ``vault.reveal`` opens each value,
   - timestamps shifted: closed cases spread over ten years, supported ones over the last year, open ones over the
     last weeks; case numbers renumbered per tenant and year (``case_number_counters`` set to match),
   - the Lotse of supported cases spread over a pool of Lotsen (about 50 families each),
   - audit events re-chained: per tenant sorted by time, spread over the tenant's shards, every ``row_hash``
     computed with ``consent.chain.link`` and the heads written, so ``flask audit verify`` passes.
3. **Meetings.** A held monthly Schnittstellengespräch per tenant for the decade and an agenda item for every
   ``put_on_agenda`` in the history (in the held session of its month, or the next planned one), in SQL.

Shortcuts (said in bench/README.md too): clones of one template family share the plaintext (same invented names,
so the blind index of persons repeats: the duplicate hint at intake finds many candidates); the state sequence of a
clone is its template's (7 case paths); free-text lengths are the demo's.

Scales: ``small`` (2 tenants × 300 cases, seconds), ``kreis`` (1 tenant, 20 000 cases ≈ a Kreis over a decade),
``state`` (50 tenants × 20 000 = 1 000 000 cases, ~10 M audit events; the NRW Kreise and kreisfreie Städte).
Keys and secrets of the generated database are written to ``bench/.data/<database>/`` (mode 600); ``bench.run``
starts the service with them.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import secrets
import sys
import time
import uuid
from bisect import bisect
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"


@dataclass(frozen=True)
class Scale:
    tenants: int
    cases_per_tenant: int
    #: audit events per case (the template's own plus repeated views)
    audit_per_case: int = 10
    #: families per supported Lotse
    families_per_lotse: int = 50


SCALES = {
    "small": Scale(tenants=2, cases_per_tenant=300),
    "probe": Scale(tenants=1, cases_per_tenant=2_000),
    "kreis": Scale(tenants=1, cases_per_tenant=20_000),
    "state": Scale(tenants=50, cases_per_tenant=20_000),
}
#: the template family of each case path and its share of the generated cases (per mille)
WEIGHTS = {"in_support": 80, "ready_for_review": 6, "consent_pending": 6, "on_agenda": 3, "escalated": 5,
           "closed": 700, "closed_refused": 200}
#: days back a clone is shifted (uniform in the range), by the template's case path
SHIFT_DAYS = {"in_support": (0, 365), "closed": (30, 3650), "closed_refused": (30, 3650), "protocol": (0, 300)}
DEFAULT_SHIFT = (0, 40)
#: Ü1/Ü2 protocol families per 1000 case families (each kind)
PROTOCOLS_PER_MILLE = 50
LOTSE_EMAIL = "praeventionskraft@demo.praevcase.test"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: text columns that may hold ids or case numbers (remapped)
TEXT_REMAP = {("audit_events", "object_id"), ("reminders", "dedupe_key"), ("reminders", "link_path"),
              ("reminders", "occurrence"), ("reminders", "case_number"), ("outbox_messages", "dedupe_key"),
              ("outbox_messages", "subject"), ("outbox_messages", "body"), ("review_sessions", "ical_uid"),
              ("erasure_tombstones", "case_number")}
#: tables never cloned (the per-tenant rows the generator writes itself, or nothing to copy)
SKIP_TABLES = {"alembic_version", "audit_chain_heads", "case_number_counters", "tenants", "login_attempts",
               "auth_sessions", "api_tokens", "recovery_codes", "calendar_feeds"}


# --- configuration of the generated database ---------------------------------------------------------------------

def data_dir(db_name: str) -> Path:
    return DATA / db_name


def secrets_for(db_name: str, *, create: bool) -> dict[str, str]:
    """Keyring, checkpoint key and secret of one bench database (created once, mode 600)."""
    from consent.crypto import Keyring

    d = data_dir(db_name)
    if create:
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o700)
        Keyring.generate().to_file(d / "keyring.json")
        for name, value in (("checkpoint.key", secrets.token_hex(32)), ("secret", secrets.token_urlsafe(48))):
            (d / name).write_text(value)
            os.chmod(d / name, 0o600)
        (d / "checkpoints.log").write_text("")
        os.chmod(d / "checkpoints.log", 0o600)
    return {"PRAEVCASE_DATABASE_URL": "", "PRAEVCASE_KEYRING_FILE": str(d / "keyring.json"),
            "PRAEVCASE_CHECKPOINT_KEY_FILE": str(d / "checkpoint.key"),
            "PRAEVCASE_CHECKPOINT_FILE": str(d / "checkpoints.log"),
            "PRAEVCASE_SECRET_KEY": (d / "secret").read_text().strip(),
            "PRAEVCASE_INSTANCE_PATH": str(d), "PRAEVCASE_LOG_LEVEL": "WARNING"}


def app_for(url: str, db_name: str):
    """The real app on the bench database, configured as gunicorn will run it."""
    from consent.crypto import Keyring
    from praevcase import create_app

    env = secrets_for(db_name, create=False)
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": env["PRAEVCASE_SECRET_KEY"],
                       "KEYRING": Keyring.from_file(env["PRAEVCASE_KEYRING_FILE"]),
                       "CHECKPOINT_KEY": Path(env["PRAEVCASE_CHECKPOINT_KEY_FILE"]).read_bytes().strip(),
                       "CHECKPOINT_FILE": env["PRAEVCASE_CHECKPOINT_FILE"], "LOG_LEVEL": "WARNING",
                       "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def fresh_database(url: str) -> None:
    server, _, name = url.rpartition("/")
    with psycopg.connect(libpq(server + "/postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# --- 1. the template tenant, through the app's operations ---------------------------------------------------------

def build_template(app) -> uuid.UUID:
    """The demo tenant plus a referral, contacts, views and a reminder sweep; returns its id."""
    import sqlalchemy as sa

    from consent.scopes import Purpose
    from praevcase.accounts.models import User
    from praevcase.cases import operations as case_ops
    from praevcase.cases.models import Case
    from praevcase.database import utcnow
    from praevcase.demo import load_demo
    from praevcase.extensions import db
    from praevcase.lotse.operations import log_contact
    from praevcase.lotse.schemas import ContactIn
    from praevcase.privacy.models import PERSON_FIELDS
    from praevcase.privacy.models import Family
    from praevcase.privacy.models import Person
    from praevcase.privacy.vault import reveal
    from praevcase.referrals import operations as referral_ops
    from praevcase.reminders.jobs import run_sweep
    from praevcase.tenancy import ALL_TENANTS
    from praevcase.tenancy import set_scope
    from workflows.case import CaseState

    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        tenant, _ = load_demo()
        db.session.commit()
        set_scope(db.session, tenant.id)
        now = utcnow()
        lotse = db.session.scalar(sa.select(User).where(User.email == LOTSE_EMAIL))
        coordinator = db.session.scalar(sa.select(User).where(User.email == "koordination@demo.praevcase.test"))
        supported = db.session.scalar(sa.select(Case).where(Case.state == CaseState.in_support))
        supported = case_ops.lock_case(supported.id, lotse)
        referral = referral_ops.propose(supported, offer_type=_offer_type("sprachfoerderung"), actor=lotse, now=now)
        for trigger, extra in (("offer", {}), ("accept", {}), ("request", {"provider_name": "Sprachkita Rurtal"}),
                               ("start", {"provider_feedback": "Platz ab Montag, zwei Vormittage."})):
            referral_ops.fire_referral(referral, trigger, actor=lotse, now=now, **extra)
        for n, step in ((1, "Termin bei der Kita-Leitung vereinbaren"), (2, None)):
            data = ContactIn().load({"contact_date": (now.date() - timedelta(days=10 * n)).isoformat(),
                                     "setting": "home", "summary": "Hausbesuch: Mutter und Kind, Kita-Anmeldung "
                                     "besprochen, Unterlagen ausgefüllt.",
                                     **({"next_step": step, "next_step_due": (now.date() + timedelta(days=7))
                                         .isoformat()} if step else {})})
            log_contact(supported, data, actor=lotse, now=now)
        db.session.commit()
        # the case pages viewed: one reveal of the persons per viewer allowed to see them
        for case in db.session.scalars(sa.select(Case)):
            family = db.session.get(Family, case.family_id)
            for person in db.session.scalars(sa.select(Person).where(Person.family_id == family.id)):
                for viewer in (coordinator, lotse):
                    reveal(family, person, list(PERSON_FIELDS), actor=viewer, purpose=Purpose.team_review,
                           now=now, on_denial="mark")
        db.session.commit()
        _escalated_case(tenant, coordinator, lotse, now)
        db.session.commit()
        set_scope(db.session, ALL_TENANTS)
        for days in (0, 150, 250):  # the sweeps of the coming school year: handover, follow-up, Ü2, consents
            run_sweep(now=now + timedelta(days=days))
        db.session.commit()
        return tenant.id


def _escalated_case(tenant, coordinator, lotse, now) -> None:
    """One more Jobcenter case, supported, then handed to the Jugendamt under § 8a (four eyes)."""
    import sqlalchemy as sa

    from praevcase.cases import demo
    from praevcase.cases import operations as case_ops
    from praevcase.cases.catalogue import IntakeChannel
    from praevcase.cases.schemas import JobcenterIntakeIn
    from praevcase.extensions import db
    from praevcase.privacy.models import ConsentTemplate
    from praevcase.tenants.models import Agency
    from praevcase.tenants.models import AgencyKind

    agencies = {a.name: a for a in db.session.scalars(sa.select(Agency))}
    template = db.session.scalar(sa.select(ConsentTemplate).where(ConsentTemplate.key == demo.TEMPLATE_KEY))
    jobcenter = db.session.scalar(sa.select(type(lotse)).where(type(lotse).email == "erstkontakt@demo.praevcase.test"))
    team = ["Präventionsbüro Kreis Düren", "Gesundheitsamt Kreis Düren", "Kita Sonnenblume"]
    case = demo._open(tenant, JobcenterIntakeIn, IntakeChannel.jobcenter_observation, {
        **demo._family(("Lea", "Probefrau", 6), ("Olga", "Probefrau", "Probestraße 8, 52349 Düren", "Russisch")),
        "observed_on": now.date().isoformat(), "child_has_daycare": "nein", "german_language": "wenig",
        "family_language": "Russisch", "interpreter_needed": True, "beyond_own_remit": True,
        "needs": ["erziehung", "psychosoziale_belastung"], "sozialraum": "Düren-Nord",
        "team_summary": "Kind, 6 Jahre; Mutter wirkt überfordert, Termine werden nicht wahrgenommen.",
        "consent": demo._consent(template, agencies, team)}, jobcenter, now)
    case_ops.fire_case(case, "put_on_agenda", actor=coordinator, now=now)
    case_ops.fire_case(case, "assign_lotse", actor=coordinator, now=now, lotse=lotse)
    youth_office = next(a for a in agencies.values() if a.kind is AgencyKind.jugendamt)
    case_ops.propose_escalation(case, {"escalated_to_agency_id": youth_office.id, "justification":
                                       "Gewichtige Anhaltspunkte nach § 8a SGB VIII: wiederholte Hinweise der Kita."},
                                actor=coordinator, now=now)
    case_ops.fire_case(case, "escalate", actor=lotse, now=now)


def _offer_type(value: str):
    from praevcase.offers.models import OfferType

    return OfferType(value)


# --- 2. reading the template ------------------------------------------------------------------------------------

@dataclass
class Table:
    name: str
    columns: list[str]
    kinds: list[str]


@dataclass
class Template:
    tenant_id: str
    tables: dict[str, Table]
    #: tenant-level rows: table -> list of tuples
    tenant_rows: dict[str, list[tuple]]
    #: family graphs: family id -> table -> list of tuples
    graphs: dict[str, dict[str, list[tuple]]]
    #: family id -> case path (WEIGHTS key or "protocol")
    paths: dict[str, str]
    #: (table, column, row id) -> plaintext of the template's ciphertext
    plain: dict[tuple[str, str, str], Any]
    lotse_id: str
    case_numbers: dict[str, str]
    #: family id -> created year of its case number
    audit_columns: list[str]
    keyring_json: str


def _kind(table: str, column: str, udt: str) -> str:
    if udt == "uuid":
        return "uuid"
    if udt == "bytea" and column.endswith("_ct"):
        return "ct"
    if udt == "timestamptz":
        return "ts"
    if udt == "date":
        return "date"
    if udt in ("json", "jsonb"):
        return "json"
    if (table, column) in TEXT_REMAP:
        return "text"
    if table == "families" and column == "case_number":
        return "case_number"
    if column == "school_year":
        return "school_year"
    return "copy"


def read_template(url: str, app, tenant_id: uuid.UUID) -> Template:
    """All rows of the template tenant, split into tenant-level rows and family graphs."""
    from consent import crypto
    from consent.crypto import FieldContext

    tid = str(tenant_id)
    keyring = app.config["KEYRING"]
    with psycopg.connect(libpq(url)) as conn:
        meta: dict[str, list[tuple[str, str]]] = {}
        for table, column, udt in conn.execute(
                "SELECT table_name, column_name, udt_name FROM information_schema.columns "
                "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"):
            meta.setdefault(table, []).append((column, udt))
        tables = {}
        rows: dict[str, list[tuple]] = {}
        for table, cols in meta.items():
            if table in SKIP_TABLES or not any(c == "tenant_id" for c, _ in cols):
                continue
            names = [c for c, _ in cols if not (table == "audit_events" and c in ("id", "chain", "seq",
                                                                                     "prev_hash", "row_hash"))]
            tables[table] = Table(table, names, [_kind(table, c, u) for c, u in cols if c in names])
            order = " ORDER BY occurred_dt, id" if table == "audit_events" else ""
            rows[table] = [tuple(r) for r in conn.execute(
                f'SELECT {", ".join(names)} FROM "{table}" WHERE tenant_id = %s{order}', (tid,))]  # noqa: S608
        keys = {str(fid): (bytes(wk), dv) for fid, wk, dv in conn.execute(
            "SELECT id, wrapped_key, dek_version FROM families WHERE tenant_id = %s", (tid,))}

    def col(table: str, row: tuple, name: str) -> Any:
        return row[tables[table].columns.index(name)]

    owner: dict[str, str] = {}
    for r in rows["families"]:
        owner[str(col("families", r, "id"))] = str(col("families", r, "id"))
    for table in ("persons", "consent_records", "cases", "u1_protocols", "u2_protocols",
                  "transition_protocol_versions", "erasure_requests", "erasure_tombstones"):
        for r in rows.get(table, []):
            owner[str(col(table, r, "id"))] = str(col(table, r, "family_id"))
    for table in ("case_intakes", "agenda_items", "referrals", "lotse_contacts"):
        for r in rows[table]:
            owner[str(col(table, r, "id"))] = owner[str(col(table, r, "case_id"))]
    for r in rows["transition_handovers"]:
        pid = col("transition_handovers", r, "u1_protocol_id") or col("transition_handovers", r, "u2_protocol_id")
        owner[str(col("transition_handovers", r, "id"))] = owner[str(pid)]
    for r in rows["reminders"]:
        fam = col("reminders", r, "family_id") or owner.get(str(col("reminders", r, "subject_id")))
        if fam is not None:
            owner[str(col("reminders", r, "id"))] = str(fam)

    def family_of(table: str, r: tuple) -> str | None:
        if table == "audit_events":
            ref = col(table, r, "family_ref")
            return str(ref) if ref is not None else owner.get(col(table, r, "object_id") or "")
        if table == "transition_history":
            return owner.get(str(col(table, r, "object_id")))
        if table == "outbox_messages":
            return owner.get(str(col(table, r, "reminder_id")))
        return owner.get(str(col(table, r, "id"))) if "id" in tables[table].columns else None

    tenant_rows: dict[str, list[tuple]] = {t: [] for t in tables}
    graphs: dict[str, dict[str, list[tuple]]] = {f: {t: [] for t in tables} for f in owner.values()}
    for table, table_rows in rows.items():
        for r in table_rows:
            fam = family_of(table, r)
            (graphs[fam][table] if fam is not None else tenant_rows[table]).append(r)

    paths = {}
    for fam, graph in graphs.items():
        case = graph["cases"][0] if graph["cases"] else None
        if case is None:
            paths[fam] = "protocol"
            continue
        state = col("cases", case, "state")
        consents = graph["consent_records"]
        paths[fam] = "closed_refused" if state == "closed" and not consents else state
    plain = {}
    deks = {fid: crypto.unwrap_data_key(keyring, wk, tenant_id=tid, family_id=fid, dek_version=dv)
            for fid, (wk, dv) in keys.items()}
    for fam, graph in graphs.items():
        for table, table_rows in graph.items():
            spec = tables[table]
            for r in table_rows:
                for name, kind, value in zip(spec.columns, spec.kinds, r, strict=True):
                    if kind == "ct" and value is not None:
                        rid = str(col(table, r, "id"))
                        plain[(table, name, rid)] = crypto.decrypt_field(
                            deks[fam], bytes(value), FieldContext(tid, table, name[:-3], rid, fam))
    lotse = next(r for r in tenant_rows["users"] if col("users", r, "email") == LOTSE_EMAIL)
    case_numbers = {str(col("families", r, "id")): col("families", r, "case_number") for r in rows["families"]}
    return Template(tid, tables, tenant_rows, graphs, paths, plain, str(col("users", lotse, "id")), case_numbers,
                    tables["audit_events"].columns, keyring.to_json())


# --- 3. cloning -------------------------------------------------------------------------------------------------

class Ids:
    """Fast unique ids: a per-tenant prefix and a counter (valid UUID text, version 4 variant 8)."""

    def __init__(self, tag: int, tenant_no: int):
        self.prefix = f"{tag:08x}-{tenant_no:04x}-4000-8000-"
        self.n = 0

    def tenant_id(self) -> str:
        return self.prefix + "000000000000"

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}{self.n:012x}"


class Cloner:
    """Writes one tenant: its tenant-level rows and *n* family graphs, then its audit chains."""

    def __init__(self, tpl: Template, scale: Scale, tenant_no: int, tag: int, now: datetime, shards: int):
        from consent.crypto import Keyring

        self.tpl, self.scale, self.now, self.shards = tpl, scale, now, shards
        self.keyring = Keyring.from_json(tpl.keyring_json)
        self.ids = Ids(tag, tenant_no)
        self.tid = self.ids.tenant_id()
        self.slug = f"bench-{tenant_no:02d}"
        self.prefix = f"B{tenant_no:02d}"
        self.rng = random.Random(tenant_no)  # noqa: S311 - spread of test data, not a secret
        self.tmap: dict[str, str] = {tpl.tenant_id: self.tid}
        self.buffers: dict[str, list[tuple]] = {t: [] for t in tpl.tables}
        self.audit: list[tuple[datetime, int, tuple]] = []
        self.counters: dict[int, int] = {}
        self.lotsen: list[str] = []

    # values ---------------------------------------------------------------------------------------------------

    def _map_text(self, text: str, fmap: dict[str, str]) -> str:
        def sub(m: re.Match) -> str:
            v = m.group(0)
            return fmap.get(v) or self.tmap.get(v) or v
        text = UUID_RE.sub(sub, text)
        for old, new in self.case_number_map.items():
            if old in text:
                text = text.replace(old, new)
        return text

    def _row(self, table: str, row: tuple, fmap: dict[str, str], shift: timedelta, fam: tuple | None) -> tuple:
        from consent import crypto
        from consent.crypto import FieldContext

        spec = self.tpl.tables[table]
        out = []
        rid = None
        for name, kind, value in zip(spec.columns, spec.kinds, row, strict=True):
            if value is None:
                out.append(None)
            elif kind == "uuid":
                v = str(value)
                v = fmap.get(v) or self.tmap.get(v) or v
                if name == "id":
                    rid = v
                out.append(v)
            elif kind == "ts" or kind == "date":
                out.append(value - shift if shift else value)
            elif kind == "ct":
                ctx_id = rid if rid is not None else fmap[str(row[spec.columns.index("id")])]
                value = self.tpl.plain[(table, name, str(row[spec.columns.index("id")]))]
                out.append(crypto.encrypt_field(fam[1], value, FieldContext(self.tid, table, name[:-3], ctx_id,
                                                                              fam[0]), dek_version=1))
            elif kind == "json":
                out.append(self._map_text(json.dumps(value), fmap))
            elif kind == "text":
                out.append(self._map_text(value, fmap))
            elif kind == "case_number":
                out.append(self.case_number_map[value])
            elif kind == "school_year":
                out.append(value - round(shift.days / 365.25) if shift else value)
            else:
                out.append(value)
        return tuple(out)

    # tenant-level rows ---------------------------------------------------------------------------------------

    def tenant(self, conn) -> None:
        from consent import crypto

        tpl = self.tpl
        for table, rows in tpl.tenant_rows.items():
            spec = tpl.tables[table]
            if "id" in spec.columns:
                for r in rows:
                    self.tmap[str(r[spec.columns.index("id")])] = self.ids()
        self.case_number_map: dict[str, str] = {}
        wrapped = crypto.wrap_data_key(self.keyring, crypto.new_data_key(), tenant_id=self.tid, family_id="tenant",
                                       dek_version=1)
        settings = conn.execute("SELECT settings FROM tenants WHERE id = %s", (tpl.tenant_id,)).fetchone()[0]
        conn.execute("INSERT INTO tenants (id, slug, name, case_prefix, is_demo, settings, wrapped_key, created_dt) "
                     "VALUES (%s, %s, %s, %s, false, %s, %s, %s)",
                     (self.tid, self.slug, f"Kreis Bench {self.slug[-2:]}", self.prefix, json.dumps(settings),
                      wrapped, self.now - timedelta(days=3700)))
        users = tpl.tables["users"]
        for table, rows in tpl.tenant_rows.items():
            for r in rows:
                row = self._row(table, r, {}, timedelta(0), None)
                if table == "users":
                    email = row[users.columns.index("email")].replace("@demo.praevcase.test", f"@{self.slug}.bench")
                    row = _replace(row, users.columns.index("email"), email)
                    row = _replace(row, users.columns.index("totp_secret_ct"), None)
                if table == "audit_events":
                    self._audit(row)
                else:
                    self.buffers[table].append(row)
        # the pool of Lotsen: copies of the template's Lotse (user and roles)
        per_lotse = self.scale.families_per_lotse
        n_lotsen = max(1, round(self.scale.cases_per_tenant * WEIGHTS["in_support"] / 1000 / per_lotse))
        lotse_row = next(r for r in tpl.tenant_rows["users"] if str(r[users.columns.index("id")]) == tpl.lotse_id)
        roles = tpl.tables["user_roles"]
        role_rows = [r for r in tpl.tenant_rows["user_roles"] if str(r[roles.columns.index("user_id")])
                     == tpl.lotse_id]
        self.lotsen = [self.tmap[tpl.lotse_id]]
        for i in range(1, n_lotsen):
            uid = self.ids()
            self.lotsen.append(uid)
            row = self._row("users", lotse_row, {tpl.lotse_id: uid}, timedelta(0), None)
            row = _replace(row, users.columns.index("email"), f"lotse-{i:03d}@{self.slug}.bench")
            row = _replace(row, users.columns.index("display_name"), f"Lotse {i:03d}")
            self.buffers["users"].append(_replace(row, users.columns.index("totp_secret_ct"), None))
            for rr in role_rows:
                self.buffers["user_roles"].append(self._row("user_roles", rr, {tpl.lotse_id: uid}, timedelta(0),
                                                            None))

    # family graphs ---------------------------------------------------------------------------------------------

    def families(self, n: int) -> None:
        from consent import crypto

        tpl = self.tpl
        case_fams = [f for f, p in tpl.paths.items() if p != "protocol"]
        proto_fams = [f for f, p in tpl.paths.items() if p == "protocol"]
        weights = [WEIGHTS.get(tpl.paths[f], 20) for f in case_fams]
        cum = list(accumulate(weights))
        plan = [case_fams[bisect(cum, self.rng.random() * cum[-1])] for _ in range(n)]
        plan += [f for f in proto_fams for _ in range(n * PROTOCOLS_PER_MILLE // 1000)]
        fam_cols = tpl.tables["families"].columns
        for k, fam in enumerate(plan):
            graph = tpl.graphs[fam]
            lo, hi = SHIFT_DAYS.get(tpl.paths[fam], DEFAULT_SHIFT)
            shift = timedelta(days=self.rng.uniform(lo, hi))
            fmap: dict[str, str] = {}
            for table, rows in graph.items():
                spec = tpl.tables[table]
                if "id" in spec.columns:
                    for r in rows:
                        fmap[str(r[spec.columns.index("id")])] = self.ids()
            fmap[tpl.lotse_id] = self.lotsen[k % len(self.lotsen)]
            new_fid = fmap[fam]
            dek = crypto.new_data_key()
            created = graph["families"][0][fam_cols.index("created_dt")] - shift
            year = created.year
            self.counters[year] = self.counters.get(year, 0) + 1
            self.case_number_map = {tpl.case_numbers[fam]: f"{self.prefix}-{year}-{self.counters[year]:05d}"}
            for table, rows in graph.items():
                buf = self.buffers[table]
                for r in rows:
                    row = self._row(table, r, fmap, shift, (new_fid, dek))
                    if table == "families":
                        wrapped = crypto.wrap_data_key(self.keyring, dek, tenant_id=self.tid, family_id=new_fid,
                                                       dek_version=1)
                        row = _replace(row, fam_cols.index("wrapped_key"), wrapped)
                        row = _replace(row, fam_cols.index("kek_id"), self.keyring.active_id)
                        row = _replace(row, fam_cols.index("dek_version"), 1)
                    if table == "audit_events":
                        self._audit(row)
                    else:
                        buf.append(row)
            self._pad_views(graph, fmap, shift)

    def _pad_views(self, graph: dict[str, list[tuple]], fmap: dict[str, str], shift: timedelta) -> None:
        """Repeat the family's ``data.reveal`` events (later views) up to the audit events per case."""
        if not graph["cases"]:
            return
        cols = self.tpl.tables["audit_events"].columns
        reveals = [r for r in graph["audit_events"] if r[cols.index("action")] == "data.reveal"]
        have = len(graph["audit_events"])
        if not reveals or have >= self.scale.audit_per_case:
            return
        i_dt = cols.index("occurred_dt")
        for j in range(self.scale.audit_per_case - have):
            r = reveals[j % len(reveals)]
            later = timedelta(days=1 + j * 3, minutes=self.rng.randrange(600))
            row = self._row("audit_events", r, fmap, shift, None)
            self._audit(_replace(row, i_dt, min(row[i_dt] + later, self.now)))

    def _audit(self, row: tuple) -> None:
        self.audit.append(row)

    # writing -----------------------------------------------------------------------------------------------------

    def write(self, conn) -> int:
        from consent.chain import GENESIS
        from consent.chain import link

        for table, rows in self.buffers.items():
            if not rows:
                continue
            spec = self.tpl.tables[table]
            with conn.cursor().copy(f'COPY "{table}" ({", ".join(spec.columns)}) FROM STDIN') as copy:  # noqa: S608
                for row in rows:
                    copy.write_row(row)
            rows.clear()
        # audit chains: by time, round robin over the shards, hashed as the app would
        cols = self.tpl.audit_columns
        i_dt = cols.index("occurred_dt")
        i_details = cols.index("details")
        self.audit.sort(key=lambda r: r[i_dt])
        from praevcase.audit.models import HASHED_COLUMNS

        idx = [cols.index(c) if c != "chain" else -1 for c in HASHED_COLUMNS]
        heads = {}
        written = 0
        with conn.cursor().copy(f"COPY audit_events (chain, seq, prev_hash, row_hash, {', '.join(cols)}) "
                                "FROM STDIN") as copy:
            for n, row in enumerate(self.audit):
                chain = f"{self.tid}:{n % self.shards}"
                seq, prev = heads.get(chain, (0, GENESIS))
                seq += 1
                fields = {}
                for c, i in zip(HASHED_COLUMNS, idx, strict=True):
                    if i < 0:
                        fields[c] = chain
                    elif i == i_details:
                        fields[c] = None if row[i] is None else json.loads(row[i])
                    else:
                        fields[c] = row[i]
                h = link(prev, seq, fields)
                heads[chain] = (seq, h)
                copy.write_row((chain, seq, prev, h, *row))
                written += 1
        for chain, (seq, h) in heads.items():
            conn.execute("INSERT INTO audit_chain_heads (chain, seq, row_hash) VALUES (%s, %s, %s)", (chain, seq, h))
        for year, value in self.counters.items():
            conn.execute("INSERT INTO case_number_counters (tenant_id, year, value) VALUES (%s, %s, %s)",
                         (self.tid, year, value))
        self.audit.clear()
        return written


def _replace(row: tuple, i: int, value: Any) -> tuple:
    return (*row[:i], value, *row[i + 1:])


# audit fields are hashed with UUIDs as text and aware datetimes: the row tuples hold exactly that (str uuids from
# the remap, datetimes from psycopg), so link() here gives the bytes iter_chain() reads back.

_TPL: Template | None = None


def _tenant_job(args: tuple) -> tuple[int, int, float]:
    url, scale_name, tenant_no, tag, now, shards = args
    started = time.perf_counter()
    scale = SCALES[scale_name]
    cl = Cloner(_TPL, scale, tenant_no, tag, now, shards)
    with psycopg.connect(libpq(url)) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK or append-only triggers during the load
        conn.execute("SET synchronous_commit = off")
        cl.tenant(conn)
        cl.families(scale.cases_per_tenant)
        events = cl.write(conn)
        conn.commit()
    return tenant_no, events, time.perf_counter() - started


# --- 4. meetings, in SQL --------------------------------------------------------------------------------------

MEETINGS_SQL = """
INSERT INTO review_sessions (id, tenant_id, created_dt, starts_dt, ends_dt, place, agenda_cutoff_dt, state,
                             agenda_built_dt, frozen_dt, held_dt, ical_uid, ical_sequence, version)
SELECT md5(t.id::text || m)::uuid, t.id, m - interval '30 days', m + interval '13 days 13 hours',
       m + interval '13 days 15 hours', 'Präventionsbüro', m + interval '6 days', 'held',
       m + interval '6 days', m + interval '13 days 13 hours', m + interval '13 days 15 hours',
       'bench-' || md5(t.id::text || m) || '@praevcase', 0, 1
FROM tenants t
CROSS JOIN generate_series(date_trunc('month', %(now)s::timestamptz) - interval '121 months',
                           date_trunc('month', %(now)s::timestamptz) - interval '1 month', interval '1 month') AS m
WHERE t.slug LIKE 'bench-%%'
---
WITH planned AS (
    SELECT DISTINCT ON (tenant_id) tenant_id, id FROM review_sessions
    WHERE state = 'planned' ORDER BY tenant_id, starts_dt),
puts AS (
    SELECT h.tenant_id, h.object_id AS case_id, h.occurred_dt,
           coalesce((SELECT s.id FROM review_sessions s WHERE s.tenant_id = h.tenant_id AND s.state = 'held'
                     AND s.starts_dt >= h.occurred_dt ORDER BY s.starts_dt LIMIT 1), p.id) AS session_id
    FROM transition_history h JOIN planned p ON p.tenant_id = h.tenant_id
    JOIN tenants t ON t.id = h.tenant_id AND t.slug LIKE 'bench-%%'
    WHERE h.workflow = 'case' AND h.trigger = 'put_on_agenda')
INSERT INTO agenda_items (id, tenant_id, session_id, case_id, position, added_dt)
SELECT md5(puts.case_id::text || puts.session_id::text)::uuid, tenant_id, session_id, case_id,
       row_number() OVER (PARTITION BY session_id ORDER BY occurred_dt, case_id), occurred_dt
FROM puts
ON CONFLICT DO NOTHING;
"""


# --- main ---------------------------------------------------------------------------------------------------------

def generate(scale_name: str, url: str, *, workers: int = 2, log=print) -> dict[str, Any]:
    """Create the database at *url* and fill it for *scale_name*; returns a summary."""
    global _TPL
    from flask_migrate import upgrade

    scale = SCALES[scale_name]
    db_name = url.rpartition("/")[2]
    started = time.perf_counter()
    fresh_database(url)
    secrets_for(db_name, create=True)
    app = app_for(url, db_name)
    with app.app_context():
        upgrade()
    tenant_id = build_template(app)
    _TPL = read_template(url, app, tenant_id)
    with app.app_context():
        from praevcase.extensions import db

        db.engine.dispose()
    log(f"template through the app's operations: {sum(len(g['cases']) for g in _TPL.graphs.values())} cases, "
        f"{len(_TPL.graphs)} families, paths {sorted(set(_TPL.paths.values()))} "
        f"({time.perf_counter() - started:.1f} s)")
    now = datetime.now(UTC)
    tag = secrets.randbits(31) | 0x10000000
    shards = int(os.environ.get("PRAEVCASE_AUDIT_SHARDS", "4"))
    jobs = [(url, scale_name, n, tag, now, shards) for n in range(1, scale.tenants + 1)]
    events = 0
    t_load = time.perf_counter()
    if workers > 1 and len(jobs) > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(workers, len(jobs))) as pool:
            for tenant_no, n_events, secs in pool.imap_unordered(_tenant_job, jobs):
                events += n_events
                log(f"  tenant bench-{tenant_no:02d}: {scale.cases_per_tenant:,} cases, {n_events:,} audit events "
                    f"in {secs:.0f} s")
    else:
        for job in jobs:
            tenant_no, n_events, secs = _tenant_job(job)
            events += n_events
            log(f"  tenant bench-{tenant_no:02d}: {scale.cases_per_tenant:,} cases, {n_events:,} audit events "
                f"in {secs:.0f} s")
    log(f"cloned in {time.perf_counter() - t_load:.0f} s")
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        t = time.perf_counter()
        for statement in MEETINGS_SQL.split("---"):
            conn.execute(statement, {"now": now})
        conn.execute("VACUUM ANALYZE")
        log(f"meetings, VACUUM ANALYZE in {time.perf_counter() - t:.0f} s")
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
                  for t in ("tenants", "users", "families", "persons", "consent_records", "cases", "case_intakes",
                            "transition_history", "review_sessions", "agenda_items", "referrals", "lotse_contacts",
                            "u1_protocols", "u2_protocols", "reminders", "audit_events")}
        states = dict(conn.execute("SELECT state, count(*) FROM cases GROUP BY 1 ORDER BY 2 DESC").fetchall())
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    summary = {"scale": scale_name, "database": db_name, "seconds": round(time.perf_counter() - started, 1),
               "size": size, "counts": counts, "case_states": states, "generated_at": now.isoformat()}
    (data_dir(db_name) / "summary.json").write_text(json.dumps(summary, indent=1))
    log("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    log("case states: " + ", ".join(f"{k} {v:,}" for k, v in states.items()))
    log(f"database {db_name}: {size}, generated in {summary['seconds']:.0f} s")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--database-url", help=f"default {SERVER}bench_<scale>")
    parser.add_argument("--workers", type=int, default=2, help="processes cloning tenants (default 2)")
    args = parser.parse_args()
    url = args.database_url or f"{SERVER}bench_{args.scale}"
    generate(args.scale, url, workers=args.workers, log=lambda s: print(s, flush=True))


if __name__ == "__main__":
    sys.exit(main())
