"""The demo tenant comes with a consent template and cases in different states, loaded once."""
from __future__ import annotations

import sqlalchemy as sa

from praevcase.cases.models import Case
from praevcase.demo import load_demo
from praevcase.extensions import db
from praevcase.privacy.models import ConsentTemplate
from praevcase.tenancy import ALL_TENANTS
from praevcase.tenancy import set_scope


def test_demo_cases_cover_the_lifecycle_and_loading_twice_changes_nothing(app_ctx):
    tenant, created = load_demo()
    assert created
    set_scope(db.session, ALL_TENANTS)
    states = sorted(s.value for s in db.session.scalars(sa.select(Case.state).where(Case.tenant_id == tenant.id)))
    assert {"consent_pending", "ready_for_review", "on_agenda", "in_support", "closed"} <= set(states)
    template = db.session.scalar(sa.select(ConsentTemplate).where(ConsentTemplate.tenant_id == tenant.id))
    assert set(template.purpose_texts) == {"team_review", "lotse_support", "referral", "transition_u1",
                                           "health_data_sharing"}
    assert template.plain_body and template.language == "de"
    again, created_again = load_demo()
    set_scope(db.session, ALL_TENANTS)
    assert again.id == tenant.id and not created_again
    assert sorted(s.value for s in db.session.scalars(sa.select(Case.state).where(
        Case.tenant_id == tenant.id))) == states
