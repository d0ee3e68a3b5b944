"""Report pages, their CSV and PDF exports, and the form for the reach-rate denominators."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint
from flask import flash
from flask import g
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from praevcase.cases.catalogue import AGE_PHASE_LABELS
from praevcase.cases.catalogue import CHANNEL_LABELS
from praevcase.database import utcnow
from praevcase.errors import InvalidInput
from praevcase.errors import NotFound
from praevcase.extensions import db
from praevcase.forms import load_form
from praevcase.i18n import N_
from praevcase.permissions import PUBLIC
from praevcase.permissions import requires
from praevcase.reports import charts
from praevcase.reports import compose
from praevcase.reports import operations as ops
from praevcase.reports.definitions import NO_VALUE_ARG
from praevcase.reports.definitions import PAGES
from praevcase.reports.definitions import TABLES
from praevcase.reports.definitions import Filters
from praevcase.reports.export import display
from praevcase.reports.export import to_csv
from praevcase.reports.export import to_pdf
from praevcase.reports.models import DENOMINATOR_KINDS
from praevcase.reports.models import HALF_LABELS
from praevcase.reports.models import ReachDenominator
from praevcase.reports.periods import LOCAL
from praevcase.reports.periods import Period
from praevcase.reports.periods import choices
from praevcase.reports.permissions import REPORTS_DENOMINATORS
from praevcase.reports.permissions import REPORTS_READ
from praevcase.reports.queries import SOURCES
from praevcase.reports.schemas import DenominatorIn
from praevcase.reports.schemas import ReportFilterIn
from praevcase.reports.suppression import method_de
from praevcase.reports.tables import CountResult
from praevcase.reports.tables import Listing
from praevcase.reports.tables import Result
from praevcase.reports.tables import Unavailable
from praevcase.schemas import form_data
from praevcase.tenants.models import Agency
from praevcase.tenants.models import Tenant

bp = Blueprint("reports", __name__, url_prefix="/berichte")

PAGE_KEYS = ",".join(PAGES)
#: The reports' own styles (numbers right-aligned, print rules), linked from the report pages
STYLESHEET = (Path(__file__).resolve().parent / "static" / "reports.css").read_text(encoding="utf-8")


# --- filters -----------------------------------------------------------------------------------


def today_local():
    return utcnow().astimezone(LOCAL).date()


def resolve_filters(args: dict[str, Any], ctx: compose.Context, *, default_kind: str = "") -> Filters:
    """Turn validated query arguments into Filters; values unknown in this tenant are refused."""
    errors: dict[str, list[str]] = {}
    period = Period.parse(args["period"]) if args.get("period") else Period.containing(today_local(), default_kind)
    sozialraum = args.get("sozialraum")
    if sozialraum == NO_VALUE_ARG:
        sozialraum = ""
    elif sozialraum is not None and sozialraum not in ctx.settings["sozialraeume"]:
        errors["sozialraum"] = [N_("Diesen Sozialraum gibt es nicht.")]
    age_phase = args.get("age_phase")
    if age_phase == NO_VALUE_ARG:
        age_phase = ""
    elif age_phase is not None and age_phase not in {a.value for a in AGE_PHASE_LABELS}:
        errors["age_phase"] = [N_("Diese Altersphase gibt es nicht.")]
    agency = args.get("agency")
    if agency is not None and db.session.scalar(
            sa.select(Agency.id).where(Agency.id == agency, Agency.tenant_id == ctx.tenant_id)) is None:
        errors["agency"] = [N_("Diese Stelle gibt es nicht.")]
    programme = args.get("programme")
    if programme is not None and programme not in {c.value for c in CHANNEL_LABELS}:
        errors["programme"] = [N_("Diesen Zugang gibt es nicht.")]
    if errors:
        raise ValidationError(errors)
    return Filters(period, sozialraum, age_phase, agency, programme)


def filters_from_request(ctx: compose.Context, *, default_kind: str = "") -> tuple[Filters, dict | None]:
    """Filters of the query string; on errors the defaults and the messages (the page still shows)."""
    schema = ReportFilterIn()
    try:
        return resolve_filters(schema.load(form_data(request.args, schema)), ctx, default_kind=default_kind), None
    except ValidationError as err:
        return resolve_filters({}, ctx, default_kind=default_kind), err.messages  # type: ignore[return-value]


def context() -> compose.Context:
    return compose.Context.of(db.session.get(Tenant, g.user.tenant_id))


def describe(filters: Filters, ctx: compose.Context) -> str:
    """The filters in one German line (subtitle of the exports)."""
    parts = [filters.period.label]
    if filters.channel:
        parts.append(f"Zugang: {dict((c.value, v) for c, v in CHANNEL_LABELS.items())[filters.channel]}")
    if filters.sozialraum is not None:
        parts.append(f"Sozialraum: {filters.sozialraum or 'ohne Angabe'}")
    if filters.age_phase is not None:
        labels = {a.value: v for a, v in AGE_PHASE_LABELS.items()}
        parts.append(f"Altersphase: {labels.get(filters.age_phase, 'ohne Angabe')}")
    if filters.agency_id is not None:
        parts.append(f"Stelle: {db.session.get(Agency, filters.agency_id).name}")
    created = utcnow().astimezone(LOCAL).strftime("%d.%m.%Y")
    return " · ".join(parts) + f" · Mindestfallzahl k = {ctx.k} · erstellt am {created}"


def filter_options(ctx: compose.Context) -> dict[str, Any]:
    return {
        "periods": choices(today_local()),
        "sozialraeume": [(s, s) for s in ctx.settings["sozialraeume"]] + [(NO_VALUE_ARG, "ohne Angabe")],
        "age_phases": [(a.value, v) for a, v in AGE_PHASE_LABELS.items()] + [(NO_VALUE_ARG, "ohne Angabe")],
        "agencies": [(str(i), n) for i, n in db.session.execute(
            sa.select(Agency.id, Agency.name).where(Agency.tenant_id == ctx.tenant_id).order_by(Agency.name))],
        "programmes": [(c.value, v) for c, v in CHANNEL_LABELS.items()],
    }


def chart_for(result: Result) -> Any:
    """The chart drawn from the protected result (None for tables without a chart)."""
    if isinstance(result, CountResult):
        labels, values = result.chart_series()
        if not any(values) and None not in values:
            return None  # nothing but zeros (or no rows): the table says it
        over_time = result.definition.chart == "cols" or result.definition.rows == "month"
        if over_time and len({label.split(" ")[-1] for label in labels}) == 1:
            labels = [label.split(" ")[0] for label in labels]  # "März 2026" → "März": one year, short axis
        draw = charts.column_chart if over_time else charts.bar_chart
        return draw(f"chart-{result.definition.key}", result.title, labels, values, unit=result.definition.measure)
    return None


def _render(template: str, *, title: str, results: list[Result], filters: Filters, ctx: compose.Context,
            errors: dict | None, export_endpoint: str, **extra: Any) -> str:
    args = filters.as_args()
    return render_template(
        template, title=title, results=results, filters=filters, errors=errors, k=ctx.k, method=method_de(ctx.k),
        chart_for=chart_for, display=display, options=filter_options(ctx), no_value=NO_VALUE_ARG,
        csv_url=url_for(f"{export_endpoint}_csv", **args, **extra.get("url_args", {})),
        pdf_url=url_for(f"{export_endpoint}_pdf", **args, **extra.get("url_args", {})),
        api_url=extra.pop("api_url", None), is_count=lambda r: isinstance(r, CountResult),
        is_unavailable=lambda r: isinstance(r, Unavailable), **extra)


def _download(body: bytes, mimetype: str, filename: str, report: str, fmt: str, filters: Filters):
    ops.record_export(report, fmt, filters, actor=g.user, now=utcnow())
    response = make_response(body)
    response.mimetype = mimetype
    if mimetype == "text/csv":
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export(fmt: str, report: str, title: str, filters: Filters, ctx: compose.Context, results: list[Result]):
    subtitle = describe(filters, ctx)
    name = f"{report}-{filters.period.code}"
    if fmt == "csv":
        return _download(to_csv(title, subtitle, results), "text/csv", f"{name}.csv", report, fmt, filters)
    return _download(to_pdf(title, subtitle, results, created=utcnow()), "application/pdf",
                     f"{name}.pdf", report, fmt, filters)


# --- pages -------------------------------------------------------------------------------------


@bp.route("/berichte.css")
@requires(PUBLIC)
def stylesheet():
    response = make_response(STYLESHEET)
    response.mimetype = "text/css"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/")
@requires(REPORTS_READ)
def index():
    return render_template("reports/index.html", pages=PAGES.values(), tables=TABLES, available=set(SOURCES))


@bp.route(f"/<any({PAGE_KEYS}):page>")
@requires(REPORTS_READ)
def page(page: str):
    ctx = context()
    filters, errors = filters_from_request(ctx)
    spec = PAGES[page]
    return _render("reports/page.html", title=spec.title, results=compose.run_page(page, filters, ctx),
                   filters=filters, ctx=ctx, errors=errors, export_endpoint="reports.page", page=spec,
                   url_args={"page": page}, api_url=url_for("reports_api.report_page", page=page, **filters.as_args()))


@bp.route(f"/<any({PAGE_KEYS}):page>.csv")
@requires(REPORTS_READ)
def page_csv(page: str):
    return _page_export(page, "csv")


@bp.route(f"/<any({PAGE_KEYS}):page>.pdf")
@requires(REPORTS_READ)
def page_pdf(page: str):
    return _page_export(page, "pdf")


def _page_export(page: str, fmt: str):
    ctx = context()
    filters, errors = filters_from_request(ctx)
    if errors:
        raise ValidationError(errors)
    return _export(fmt, page, PAGES[page].title, filters, ctx, compose.run_page(page, filters, ctx))


def _sachbericht_filters(ctx: compose.Context) -> tuple[Filters, dict | None]:
    filters, errors = filters_from_request(ctx, default_kind="H")
    if filters.channel is None:
        filters = Filters(filters.period, channel=next(iter(CHANNEL_LABELS)).value)
    return Filters(filters.period, channel=filters.channel), errors


@bp.route("/sachbericht")
@requires(REPORTS_READ)
def sachbericht():
    ctx = context()
    filters, errors = _sachbericht_filters(ctx)
    return _render("reports/sachbericht.html", title="Sachbericht", results=compose.sachbericht(filters, ctx),
                   filters=filters, ctx=ctx, errors=errors, export_endpoint="reports.sachbericht",
                   api_url=url_for("reports_api.sachbericht", **filters.as_args()),
                   programme_label=dict((c.value, v) for c, v in CHANNEL_LABELS.items())[filters.channel])


@bp.route("/sachbericht.csv")
@requires(REPORTS_READ)
def sachbericht_csv():
    return _sachbericht_export("csv")


@bp.route("/sachbericht.pdf")
@requires(REPORTS_READ)
def sachbericht_pdf():
    return _sachbericht_export("pdf")


def _sachbericht_export(fmt: str):
    ctx = context()
    filters, errors = _sachbericht_filters(ctx)
    if errors:
        raise ValidationError(errors)
    return _export(fmt, "sachbericht", "Sachbericht", filters, ctx, compose.sachbericht(filters, ctx))


def _reach_filters(ctx: compose.Context) -> tuple[Filters, dict | None]:
    filters, errors = filters_from_request(ctx)
    return Filters(filters.period), errors


def reach_table(rows: list[compose.ReachRow]) -> tuple[list[str], list[list[object]]]:
    header = ["Zugang", "Bezugsgröße", "Sozialraum", "Erreicht", "Bezugsgröße (Anzahl)", "Erreichungsquote", "Quelle"]
    body = [[r.programme_label, r.kind_label, r.sozialraum or "ganze Kommune", r.numerator, r.denominator,
             r.display, r.source_note or ""] for r in rows]
    return header, body


@bp.route("/erreichung")
@requires(REPORTS_READ)
def reach():
    ctx = context()
    filters, errors = _reach_filters(ctx)
    rows, base = compose.reach(filters, ctx)
    return _render("reports/reach.html", title="Erreichungsquoten", results=[], filters=filters, ctx=ctx,
                   errors=errors, export_endpoint="reports.reach", rows=rows, base=base,
                   api_url=url_for("reports_api.reach", **filters.as_args()))


@bp.route("/erreichung.csv")
@requires(REPORTS_READ)
def reach_csv():
    return _reach_export("csv")


@bp.route("/erreichung.pdf")
@requires(REPORTS_READ)
def reach_pdf():
    return _reach_export("pdf")


def _reach_export(fmt: str):
    ctx = context()
    filters, errors = _reach_filters(ctx)
    if errors:
        raise ValidationError(errors)
    rows, _ = compose.reach(filters, ctx)
    header, body = reach_table(rows)
    listing = Listing("Erreichungsquoten", header, body, method_de(ctx.k))
    return _export(fmt, "erreichung", "Erreichungsquoten", filters, ctx, [listing])


# --- denominators ------------------------------------------------------------------------------


def _denominator_page(errors: dict | None = None, form: Any = None, status: int = 200):
    ctx = context()
    rows = db.session.scalars(sa.select(ReachDenominator).where(ReachDenominator.tenant_id == ctx.tenant_id)
                              .order_by(ReachDenominator.year.desc(), ReachDenominator.half,
                                        ReachDenominator.programme, ReachDenominator.kind)).all()
    return render_template("reports/denominators.html", **_denominator_context(ctx, rows),
                           errors=errors, form=form or {}), status


def _denominator_context(ctx: compose.Context, rows: list[ReachDenominator]) -> dict[str, Any]:
    return {"rows": rows, "programmes": [(c.value, v) for c, v in CHANNEL_LABELS.items()],
            "programme_labels": {c.value: v for c, v in CHANNEL_LABELS.items()},
            "kinds": list(DENOMINATOR_KINDS.items()), "kind_labels": DENOMINATOR_KINDS,
            "halves": [(str(k), v) for k, v in HALF_LABELS.items()], "half_labels": HALF_LABELS,
            "sozialraeume": [("", "ganze Kommune")] + [(s, s) for s in ctx.settings["sozialraeume"]],
            "display": display}


@bp.route("/bezugsgroessen", methods=["GET", "POST"])
@requires(REPORTS_DENOMINATORS)
def denominators():
    if request.method == "GET":
        return _denominator_page()
    ctx = context()
    rows = db.session.scalars(sa.select(ReachDenominator).where(ReachDenominator.tenant_id == ctx.tenant_id)).all()
    data = load_form(DenominatorIn(), template="reports/denominators.html", **_denominator_context(ctx, list(rows)))
    tenant = db.session.get(Tenant, g.user.tenant_id)
    try:
        ops.set_denominator(tenant, data, actor=g.user, now=utcnow())
    except InvalidInput as e:
        return _denominator_page(errors=e.errors, form=request.form, status=422)
    flash(_("Die Bezugsgröße ist gespeichert."), "success")
    return redirect(url_for("reports.denominators"))


@bp.route("/bezugsgroessen/<uuid:denominator_id>/loeschen", methods=["POST"])
@requires(REPORTS_DENOMINATORS)
def delete_denominator(denominator_id: uuid.UUID):
    row = db.session.get(ReachDenominator, denominator_id)
    if row is None:
        raise NotFound()
    ops.delete_denominator(row, actor=g.user, now=utcnow())
    flash(_("Die Bezugsgröße ist gelöscht."), "success")
    return redirect(url_for("reports.denominators"))
