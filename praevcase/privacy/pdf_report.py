"""The subject-access report as PDF (same content as the HTML page and the JSON)."""
from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from praevcase.pdf import Document

LOCAL = ZoneInfo("Europe/Berlin")


def _dt(value: str | None, fmt: str = "%d.%m.%Y %H:%M") -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(LOCAL).strftime(fmt)


def _d(value: str | None) -> str:
    return _dt(value, "%d.%m.%Y")


def report_pdf(r: dict[str, Any]) -> bytes:
    fam = r["family"]
    doc = Document("Auskunft nach Art. 15 DSGVO", subtitle=f"{r['tenant']} · Fall {fam['case_number']} · "
                   f"erstellt am {_dt(r['generated_at'])}", footer=f"Auskunft Fall {fam['case_number']}",
                   created=datetime.fromisoformat(r["generated_at"]))
    doc.paragraph("Diese Auskunft nennt alle Daten, die im Präventionsnetzwerk über Ihre Familie gespeichert sind, "
                  "die Einwilligungen mit ihrem Wortlaut, die Stellen, die Daten erhalten haben, und jeden "
                  "protokollierten Zugriff mit Datum, Stelle und Zweck. Namen einzelner Mitarbeitender werden "
                  "nicht genannt.")
    doc.heading("Familie")
    doc.key_values([("Fallnummer", fam["case_number"]), ("Erfasst am", _dt(fam["created_at"])),
                    ("Erhebende Stelle (Herkunft der Daten)", fam["source_agency"]),
                    ("Sozialraum", fam["sozialraum"] or "–")]
                   + ([("Gelöscht am", _dt(fam["erased_at"]))] if fam["erased_at"] else []))
    doc.heading("Gespeicherte Angaben zu Personen")
    if fam["erased_at"]:
        doc.paragraph("Die personenbezogenen Daten wurden gelöscht; es ist nur die Fallnummer als Löschnachweis "
                      "geblieben.")
    for i, p in enumerate(r["persons"], 1):
        doc.heading(f"{i}. {p['role']}" + (" (sorgeberechtigt)" if p["has_custody"] else ""), level=2)
        doc.key_values(list(p["data"].items()) + [("Erfasst am", _dt(p["recorded_at"]))])
    doc.heading("Einwilligungen")
    if not r["consents"]:
        doc.paragraph("Es ist keine Einwilligung gespeichert.")
    for i, c in enumerate(r["consents"], 1):
        t = c["template"]
        doc.heading(f"{i}. {t['title']} (Fassung {t['version']}, Sprache {t['language']}) – {c['state']}", level=2)
        doc.key_values([
            ("Zwecke", "; ".join(p["label"] for p in c["purposes"])),
            ("Datenarten", "; ".join(x["label"] for x in c["categories"])),
            ("Empfangende Stellen", ", ".join(c["recipients"])),
            ("Erteilt", f"{_dt(c['obtained_at'])}, {c['channel']}, erfasst von {c['obtained_by_agency']}"),
            ("Gültig", f"ab {_d(c['valid_from'])}" + (f" bis {_d(c['valid_until'])}" if c["valid_until"] else "")),
            ("Widerrufen", f"{_dt(c['withdrawn_at'])} ({c['withdrawn_via']})" if c["withdrawn_at"] else "–"),
            ("Ersetzt", _dt(c["superseded_at"]) or "–"),
            ("Sicht des Kindes", c["child_view"] or "–"),
            ("Prüfsumme des Textes (SHA-256)", t["sha256"]),
        ])
        doc.paragraph("Wortlaut: " + t["body"], size=9)
        doc.paragraph("In einfacher Sprache: " + t["plain_body"], size=9, muted=True)
    doc.heading("Stellen, die Daten erhalten haben")
    if r["recipients"]:
        doc.table(["Stelle", "Datenarten", "Zwecke", "Zugriffe", "Zeitraum"],
                  [[x["agency"], "; ".join(x["categories"]), "; ".join(x["purposes"]), x["accesses"],
                    f"{_d(x['first_access'])} – {_d(x['last_access'])}"] for x in r["recipients"]],
                  widths=[0.2, 0.25, 0.27, 0.1, 0.18])
    else:
        doc.paragraph("Keine Stelle außerhalb der erhebenden Stelle hat Daten abgerufen.")
    for s in r["sections"]:
        doc.heading(s["title"])
        if s.get("intro"):
            doc.paragraph(s["intro"])
        doc.table(s["columns"], s["rows"])
    doc.heading("Protokoll aller Zugriffe und Vorgänge")
    doc.table(["Zeitpunkt", "Vorgang", "Stelle", "Zweck / Rechtsgrundlage", "Datenarten", "Ergebnis"],
              [[_dt(e["at"]), e["action"], e["agency"], " / ".join(x for x in (e["purpose"], e["legal_basis"]) if x),
                "; ".join(e["categories"]), e["outcome"]] for e in r["access_log"]],
              widths=[0.14, 0.2, 0.16, 0.24, 0.16, 0.1], size=8)
    doc.heading("Speicherdauer")
    doc.paragraph(r["retention"]["text"])
    return doc.output()
