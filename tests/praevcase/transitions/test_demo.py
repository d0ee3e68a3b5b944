"""Demo data: a Kita child with an Ü1 draft and a Grundschule child with an issued Ü2, loaded once."""
from __future__ import annotations

import sqlalchemy as sa

from praevcase.demo import load_demo
from praevcase.extensions import db
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import set_scope
from praevcase.transitions.models import U1Protocol
from praevcase.transitions.models import U2Protocol
from tests.conftest import login_as
from workflows.u1_protocol import U1ProtocolState
from workflows.u2_protocol import U2ProtocolState


def test_demo_has_one_u1_draft_and_one_issued_u2_and_loading_again_adds_nothing(app, client):
    with app.app_context():
        set_scope(db.session, ALL_TENANTS)
        tenant, created = load_demo()
        db.session.commit()
        set_scope(db.session, ALL_TENANTS)
        assert created and not load_demo()[1]
        db.session.commit()
        set_scope(db.session, tenant.id)
        assert [p.state for p in db.session.scalars(sa.select(U1Protocol))] == [U1ProtocolState.draft]
        assert [p.state for p in db.session.scalars(sa.select(U2Protocol))] == [U2ProtocolState.issued]
        from praevcase.accounts.models import User

        kita = db.session.scalar(sa.select(User).where(User.email == "kita@demo.praevcase.test"))
        school = db.session.scalar(sa.select(User).where(User.email == "grundschule@demo.praevcase.test"))
        protocol_id = db.session.scalar(sa.select(U1Protocol.id))
        u2_id = db.session.scalar(sa.select(U2Protocol.id))
    login_as(client, app, kita)
    page = client.get(f"/uebergaenge/ue1/{protocol_id}").get_data(as_text=True)
    assert "Mila Sommerfeld" in page and "Klettert gern" in page
    login_as(client, app, school)
    assert str(u2_id) in client.get("/uebergaenge/").get_data(as_text=True)
    assert "Noah Bergmann" in client.get(f"/uebergaenge/ue2/{u2_id}").get_data(as_text=True)
    assert client.get(f"/uebergaenge/ue1/{protocol_id}").status_code == 404  # not handed over yet
