"""The reminder tests use the transition world (Kitas, schools, their staff)."""
from tests.praevcase.transitions.conftest import world  # noqa: F401 - the fixture
