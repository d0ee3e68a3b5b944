"""The German labels of the workflows (states, triggers, closing reasons) as msgids for the catalogue.

The kernel in ``workflows/`` stays free of Flask and Babel, so its labels are plain strings; this
module lists them for ``pybabel extract`` and pages show them with the ``translate`` filter.
``LABELS`` is generated — regenerate with ``python -m praevcase.workflow_labels`` after changing a
label (a test fails until then).
"""
from __future__ import annotations

from pathlib import Path

from praevcase.i18n import N_

MARKER = "# " + "generated below; do not edit"


def current() -> list[str]:
    """Every label of every workflow, sorted."""
    from workflows import WORKFLOWS
    from workflows.case import CLOSING_REASON_LABELS_DE

    labels = set(CLOSING_REASON_LABELS_DE.values())
    for workflow in WORKFLOWS.values():
        for kind in ("states", "triggers"):
            labels |= set(workflow.labels_de[kind].values())
    return sorted(labels)


def _render(labels: list[str]) -> str:
    head = Path(__file__).read_text(encoding="utf-8").split(MARKER, 1)[0]
    body = "".join(f"    N_({label!r}),\n" for label in labels)
    return f"{head}{MARKER}\nLABELS = (\n{body})\n"


if __name__ == "__main__":
    Path(__file__).write_text(_render(current()), encoding="utf-8")

# generated below; do not edit
LABELS = (
    N_('Abbruch erfassen'),
    N_('Abgebrochen'),
    N_('Abgelaufen'),
    N_('Abgelehnt'),
    N_('Abgesagt'),
    N_('Abgeschlossen'),
    N_('Ablauf erfassen'),
    N_('Ablehnung der Einwilligung erfassen'),
    N_('Ablehnung erfassen'),
    N_('Absagen'),
    N_('Abschließen'),
    N_('Als durchgeführt erfassen'),
    N_('An das Jugendamt übergeben (§ 8a SGB VIII)'),
    N_('An das Regelsystem übergeben'),
    N_('An die Grundschule übergeben'),
    N_('An die neue Schule weitergeben'),
    N_('An die weiterführende Schule übergeben'),
    N_('Angenommen'),
    N_('Annahme erfassen'),
    N_('Auf der Tagesordnung'),
    N_('Auf die Tagesordnung setzen'),
    N_('Auf die Warteliste setzen'),
    N_('Ausgestellt'),
    N_('Ausstellen'),
    N_('Beginn erfassen'),
    N_('Begonnen'),
    N_('Beim Anbieter anfragen'),
    N_('Beim Anbieter angefragt'),
    N_('Bereit für das Schnittstellengespräch'),
    N_('Der Familie anbieten'),
    N_('Der Familie angeboten'),
    N_('Durch neue Einwilligung ersetzen'),
    N_('Durchgeführt'),
    N_('Einreichen und Einwilligung einholen'),
    N_('Einschulung erfassen'),
    N_('Einwilligung ausstehend'),
    N_('Einwilligung bestätigen'),
    N_('Einwilligung widerrufen'),
    N_('Empfang bestätigen'),
    N_('Entwurf'),
    N_('Erneut im Schnittstellengespräch beraten'),
    N_('Ersetzt'),
    N_('Familie hat abgelehnt'),
    N_('Familie ist verzogen'),
    N_('Fertiggestellt'),
    N_('Fertigstellen'),
    N_('Geplant'),
    N_('Im nächsten Schuljahr fortsetzen'),
    N_('In Begleitung'),
    N_('Lotsin/Lotse wechseln'),
    N_('Lotsin/Lotse zuweisen'),
    N_('Nachgespräch erfassen'),
    N_('Nachgespräch fällig'),
    N_('Nachgespräch geführt'),
    N_('Protokoll abgeschlossen'),
    N_('Protokoll abschließen'),
    N_('Sonstiges'),
    N_('Stornieren'),
    N_('Storniert'),
    N_('Tagesordnung festgelegt'),
    N_('Tagesordnung festlegen'),
    N_('Tagesordnung wieder öffnen'),
    N_('Vertagen'),
    N_('Von der Grundschule empfangen'),
    N_('Von der Schule empfangen'),
    N_('Vorgeschlagen'),
    N_('Warteliste'),
    N_('Widerruf der Einwilligung erfassen'),
    N_('Widerruf erfassen'),
    N_('Widerrufen'),
    N_('Wieder bearbeiten'),
    N_('Wirksam'),
    N_('Ziele erreicht'),
    N_('Zurückgestellt'),
    N_('Zurückstellung erfassen'),
    N_('Übergeben nach § 8a SGB VIII'),
)
