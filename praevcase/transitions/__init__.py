"""School transitions: the Ü1 protocol (Kita → Grundschule) and the Ü2 protocol (Grundschule → weiterführende Schule).

The writing institution keeps the protocol in its own family record and writes dated versions;
the parents' consent (or, for Ü2 where the tenant says so, the school law) decides which named
school receives it; the receiving school reads it only after the handover and confirms receipt.
Reminders follow the tenant's school calendar in corridors (reminder_kinds.py).
"""
