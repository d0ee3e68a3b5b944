"""The access decision: tenant and role gates, own agency, legal bases, consent scope."""

from __future__ import annotations

import dataclasses
import datetime
import enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.policy import ConsentGrant
from consent.policy import Decision
from consent.policy import Reason
from consent.policy import Subject
from consent.policy import Viewer
from consent.policy import decide
from consent.scopes import CONTENT_BLIND_ROLES
from consent.scopes import LABELS
from consent.scopes import ConsentState
from consent.scopes import DataCategory
from consent.scopes import LegalBasis
from consent.scopes import Purpose

UTC = datetime.UTC
NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = datetime.timedelta(days=1)

SCHOOL = Viewer(
    user_id="u-lehrerin", tenant_id="moers", agency_id="grundschule",
    roles=frozenset({"team_member"}),
)
KITA = Subject(tenant_id="moers", family_id="fam-1", holder_agency_ids=frozenset({"kita"}))


def grant(
    consent_id: str = "c1",
    *,
    purposes: set[Purpose] | None = None,
    categories: set[DataCategory] | None = None,
    recipients: set[str] | None = None,
    family_id: str = "fam-1",
    valid_from: datetime.datetime = NOW - 30 * DAY,
    valid_until: datetime.datetime | None = NOW + 300 * DAY,
    withdrawn_at: datetime.datetime | None = None,
    superseded_at: datetime.datetime | None = None,
) -> ConsentGrant:
    return ConsentGrant(
        consent_id=consent_id,
        family_id=family_id,
        purposes=frozenset(purposes or {Purpose.transition_u1}),
        categories=frozenset(categories or {DataCategory.education}),
        recipient_agency_ids=frozenset(recipients or {"grundschule"}),
        valid_from=valid_from,
        valid_until=valid_until,
        withdrawn_at=withdrawn_at,
        superseded_at=superseded_at,
    )


def ask(
    grants: list[ConsentGrant],
    *,
    viewer: Viewer = SCHOOL,
    subject: Subject = KITA,
    now: datetime.datetime = NOW,
    category: DataCategory = DataCategory.education,
    purpose: Purpose = Purpose.transition_u1,
    legal_basis: LegalBasis | None = None,
) -> Decision:
    return decide(
        viewer=viewer, subject=subject, category=category, purpose=purpose, grants=grants,
        now=now, legal_basis=legal_basis,
    )


COVERING = grant("covering")
WITHDRAWN = grant("withdrawn", withdrawn_at=NOW - DAY)
EXPIRED = grant("expired", valid_until=NOW - DAY)
SUPERSEDED = grant("superseded", superseded_at=NOW - DAY)
NOT_YET = grant("not-yet", valid_from=NOW + DAY)
NO_CATEGORY = grant("no-category", categories={DataCategory.identity})
NO_PURPOSE = grant("no-purpose", purposes={Purpose.referral})
OTHER_AGENCY = grant("other-agency", recipients={"jugendamt"})
OTHER_FAMILY = grant("other-family", family_id="fam-2")
WITHDRAWN_OTHER_AGENCY = grant("withdrawn-other", recipients={"jugendamt"}, withdrawn_at=NOW - DAY)

# Every deny reason of the consent path, with grants listed least specific first so
# the test shows the most specific one wins regardless of order.
PRIORITY_CASES = [
    ([], Reason.no_consent, None),
    ([OTHER_FAMILY], Reason.no_consent, None),
    ([WITHDRAWN_OTHER_AGENCY], Reason.no_consent, None),
    ([OTHER_AGENCY], Reason.agency_not_named, "other-agency"),
    ([OTHER_AGENCY, NO_PURPOSE], Reason.purpose_not_covered, "no-purpose"),
    ([OTHER_AGENCY, NO_PURPOSE, NO_CATEGORY], Reason.category_not_covered, "no-category"),
    ([NO_CATEGORY, NO_PURPOSE, NOT_YET], Reason.consent_not_yet_valid, "not-yet"),
    ([NOT_YET, NO_CATEGORY, SUPERSEDED], Reason.consent_superseded, "superseded"),
    ([SUPERSEDED, NOT_YET, EXPIRED], Reason.consent_expired, "expired"),
    (
        [EXPIRED, SUPERSEDED, NOT_YET, OTHER_AGENCY, WITHDRAWN],
        Reason.consent_withdrawn,
        "withdrawn",
    ),
]


@pytest.mark.parametrize(("grants", "reason", "consent_id"), PRIORITY_CASES)
def test_denial_reports_the_most_specific_reason(
    grants: list[ConsentGrant], reason: Reason, consent_id: str | None
) -> None:
    for ordering in (grants, list(reversed(grants))):
        decision = ask(ordering)
        assert decision == Decision(False, reason, consent_id, None)
        assert not decision


@pytest.mark.parametrize(("grants", "reason", "consent_id"), PRIORITY_CASES)
def test_one_covering_active_grant_allows_whatever_else_exists(
    grants: list[ConsentGrant], reason: Reason, consent_id: str | None
) -> None:
    decision = ask([*grants, COVERING])
    assert decision == Decision(True, Reason.consent_active, "covering", LegalBasis.consent)
    assert decision


def test_first_covering_grant_is_the_one_relied_on() -> None:
    assert ask([COVERING, grant("second")]).consent_id == "covering"


def test_withdrawn_consent_denies_recipient_but_not_own_agency() -> None:
    kita_staff = dataclasses.replace(SCHOOL, user_id="u-erzieher", agency_id="kita")
    assert ask([WITHDRAWN]).reason is Reason.consent_withdrawn
    decision = ask([WITHDRAWN], viewer=kita_staff)
    assert decision == Decision(True, Reason.own_agency, None, LegalBasis.own_agency)


@pytest.mark.parametrize("field", ["withdrawn_at", "valid_until", "superseded_at"])
def test_end_of_consent_takes_effect_exactly_at_its_timestamp(field: str) -> None:
    ends = grant(**{field: NOW})  # type: ignore[arg-type]
    tick = datetime.timedelta(microseconds=1)
    assert ask([ends], now=NOW - tick).allowed
    assert not ask([ends], now=NOW).allowed
    assert not ask([ends], now=NOW + tick).allowed


def test_consent_starts_exactly_at_valid_from() -> None:
    starts = grant(valid_from=NOW)
    tick = datetime.timedelta(microseconds=1)
    assert ask([starts], now=NOW - tick).reason is Reason.consent_not_yet_valid
    assert ask([starts], now=NOW).allowed


def test_timezones_are_compared_as_instants() -> None:
    berlin = datetime.timezone(datetime.timedelta(hours=2))
    ends = grant(withdrawn_at=NOW)
    assert not ask([ends], now=NOW.astimezone(berlin)).allowed
    assert ask([ends], now=(NOW - DAY).astimezone(berlin)).allowed


def test_naive_now_raises() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ask([COVERING], now=NOW.replace(tzinfo=None))


def test_naive_grant_timestamp_raises() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        grant(withdrawn_at=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError):
        grant(valid_until=NOW - 40 * DAY)  # before valid_from


def test_other_tenant_is_denied_before_anything_else() -> None:
    other_tenant = dataclasses.replace(SCHOOL, tenant_id="kleve", agency_id="kita")
    decision = ask([COVERING], viewer=other_tenant, legal_basis=LegalBasis.child_welfare_8a)
    assert decision == Decision(False, Reason.other_tenant)


@pytest.mark.parametrize("roles", [{"admin"}, {"dpo"}, {"statistics"}, {"admin", "dpo"}, set()])
def test_content_blind_roles_are_denied_even_for_their_own_agency(roles: set[str]) -> None:
    admin = dataclasses.replace(SCHOOL, agency_id="kita", roles=frozenset(roles))
    for legal_basis in (None, LegalBasis.child_welfare_8a):
        decision = ask([COVERING], viewer=admin, legal_basis=legal_basis)
        assert decision == Decision(False, Reason.content_blind_role)


def test_role_enums_count_by_their_code() -> None:
    class Role(enum.Enum):
        admin = "admin"

    roles: frozenset[Any] = frozenset({Role.admin})
    viewer = dataclasses.replace(SCHOOL, agency_id="kita", roles=roles)
    assert viewer.roles == frozenset({"admin"})
    assert ask([], viewer=viewer).reason is Reason.content_blind_role


def test_admin_who_is_also_team_member_is_not_content_blind() -> None:
    viewer = dataclasses.replace(SCHOOL, roles=frozenset({"admin", "team_member"}))
    assert not viewer.content_blind
    assert ask([COVERING], viewer=viewer).allowed


@pytest.mark.parametrize("basis", [LegalBasis.child_welfare_8a, LegalBasis.school_law])
def test_statutory_basis_allows_without_consent_and_is_recorded(basis: LegalBasis) -> None:
    assert ask([], legal_basis=basis) == Decision(True, Reason.legal_basis, None, basis)


@pytest.mark.parametrize("basis", [LegalBasis.consent, LegalBasis.own_agency])
def test_claiming_consent_or_own_agency_as_basis_changes_nothing(basis: LegalBasis) -> None:
    assert ask([], legal_basis=basis).reason is Reason.no_consent
    assert ask([COVERING], legal_basis=basis).reason is Reason.consent_active


def test_own_agency_wins_over_consent_state() -> None:
    kita_staff = dataclasses.replace(SCHOOL, agency_id="kita")
    assert ask([], viewer=kita_staff).reason is Reason.own_agency


def test_grants_are_read_once_from_a_generator() -> None:
    assert ask(g for g in [WITHDRAWN, COVERING]).allowed  # type: ignore[arg-type]


def test_code_strings_from_the_database_are_accepted() -> None:
    stored = grant(purposes={"transition_u1"}, categories={"education"})  # type: ignore[arg-type]
    assert stored.purposes == frozenset({Purpose.transition_u1})
    assert ask([stored], category="education", purpose="transition_u1").allowed  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        grant(purposes={"gossip"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "state"),
    [
        ({}, ConsentState.active),
        ({"valid_from": NOW + DAY}, ConsentState.pending),
        ({"valid_until": NOW}, ConsentState.expired),
        ({"superseded_at": NOW}, ConsentState.superseded),
        ({"withdrawn_at": NOW}, ConsentState.withdrawn),
        ({"withdrawn_at": NOW, "valid_until": NOW, "superseded_at": NOW}, ConsentState.withdrawn),
        ({"valid_until": NOW, "superseded_at": NOW}, ConsentState.expired),
    ],
)
def test_state_at(changes: dict[str, datetime.datetime], state: ConsentState) -> None:
    assert grant(**changes).state_at(NOW) is state  # type: ignore[arg-type]


_grants = st.builds(
    grant,
    consent_id=st.sampled_from(["a", "b", "c"]),
    purposes=st.sets(st.sampled_from(Purpose), min_size=1),
    categories=st.sets(st.sampled_from(DataCategory), min_size=1),
    recipients=st.sets(st.sampled_from(["grundschule", "jugendamt", "kita"]), min_size=1),
    withdrawn_at=st.none() | st.just(NOW - DAY) | st.just(NOW + DAY),
)


@given(grants=st.lists(_grants, max_size=5), purpose=st.sampled_from(Purpose),
       category=st.sampled_from(DataCategory))
def test_access_allowed_iff_an_active_grant_covers_it(
    grants: list[ConsentGrant], purpose: Purpose, category: DataCategory
) -> None:
    # Invariant I1 of security-privacy.md §5.1 for the consent path.
    covers = any(
        g.state_at(NOW) is ConsentState.active and purpose in g.purposes
        and category in g.categories and "grundschule" in g.recipient_agency_ids
        for g in grants
    )
    assert ask(grants, purpose=purpose, category=category).allowed is covers


def test_every_scope_member_has_a_german_label_and_codes_are_unique() -> None:
    members = [*Purpose, *DataCategory, *LegalBasis, *ConsentState]
    assert set(LABELS) == set(members)
    # Members are str: equal codes in two enums would collide as dict keys.
    assert len({m.value for m in members}) == len(members)
    assert all(m.name == m.value for m in [*members, *Reason])
    assert Purpose.transition_u1.label == "Übergabe Ü1-Protokoll Kita → Grundschule"
    assert f"{Purpose.referral}" == str(Purpose.referral) == "referral"
    assert frozenset({"admin", "dpo", "statistics"}) == CONTENT_BLIND_ROLES


# --- subject access (Art. 15 DSGVO): the dpo's one way to the data, and nobody else's ---------

DPO = dataclasses.replace(SCHOOL, user_id="u-dsb", agency_id="jugendamt", roles=frozenset({"dpo"}))


@pytest.mark.parametrize("category", list(DataCategory))
def test_subject_access_lets_the_dpo_read_every_category_without_consent(category: DataCategory) -> None:
    decision = ask([], viewer=DPO, category=category, legal_basis=LegalBasis.subject_access)
    assert decision == Decision(True, Reason.legal_basis, None, LegalBasis.subject_access)
    # the purpose is not consulted: the family's right has none of the chain's purposes
    assert ask([], viewer=DPO, purpose=None, legal_basis=LegalBasis.subject_access).allowed  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "roles",
    [{"admin"}, {"statistics"}, {"team_member"}, {"coordinator"}, {"intake"}, {"admin", "team_member"}, set()],
)
def test_subject_access_is_refused_to_every_role_but_the_dpo(roles: set[str]) -> None:
    own_agency = dataclasses.replace(SCHOOL, agency_id="kita", roles=frozenset(roles))
    for viewer in (own_agency, dataclasses.replace(own_agency, agency_id="grundschule")):
        decision = ask([COVERING], viewer=viewer, legal_basis=LegalBasis.subject_access)
        assert decision == Decision(False, Reason.basis_not_permitted)


def test_subject_access_stays_within_the_tenant() -> None:
    foreign_dpo = dataclasses.replace(DPO, tenant_id="kleve")
    assert ask([], viewer=foreign_dpo, legal_basis=LegalBasis.subject_access).reason is Reason.other_tenant


def test_without_the_subject_access_basis_the_dpo_stays_content_blind() -> None:
    for basis in (None, LegalBasis.consent, LegalBasis.child_welfare_8a):
        assert ask([COVERING], viewer=DPO, legal_basis=basis).reason is Reason.content_blind_role
