"""German number formats for reports (pure): 1.234 · 79,2 % · 774/977 = 79,2 % · • for withheld."""
from __future__ import annotations

from decimal import ROUND_HALF_UP
from decimal import Decimal

from praevcase.reports.suppression import SYMBOL


def number(value: int | None) -> str:
    """An integer with German thousands separators; the suppression symbol for None."""
    if value is None:
        return SYMBOL
    return f"{value:,}".replace(",", ".")


def decimal(value: float | Decimal | None, places: int = 1) -> str:
    """A decimal number with a German comma, rounded half up (not to even): 79,25 → 79,3."""
    if value is None:
        return SYMBOL
    quantum = Decimal(1).scaleb(-places)
    rounded = Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, frac = f"{abs(rounded):f}".partition(".")
    return f"{sign}{number(int(whole))}" + (f",{frac}" if places > 0 else "")


def percent(numerator: int | None, denominator: int | None, places: int = 1) -> str:
    """79,2 % (with a narrow no-break space as DIN 5008 asks); • if either part is withheld."""
    if numerator is None or denominator is None or denominator == 0:
        return SYMBOL if numerator is None or denominator is None else "–"
    return f"{decimal(Decimal(numerator) * 100 / Decimal(denominator), places)}\u00a0%"


def rate(numerator: int | None, denominator: int | None, places: int = 1) -> str:
    """The exact quotient: 774/977 = 79,2 % (never "about 80 %")."""
    if numerator is None:
        return f"{SYMBOL}/{number(denominator)}"
    return f"{number(numerator)}/{number(denominator)} = {percent(numerator, denominator, places)}"


def days(value: float | None) -> str:
    """A duration in days, one decimal where it is not whole: 12 Tage, 12,5 Tage."""
    if value is None:
        return SYMBOL
    places = 0 if float(value).is_integer() else 1
    text = decimal(value, places)
    return f"{text} Tag" if text == "1" else f"{text} Tage"
