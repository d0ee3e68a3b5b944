"""Imports every model module, so metadata and mappers are complete (Alembic, create_app)."""
from praevcase.accounts import models as accounts_models  # noqa: F401
from praevcase.audit import models as audit_models  # noqa: F401
from praevcase.tenants import models as tenants_models  # noqa: F401
