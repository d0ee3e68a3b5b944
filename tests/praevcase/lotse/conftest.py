"""The fixtures of the session tests (a Kreis with its team and a small catalogue)."""
from tests.praevcase.sessions.conftest import team  # noqa: F401
from tests.praevcase.sessions.conftest import team_ctx  # noqa: F401
