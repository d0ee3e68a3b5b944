"""Fact sources of the review and support phase: sessions, referrals and the Lotse's contacts.

- ``session_cases``: agenda items per Schnittstellengespräch that took place (held), by its date;
- ``referrals``: referrals by offer type and current state, by the month they were proposed;
- ``referral_followup``: the same referrals in exclusive stages for the annual review
  (:data:`STAGES`), so a row adds up to the referrals made;
- ``waitlists``: referrals on a waiting list now, by the month they were proposed;
- ``time_to_first_contact``: days from the intake to the Lotse's first logged contact;
- ``unmet_needs``: recorded needs (as ``needs``) for which the catalogue has no active offer of a
  kind that answers the need (``offers.catalogue.NEED_OFFER_TYPES``) for the case's age phase
  and the family's Sozialraum — where the offer landscape has a gap.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from praevcase.cases.models import Case
from praevcase.offers.catalogue import NEED_OFFER_TYPES
from praevcase.offers.catalogue import OFFER_TYPE_LABELS
from praevcase.offers.models import Offer
from praevcase.privacy.models import Family
from praevcase.referrals.models import Referral
from praevcase.reports.periods import LOCAL
from praevcase.reports.sources import FAMILY
from praevcase.reports.sources import Join
from praevcase.reports.sources import Source
from praevcase.reports.sources import case_dims
from praevcase.reports.sources import dialect
from praevcase.reports.sources import needs_source
from praevcase.reports.sources import on_cases
from praevcase.sessions.models import AgendaItem
from praevcase.sessions.models import ReviewSession
from workflows.referral import STATE_LABELS_DE as REFERRAL_LABELS
from workflows.review_session import ReviewSessionState

#: Sessions that took place (planned ones may still change, cancelled ones had no cases)
HELD = (ReviewSessionState.held, ReviewSessionState.minutes_final)
#: Months after the start of an offer at which a referral counts as sustained
FOLLOW_UP_MONTHS = 6

STAGES = {"not_taken_up": "nicht angenommen (abgelehnt, storniert, noch offen)",
          "not_started": "angenommen, noch nicht begonnen",
          "ended_early": f"begonnen, vor {FOLLOW_UP_MONTHS} Monaten abgebrochen",
          "sustained": f"nach {FOLLOW_UP_MONTHS} Monaten noch aktiv oder abgeschlossen",
          "too_recent": f"begonnen, noch keine {FOLLOW_UP_MONTHS} Monate her"}
VOCABULARY: dict[str, dict[str, str]] = {
    "offer_type": {t.value: label for t, label in OFFER_TYPE_LABELS.items()},
    "referral_outcome": {s.value: label for s, label in REFERRAL_LABELS.items()},
    "referral_stage": STAGES,
}


def _via_case(case_link: Any) -> tuple[dict[str, Join], dict[str, tuple[str, ...]]]:
    """The case of a fact (for channel, age phase, agency) and its family (Sozialraum), when needed."""
    joins = {"case": Join(lambda q: q.join(Case, Case.id == case_link), Case.tenant_id),
             "family": Join(FAMILY.apply, Family.tenant_id, after=("case",))}
    needs = {d: ("case",) for d in case_dims()} | {"sozialraum": ("case", "family")}
    return joins, needs


def session_key(column: Any) -> Any:
    """'YYYY-MM-DD' of a session's start in local time (SQLite: UTC)."""
    if dialect() == "postgresql":
        return sa.func.to_char(sa.func.timezone(str(LOCAL), column), "YYYY-MM-DD")
    return sa.func.strftime("%Y-%m-%d", column)


def _session_cases() -> Source:
    joins, needs = _via_case(AgendaItem.case_id)
    return Source(ReviewSession.starts_dt, {**case_dims(), "session": session_key(ReviewSession.starts_dt)},
                  lambda q: q.select_from(AgendaItem).join(ReviewSession, ReviewSession.id == AgendaItem.session_id),
                  (ReviewSession.state.in_(HELD),),
                  tenant_columns=(AgendaItem.tenant_id, ReviewSession.tenant_id), joins=joins, needs=needs)


def _stage() -> Any:
    """The exclusive stage of a referral today (SQL ``now()``: the report is "Stand heute")."""
    if dialect() == "postgresql":
        horizon = Referral.started_dt + sa.text(f"interval '{FOLLOW_UP_MONTHS} months'")
        now = sa.func.now()
    else:
        horizon = sa.func.datetime(Referral.started_dt, f"+{FOLLOW_UP_MONTHS} months")
        now = sa.func.datetime("now")
    return sa.case(
        (Referral.state.in_(("proposed", "offered", "declined", "cancelled")), "not_taken_up"),
        (Referral.started_dt.is_(None), "not_started"),
        (sa.and_(Referral.state == "dropped", Referral.ended_dt < horizon), "ended_early"),
        (sa.or_(Referral.state == "completed", horizon <= now), "sustained"),
        else_="too_recent")


def _referrals(*, waitlisted_only: bool = False) -> Callable[[], Source]:
    def build() -> Source:
        joins, needs = _via_case(Referral.case_id)
        dims = {**case_dims(), "offer_type": Referral.offer_type, "referral_outcome": Referral.state,
                "referral_stage": _stage()}
        where = (Referral.state == "waitlisted",) if waitlisted_only else ()
        return Source(Referral.created_dt, dims, lambda q: q.select_from(Referral), where,
                      tenant_columns=(Referral.tenant_id,), joins=joins, needs=needs)

    return build


def _first_contact() -> Source:
    """Cases with the date of the Lotse's first contact (a column of the case, set with the contact)."""
    source = on_cases(case_dims(), until=Case.first_contact_on)
    return dataclasses.replace(source, calendar_days=True)


def _json_has(column: Any, value: Any) -> Any:
    """The JSON array *column* contains the text *value* (PostgreSQL: jsonb_exists; SQLite: json_each)."""
    if dialect() == "postgresql":
        return sa.func.jsonb_exists(sa.cast(column, JSONB), value)
    element = sa.func.json_each(column).table_valued("value").alias("element")
    return sa.exists(sa.select(sa.literal(1)).select_from(element).where(element.c.value == value))


def _open_to_all(column: Any) -> Any:
    return sa.func.coalesce(sa.func.json_array_length(column), 0) == 0


def _unmet_needs() -> Source:
    """Recorded needs without an active offer of a fitting kind for the case's age phase and Sozialraum."""
    source = needs_source()
    need = source.dims["need"]
    # need -> kinds of offer as plain conditions (SQLite has no column list on a VALUES alias)
    fitting_kind = sa.or_(*(sa.and_(need == n.value, Offer.offer_type.in_(sorted(types, key=lambda t: t.value)))
                            for n, types in NEED_OFFER_TYPES.items()))
    # the family is always joined here (once per query, not a lookup per need): its Sozialraum decides
    offered = sa.exists(
        sa.select(sa.literal(1)).select_from(Offer)
        .where(fitting_kind, Offer.tenant_id == Case.tenant_id, Offer.is_active,
               sa.or_(_open_to_all(Offer.age_phases), _json_has(Offer.age_phases, Case.age_phase)),
               sa.or_(_open_to_all(Offer.sozialraeume), _json_has(Offer.sozialraeume, Family.sozialraum))))
    return dataclasses.replace(
        source, where=(*source.where, ~offered), select_from=lambda q: FAMILY.apply(source.select_from(q)),
        tenant_columns=(*source.tenant_columns, Family.tenant_id),
        needs={dim: joins for dim, joins in source.needs.items() if "family" not in joins})


def referral_sources() -> dict[str, Callable[[], Source]]:
    return {"session_cases": _session_cases, "referrals": _referrals(), "referral_followup": _referrals(),
            "waitlists": _referrals(waitlisted_only=True), "time_to_first_contact": _first_contact,
            "unmet_needs": _unmet_needs}
