"""The access decision: may this viewer see this category of this family's data now?

One pure function, :func:`decide`, evaluated at access time (SR-04) — no cached
"consented" flag, no I/O, no clock reads: the caller passes ``now`` and the family's
consent grants, and writes the returned :class:`Decision` to the audit log whether it
allows or denies.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from consent._encoding import require_text
from consent.scopes import CONTENT_BLIND_ROLES
from consent.scopes import ConsentState
from consent.scopes import DataCategory
from consent.scopes import LegalBasis
from consent.scopes import Purpose

# Non-consent bases that the kernel accepts when the caller invokes them; who may
# invoke them (role, four-eyes approval, justification) is the app's decision (SR-11).
_OVERRIDING_BASES = frozenset({LegalBasis.child_welfare_8a, LegalBasis.school_law})
# The subject-access basis (Art. 15 DSGVO) is tied to one role in the kernel itself:
# the dpo is otherwise content-blind, and no other role may claim the family's right.
SUBJECT_ACCESS_ROLE = "dpo"


def _require_aware(name: str, value: datetime.datetime | None, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, datetime.datetime):
        raise TypeError(f"{name} must be a datetime")
    # Comparing naive with aware datetimes raises deep inside decide(); naive local
    # times would also shift expiry by the UTC offset. Refuse them up front.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


class Reason(str, enum.Enum):  # noqa: UP042 -- same mixin as consent.scopes
    """Stable reason codes of a decision; stored in the audit log, do not rename."""

    own_agency = "own_agency"
    consent_active = "consent_active"
    legal_basis = "legal_basis"
    other_tenant = "other_tenant"
    content_blind_role = "content_blind_role"
    basis_not_permitted = "basis_not_permitted"
    no_consent = "no_consent"
    consent_withdrawn = "consent_withdrawn"
    consent_expired = "consent_expired"
    consent_not_yet_valid = "consent_not_yet_valid"
    consent_superseded = "consent_superseded"
    purpose_not_covered = "purpose_not_covered"
    category_not_covered = "category_not_covered"
    agency_not_named = "agency_not_named"

    def __str__(self) -> str:
        return str.__str__(self)


@dataclass(frozen=True, slots=True)
class ConsentGrant:
    """One consent version as the policy needs it: scope, recipients, lifetime.

    Purposes and categories given as code strings are converted to the enums, so
    rows read from the database can be passed without mapping by hand.
    """

    consent_id: str
    family_id: str
    purposes: frozenset[Purpose]
    categories: frozenset[DataCategory]
    recipient_agency_ids: frozenset[str]
    valid_from: datetime.datetime
    valid_until: datetime.datetime | None = None
    withdrawn_at: datetime.datetime | None = None
    superseded_at: datetime.datetime | None = None

    def __post_init__(self) -> None:
        require_text("consent_id", self.consent_id)
        require_text("family_id", self.family_id)
        object.__setattr__(self, "purposes", frozenset(Purpose(p) for p in self.purposes))
        object.__setattr__(
            self, "categories", frozenset(DataCategory(c) for c in self.categories)
        )
        object.__setattr__(self, "recipient_agency_ids", frozenset(self.recipient_agency_ids))
        _require_aware("valid_from", self.valid_from)
        _require_aware("valid_until", self.valid_until, optional=True)
        _require_aware("withdrawn_at", self.withdrawn_at, optional=True)
        _require_aware("superseded_at", self.superseded_at, optional=True)
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")

    def state_at(self, now: datetime.datetime) -> ConsentState:
        """State of this grant at ``now``; every end takes effect exactly at its timestamp.

        When several ends have passed, the order withdrawn > expired > superseded
        matches the priority of the deny reasons in :func:`decide`.

        :raises ValueError: if ``now`` is naive.
        """
        _require_aware("now", now)
        if self.withdrawn_at is not None and now >= self.withdrawn_at:
            return ConsentState.withdrawn
        if self.valid_until is not None and now >= self.valid_until:
            return ConsentState.expired
        if self.superseded_at is not None and now >= self.superseded_at:
            return ConsentState.superseded
        if now < self.valid_from:
            return ConsentState.pending
        return ConsentState.active


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person asking: user, tenant (Kommune), agency and roles."""

    user_id: str
    tenant_id: str
    agency_id: str
    roles: frozenset[str]

    def __post_init__(self) -> None:
        require_text("user_id", self.user_id)
        require_text("tenant_id", self.tenant_id)
        require_text("agency_id", self.agency_id)
        # Role enums are reduced to their codes: a plain (non-str) enum member would
        # never equal "admin" and would make an admin look content-seeing.
        roles = frozenset(r.value if isinstance(r, enum.Enum) else r for r in self.roles)
        if not all(isinstance(r, str) for r in roles):
            raise TypeError("roles must be str codes or enums of str codes")
        object.__setattr__(self, "roles", roles)

    @property
    def content_blind(self) -> bool:
        """True if the viewer holds no role that may see case content.

        A viewer without any role counts as content-blind: deny by default.
        """
        return self.roles <= CONTENT_BLIND_ROLES


@dataclass(frozen=True, slots=True)
class Subject:
    """The data being accessed: whose it is and which agencies hold it themselves."""

    tenant_id: str
    family_id: str
    holder_agency_ids: frozenset[str]

    def __post_init__(self) -> None:
        require_text("tenant_id", self.tenant_id)
        require_text("family_id", self.family_id)
        object.__setattr__(self, "holder_agency_ids", frozenset(self.holder_agency_ids))


@dataclass(frozen=True, slots=True)
class Decision:
    """Outcome of :func:`decide`; truthy iff access is allowed.

    ``consent_id`` names the grant that allowed — or, for consent_withdrawn and the
    other grant-specific denials, the grant that came closest — so the audit log
    can show which consent was relied on or missed.
    """

    allowed: bool
    reason: Reason
    consent_id: str | None = None
    legal_basis: LegalBasis | None = None

    def __bool__(self) -> bool:
        return self.allowed


# Deny reasons of the consent path, most specific first (lower rank wins).
_RANK = {
    Reason.consent_withdrawn: 0,
    Reason.consent_expired: 1,
    Reason.consent_superseded: 2,
    Reason.consent_not_yet_valid: 3,
    Reason.category_not_covered: 4,
    Reason.purpose_not_covered: 5,
    Reason.agency_not_named: 6,
}
_ENDED = {
    ConsentState.withdrawn: Reason.consent_withdrawn,
    ConsentState.expired: Reason.consent_expired,
    ConsentState.superseded: Reason.consent_superseded,
    ConsentState.pending: Reason.consent_not_yet_valid,
}


def _miss_reason(
    grant: ConsentGrant, state: ConsentState, *, agency_id: str, purpose: Purpose,
    category: DataCategory,
) -> Reason | None:
    """Why ``grant`` does not allow the access, or None if it allows it.

    Returns ``no_consent`` for an inactive grant that would not cover the access
    anyway: its state says nothing about this request.
    """
    names_agency = agency_id in grant.recipient_agency_ids
    has_purpose = purpose in grant.purposes
    has_category = category in grant.categories
    if state is not ConsentState.active:
        return _ENDED[state] if names_agency and has_purpose and has_category else Reason.no_consent
    if not names_agency:
        return Reason.agency_not_named
    if not has_purpose:
        return Reason.purpose_not_covered
    if not has_category:
        return Reason.category_not_covered
    return None


def decide(
    *,
    viewer: Viewer,
    subject: Subject,
    category: DataCategory,
    purpose: Purpose | None,
    grants: Iterable[ConsentGrant],
    now: datetime.datetime,
    legal_basis: LegalBasis | None = None,
) -> Decision:
    """Decide whether ``viewer`` may access ``category`` of ``subject`` for ``purpose``.

    Rules, first match wins: other tenant → deny; ``legal_basis`` is subject_access →
    allow if the viewer holds the dpo role, else deny (basis_not_permitted); only
    content-blind roles → deny; viewer's agency holds the data → allow (own_agency);
    ``legal_basis`` is child_welfare_8a or school_law → allow (the app checks who may
    invoke it); the first active grant of this family covering purpose, category and
    the viewer's agency → allow (consent). Otherwise deny with the most specific
    reason: withdrawn > expired > superseded > not yet valid > category not covered >
    purpose not covered > agency not named > no consent.

    Subject access (Art. 15 DSGVO) is the one way a content-blind role reads data: the
    family's own right, exercised through the data-protection officer, for every
    category and regardless of consent; ``purpose`` is not consulted then (may be None).

    :param grants: the family's consent grants; grants of other families are ignored.
    :param legal_basis: a non-consent basis the caller invokes; ``consent`` and
        ``own_agency`` here change nothing (they are derived, not claimed).
    :raises ValueError: if ``now`` (or a grant timestamp) is naive.
    """
    _require_aware("now", now)
    category = DataCategory(category)
    if viewer.tenant_id != subject.tenant_id:
        return Decision(False, Reason.other_tenant)
    basis = None if legal_basis is None else LegalBasis(legal_basis)
    if basis is LegalBasis.subject_access:
        if SUBJECT_ACCESS_ROLE in viewer.roles:
            return Decision(True, Reason.legal_basis, legal_basis=basis)
        return Decision(False, Reason.basis_not_permitted)
    purpose = Purpose(purpose)
    if viewer.content_blind:
        return Decision(False, Reason.content_blind_role)
    if viewer.agency_id in subject.holder_agency_ids:
        return Decision(True, Reason.own_agency, legal_basis=LegalBasis.own_agency)
    if basis in _OVERRIDING_BASES:
        return Decision(True, Reason.legal_basis, legal_basis=basis)

    best: tuple[int, Reason, str] | None = None
    for grant in grants:
        if grant.family_id != subject.family_id:
            continue
        miss = _miss_reason(
            grant, grant.state_at(now), agency_id=viewer.agency_id, purpose=purpose,
            category=category,
        )
        if miss is None:
            return Decision(True, Reason.consent_active, grant.consent_id, LegalBasis.consent)
        if miss is Reason.no_consent:
            continue
        rank = _RANK[miss]
        # Strict "<": among equally specific grants the first one is reported.
        if best is None or rank < best[0]:
            best = (rank, miss, grant.consent_id)
    if best is None:
        return Decision(False, Reason.no_consent)
    return Decision(False, best[1], best[2])
