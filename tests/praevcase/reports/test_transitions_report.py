"""The transition report: Ü1/Ü2 protocols per Kita and school, and handovers before school start."""
from __future__ import annotations

from datetime import UTC
from datetime import datetime

from praevcase.accounts.models import Role
from praevcase.accounts.tokens import create_token
from praevcase.database import utcnow
from praevcase.transitions import operations as ops
from praevcase.transitions.models import ProtocolKind
from tests.conftest import arrange
from tests.praevcase.transitions.conftest import build_world
from tests.praevcase.transitions.conftest import consent_for
from tests.praevcase.transitions.conftest import new_protocol
from tests.praevcase.transitions.conftest import save

BEFORE = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
AFTER = datetime(2027, 9, 1, 10, 0, tzinfo=UTC)  # school year 2027/28 started on 1 August


def _u1(world, kita_staff, *, handed_over_at=None):
    p = new_protocol(world, ProtocolKind.u1, BEFORE, receiver=world.gs, author=kita_staff)
    save(p, kita_staff, BEFORE)
    if handed_over_at is not None:
        ops.record_parent_talk(p, BEFORE.date(), actor=kita_staff, now=BEFORE)
        ops.fire(p, "finalize", actor=kita_staff, now=BEFORE)
        consent_for(p, world.gs, kita_staff, handed_over_at)
        ops.fire(p, "hand_over", actor=kita_staff, now=handed_over_at)
    return p


def _rows(table: dict) -> dict[str, dict[str, int | None]]:
    keys = [c["key"] for c in table["columns"]]
    return {r["label"]: dict(zip(keys, r["values"], strict=True)) | {"total": r["total"]} for r in table["rows"]}


def test_protocols_per_kita_and_handovers_before_school_start(app, client):
    with arrange(app):
        world = build_world()
        for _ in range(6):
            _u1(world, world.kita_staff, handed_over_at=BEFORE)
        for _ in range(2):
            _u1(world, world.kita_staff)
        for _ in range(5):
            _u1(world, world.kita2_staff, handed_over_at=AFTER)
        _, token = create_token(world.coordinator, name="t", scopes={Role.coordinator}, now=utcnow())
    headers = {"Authorization": f"Bearer {token}"}
    tables = {t["key"]: t for t in client.get("/api/v1/reports/uebergaenge?period=2027", headers=headers)
              .json["tables"]}

    per_kita = _rows(tables["u1_by_kita"])
    assert per_kita["Kita Sonnenblume"]["handed_over"] == 6
    assert per_kita["Kita Sonnenblume"]["draft"] is None  # 2 drafts: below k
    assert per_kita["Kita Regenbogen"]["handed_over"] == 5
    assert tables["u1_by_kita"]["grand_total"] == 13

    on_time = _rows(tables["transitions_on_time"])["Ü1: Kita → Grundschule"]
    assert (on_time["on_time"], on_time["late"], on_time["not_handed_over"]) == (6, 5, None)
    assert tables["u2_by_school"]["grand_total"] == 0

    other_year = client.get("/api/v1/reports/uebergaenge?period=2026", headers=headers).json["tables"]
    assert all(t["grand_total"] == 0 for t in other_year)
    filtered = client.get(f"/api/v1/reports/tables/u1_by_kita?period=2027&agency={world.kita2.id}",
                          headers=headers).json
    assert filtered["grand_total"] == 5 and [r["label"] for r in filtered["rows"]] == ["Kita Regenbogen"]
