"""The registry of reminder kinds and of periodic jobs; see the package docstring for how to plug in."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from praevcase.accounts.models import Role


@dataclass(frozen=True)
class SweepContext:
    """What a due-query and a validity check may rely on: one tenant, its settings, the clock."""

    tenant: Any
    settings: Mapping[str, Any]
    now: datetime

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.tenant.id

    @property
    def reminders(self) -> Mapping[str, Any]:
        """The tenant's reminder windows and thresholds (settings["reminders"])."""
        return self.settings["reminders"]


@dataclass(frozen=True)
class Occasion:
    """One reason for reminding someone, as a due-query finds it.

    The dedupe key of the resulting rows is ``kind:subject_id:occurrence:recipient``: the same
    reason found again creates nothing, a new occurrence (next school year, a new handover, a new
    consent) creates a new reminder.
    """

    subject_type: str
    subject_id: uuid.UUID
    #: Which instance of the reason, e.g. the school year "2027" or a handover id
    occurrence: str
    #: Due from (the corridor opens) / overdue after
    opens_dt: datetime
    due_dt: datetime
    #: Pseudonymous case number shown in the inbox and in e-mails (never a name)
    case_number: str | None = None
    family_id: uuid.UUID | None = None
    #: Where the reminder leads, e.g. "/uebergaenge/ue1/<id>" (BASE_URL is put in front in e-mails)
    link_path: str = "/erinnerungen"
    #: Recipients: these users while active, else the active staff of *agency_id* holding one of
    #: the kind's ``recipient_roles``
    user_ids: tuple[uuid.UUID, ...] = ()
    agency_id: uuid.UUID | None = None
    #: Non-personal values for the German text (school year, number of days …)
    params: Mapping[str, Any] = field(default_factory=dict)


#: Due-query: every occasion of the kind in the context's tenant whose corridor is open now.
DueQuery = Callable[[SweepContext], Iterable[Occasion]]
#: Validity check: of the given open reminders, the ids whose reason still holds.
StillValid = Callable[[SweepContext, Sequence[Any]], set[uuid.UUID]]


@dataclass(frozen=True)
class ReminderKind:
    """A kind of reminder: due-query + recipient rule + German text (+ the dedupe key from Occasion)."""

    name: str
    #: German title, e.g. "Ü1-Protokoll übergeben"
    label: str
    due: DueQuery
    still_valid: StillValid
    #: German sentence for inbox and e-mail from the reminder's params; no names, no details
    text: Callable[[Mapping[str, Any]], str]
    recipient_roles: frozenset[Role] = frozenset()


KINDS: dict[str, ReminderKind] = {}


def register_kind(kind: ReminderKind) -> ReminderKind:
    """Add a reminder kind (once, at import of the feature's reminder_kinds module)."""
    if kind.name in KINDS and KINDS[kind.name] is not kind:
        raise KeyError(f"reminder kind {kind.name!r} registered twice")
    if len(kind.name) > 40:
        raise ValueError(f"reminder kind name {kind.name!r} longer than 40 characters")
    KINDS[kind.name] = kind
    return kind


@dataclass(frozen=True)
class PeriodicJob:
    """Work a feature needs done on every sweep before the reminders are computed (e.g. school start)."""

    name: str
    run: Callable[..., int]


JOBS: dict[str, PeriodicJob] = {}


def register_job(name: str, run: Callable[..., int]) -> None:
    """Run ``run(now=…)`` at the start of every sweep; it flushes, the sweep commits after it."""
    JOBS[name] = PeriodicJob(name, run)


_loaded: list[bool] = []


def load_kinds() -> dict[str, ReminderKind]:
    """Every registered kind; the first call imports ``praevcase.<feature>.reminder_kinds`` of each feature."""
    if not _loaded:
        from praevcase import FEATURES
        from praevcase import feature_module

        for feature in FEATURES:
            feature_module(feature, "reminder_kinds")
        _loaded.append(True)
    return KINDS
