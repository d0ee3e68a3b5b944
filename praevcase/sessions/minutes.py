"""The minutes ("Protokoll") of a session: one structure for the printable page, the PDF and the API.

Minutes are pseudonymous: case numbers, the team's summary, decisions, offers, the Lotse. The
notes of the peer consultation appear only where the family's consent covers the reader's agency
(vault.reveal_many, Purpose.team_review); otherwise the marker stands in their place. A "current
state" column shows what became of each case and proposed offer since.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from praevcase.accounts.models import User
from praevcase.extensions import db
from praevcase.pdf import Document
from praevcase.privacy.vault import Denied
from praevcase.sessions import queries
from praevcase.sessions.models import ReviewSession
from praevcase.sessions.schedule import local
from workflows.review_session import ReviewSessionState

MARKER = "Einwilligung deckt Ihre Stelle nicht ab"


def minutes_data(session: ReviewSession, actor: Any, now: datetime) -> dict[str, Any]:
    """Everything the minutes show, as *actor* may see it."""
    agenda = queries.agenda_view(session, actor, now, with_names=False)
    final_by = db.session.get(User, session.minutes_final_by_id) if session.minutes_final_by_id else None
    organizer = db.session.get(User, session.organizer_id) if session.organizer_id else None
    return {
        "session": session, "state_label": queries.SESSION.state_label(session.state),
        "final": session.state is ReviewSessionState.minutes_final,
        "starts": local(session.starts_dt), "ends": local(session.ends_dt), "place": session.place,
        "chair": organizer.display_name if organizer else None,
        "final_by": final_by.display_name if final_by else None, "final_dt": session.minutes_final_dt,
        "attendees": queries.attendee_views(session), "items": agenda["items"], "generated_dt": now,
    }


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, Denied):
        return MARKER
    return str(value)


def _decision(item: dict[str, Any]) -> str:
    if not item["decision_label"]:
        return "– (noch offen)" if item["on_agenda"] else f"außerhalb des Gesprächs: {item['case_state_label']}"
    parts = [item["decision_label"]]
    if item["lotse"]:
        parts.append(f"Lotsin/Lotse: {item['lotse']}")
    if item["rereview_date"]:
        parts.append(f"Wiedervorlage ab {item['rereview_date']:%d.%m.%Y}")
    if item["closing_reason_label"]:
        parts.append(f"Grund: {item['closing_reason_label']}")
    return "; ".join(parts)


def minutes_pdf(data: dict[str, Any]) -> bytes:
    """The minutes as a PDF (praevcase.pdf): facts, attendance, one section per agenda item."""
    starts = data["starts"]
    title = f"Protokoll des Schnittstellengesprächs vom {starts:%d.%m.%Y}"
    status = ("abgeschlossen am " + f"{local(data['final_dt']):%d.%m.%Y %H:%M}" + (f" von {data['final_by']}"
              if data["final_by"] else "")) if data["final"] else f"Entwurf ({data['state_label']})"
    doc = Document(title, subtitle=f"{starts:%d.%m.%Y}, {starts:%H:%M}–{data['ends']:%H:%M} Uhr, {data['place']}",
                   footer=f"{title} – vertraulich, pseudonymisiert", created=data["generated_dt"])
    doc.key_values([("Protokoll", status), ("Leitung", data["chair"] or "Präventionsbüro"),
                    ("Fälle", str(len(data["items"])))])
    doc.heading("Anwesenheit")
    doc.table(["Stelle", "Präventionskraft", "Anwesenheit"],
              [[a["agency"], a["person"] or "–", a["presence_label"]] for a in data["attendees"]],
              widths=[0.45, 0.33, 0.22])
    doc.heading("Fälle")
    for item in data["items"]:
        doc.heading(f"{item['position']}. Fall {item['case_number']}", level=2)
        offers = [f"{p['offer_name'] or p['offer_type_label']} ({p['state_label']})" for p in item["proposals"]]
        doc.key_values([
            ("Altersphase", item["age_phase_label"] or "–"), ("Bedarfe", ", ".join(item["needs"]) or "–"),
            ("Zusammenfassung", item["team_summary"]), ("Kollegiale Beratung", _text(item["notes"])),
            ("Vorgeschlagene Angebote", "; ".join(offers) or "–"), ("Entscheidung", _decision(item)),
            ("Stand heute", item["case_state_label"] + (f", Lotsin/Lotse: {item['current_lotse']}"
                                                        if item["current_lotse"] else "")),
        ])
    doc.paragraph("Das Protokoll enthält keine Namen. Notizen der kollegialen Beratung erscheinen nur, wenn die "
                  "Einwilligung der Familie die Stelle der Leserin oder des Lesers nennt.", size=8, muted=True)
    return doc.output()
