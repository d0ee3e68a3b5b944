"""argon2id password hashing and the password policy (ASVS 6.2)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2 import Type
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError
from flask import current_app

from praevcase.i18n import N_

#: RFC 9106 low-memory profile (argon2-cffi default): t=3, m=64 MiB, p=4 — above OWASP's minimum
PRODUCTION_PARAMS = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}
#: OWASP's minimum (t=2, m=19 MiB, p=1), the floor no configuration may go below outside tests
OWASP_MINIMUM = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}

MIN_LENGTH = 12
MAX_LENGTH = 128
#: The most common passwords in German breach lists (ASVS 6.2.4 wants a deny list)
COMMON = frozenset(
    """passwort passwort1 passwort123 hallo123 hallo1234 123456789012 qwertz123456 qwertzuiop12
    password1234 password123456 passwort1234 passwort12345 000000000000 111111111111 123123123123
    ichliebedich1 schalke04schalke borussia09bvb sommer2026sommer winter2026winter
    praevcase123 praevention123 jugendamt123 jobcenter123 kreisdueren123 willkommen123
    willkommen1234 geheim123456 geheimgeheim abc123abc123 aaaaaaaaaaaa""".split()
)


def _hasher() -> PasswordHasher:
    params = current_app.config.get("ARGON2_PARAMS", PRODUCTION_PARAMS)
    return PasswordHasher(type=Type.ID, **params)


def hash_password(password: str) -> str:
    """Hash *password* with argon2id."""
    return _hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Constant-time check of *password* against *stored_hash*."""
    try:
        return _hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with older parameters (upgraded at the next login)."""
    return _hasher().check_needs_rehash(stored_hash)


def burn_time(password: str) -> None:
    """Spend a verification's time for an unknown account, so timing does not reveal it."""
    verify_password(_dummy_hash(), password)


_DUMMY: dict[str, str] = {}


def _dummy_hash() -> str:
    key = repr(current_app.config.get("ARGON2_PARAMS", PRODUCTION_PARAMS))
    if key not in _DUMMY:
        _DUMMY[key] = _hasher().hash("dummy password for timing")
    return _DUMMY[key]


def password_problems(password: str, *, email: str = "") -> list[str]:
    """German reasons why *password* is not acceptable (empty list: fine)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Das Passwort muss mindestens {MIN_LENGTH} Zeichen lang sein.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Das Passwort darf höchstens {MAX_LENGTH} Zeichen lang sein.")
    lowered = password.lower()
    if lowered in COMMON or len(set(lowered)) < 4:
        problems.append(N_("Dieses Passwort ist zu leicht zu erraten."))
    local = email.split("@", 1)[0].lower()
    if local and len(local) >= 4 and local in lowered:
        problems.append(N_("Das Passwort darf die E-Mail-Adresse nicht enthalten."))
    return problems
