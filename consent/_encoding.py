"""Small byte-encoding helpers shared by the crypto modules (internal)."""

from __future__ import annotations

# Four bytes of length per part: associated data and HMAC inputs are built from
# several identifiers, and plain concatenation would let ("ab", "c") collide
# with ("a", "bc"). A length prefix makes the encoding injective.
_LEN_BYTES = 4
_MAX_PART = 2 ** (8 * _LEN_BYTES) - 1


def length_prefixed(*parts: bytes) -> bytes:
    """Encode parts unambiguously as ``len(part) (4 bytes BE) || part`` each.

    :raises ValueError: if a part is longer than 2**32 - 1 bytes.
    """
    out = bytearray()
    for part in parts:
        if len(part) > _MAX_PART:
            raise ValueError("part too long for length-prefixed encoding")
        out += len(part).to_bytes(_LEN_BYTES, "big")
        out += part
    return bytes(out)


def require_text(name: str, value: object) -> str:
    """Return ``value`` if it is a non-empty str, else raise.

    :raises TypeError: if ``value`` is not a str.
    :raises ValueError: if ``value`` is empty.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    return value


def require_version(name: str, value: object) -> int:
    """Return ``value`` if it is an int in 1..2**32-1 (fits the 4-byte field).

    :raises TypeError: if ``value`` is not an int (bool is rejected too).
    :raises ValueError: if ``value`` is out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    if not 1 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{name} must be between 1 and 2**32-1")
    return value
