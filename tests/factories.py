"""factory-boy factories: they flush, never commit, and build rows the way operations do."""
from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from praevcase.accounts.models import Role
from praevcase.accounts.models import User
from praevcase.accounts.models import UserRole
from praevcase.accounts.passwords import hash_password
from praevcase.database import new_id
from praevcase.database import utcnow
from praevcase.extensions import db
from praevcase.keys import new_wrapped_tenant_key
from praevcase.tenants.models import Agency
from praevcase.tenants.models import AgencyKind
from praevcase.tenants.models import Tenant
from praevcase.tenants.settings import effective_settings

PASSWORD = "richtig-langes-passwort"


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 - resolved per call
        sqlalchemy_session_persistence = "flush"


class TenantFactory(BaseFactory):
    class Meta:
        model = Tenant

    id = factory.LazyFunction(new_id)
    slug = factory.Sequence(lambda n: f"kommune-{n}")
    name = factory.Sequence(lambda n: f"Kommune {n}")
    case_prefix = "TK"
    is_demo = False
    settings = factory.LazyFunction(lambda: effective_settings({"sozialraeume": ["Nord", "Süd"]}))
    wrapped_key = factory.LazyAttribute(lambda o: new_wrapped_tenant_key(o.id))
    created_dt = factory.LazyFunction(utcnow)


class AgencyFactory(BaseFactory):
    class Meta:
        model = Agency

    tenant = factory.SubFactory(TenantFactory)
    tenant_id = factory.SelfAttribute("tenant.id")
    name = factory.Sequence(lambda n: f"Stelle {n}")
    kind = AgencyKind.jobcenter
    sozialraum = "Nord"
    created_dt = factory.LazyFunction(utcnow)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.pop("tenant", None)
        return super()._create(model_class, *args, **kwargs)


class UserFactory(BaseFactory):
    class Meta:
        model = User
        exclude = ("agency",)

    id = factory.LazyFunction(new_id)
    agency = factory.SubFactory(AgencyFactory)
    tenant_id = factory.SelfAttribute("agency.tenant_id")
    agency_id = factory.SelfAttribute("agency.id")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    password_hash = factory.LazyFunction(lambda: hash_password(PASSWORD))
    created_dt = factory.LazyFunction(utcnow)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        roles = extracted if extracted is not None else [Role.team_member]
        self.role_rows = [UserRole(role=r, tenant_id=self.tenant_id) for r in roles]
        if create:
            db.session.flush()


# --- cases (issue 4) -----------------------------------------------------------------------------


from consent.crypto import wrapped_key_id  # noqa: E402
from praevcase.cases.catalogue import IntakeChannel  # noqa: E402
from praevcase.cases.models import Case  # noqa: E402
from praevcase.privacy.models import Family  # noqa: E402
from praevcase.privacy.vault import new_family_key  # noqa: E402
from workflows.case import CaseState  # noqa: E402


class FamilyFactory(BaseFactory):
    """A family with its own data key; pass tenant_id and holder_agency_id."""

    class Meta:
        model = Family

    id = factory.LazyFunction(new_id)
    case_number = factory.Sequence(lambda n: f"TK-2026-{90000 + n:05d}")
    wrapped_key = factory.LazyAttribute(lambda o: new_family_key(o.tenant_id, o.id)[0])
    kek_id = factory.LazyAttribute(lambda o: wrapped_key_id(o.wrapped_key))
    created_dt = factory.LazyFunction(utcnow)


class CaseFactory(BaseFactory):
    """A case of a new family, opened by an intake user; the state is set at construction only."""

    class Meta:
        model = Case
        exclude = ("opened_by", "family")

    id = factory.LazyFunction(new_id)
    opened_by = factory.SubFactory(UserFactory, roles=[Role.intake])
    tenant_id = factory.SelfAttribute("opened_by.tenant_id")
    origin_agency_id = factory.SelfAttribute("opened_by.agency_id")
    opened_by_id = factory.SelfAttribute("opened_by.id")
    family = factory.SubFactory(FamilyFactory, tenant_id=factory.SelfAttribute("..opened_by.tenant_id"),
                                holder_agency_id=factory.SelfAttribute("..opened_by.agency_id"))
    family_id = factory.SelfAttribute("family.id")
    channel = IntakeChannel.jobcenter_observation
    state = CaseState.draft
    needs = factory.LazyFunction(lambda: ["kita_platz"])
    team_summary = "Kind, 5 Jahre, ohne Kita-Platz."
    created_dt = factory.LazyFunction(utcnow)
