"""API: the aggregates of the report pages, protected exactly like the pages (null = withheld)."""
from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest import Blueprint

from praevcase.errors import InvalidInput
from praevcase.extensions import db
from praevcase.permissions import requires
from praevcase.reports import compose
from praevcase.reports.definitions import DIMENSIONS
from praevcase.reports.definitions import PAGES
from praevcase.reports.definitions import SACHBERICHT_TABLES
from praevcase.reports.definitions import TABLES
from praevcase.reports.definitions import CountTable
from praevcase.reports.definitions import Filters
from praevcase.reports.permissions import REPORTS_READ
from praevcase.reports.queries import SOURCES
from praevcase.reports.schemas import CatalogueOut
from praevcase.reports.schemas import ReachOut
from praevcase.reports.schemas import ReportFilterIn
from praevcase.reports.schemas import ReportOut
from praevcase.reports.schemas import TableOut
from praevcase.reports.suppression import method_de
from praevcase.reports.tables import Result
from praevcase.reports.tables import SliceResult
from praevcase.reports.tables import Unavailable
from praevcase.reports.views import resolve_filters
from praevcase.tenants.models import Tenant

blp = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports",
                description="Berichte: nur zusammengefasste Zahlen; Werte unter der Mindestfallzahl k und ergänzend "
                            "unterdrückte Werte sind null")

PAGE_KEYS = ",".join(PAGES)


def _ctx() -> compose.Context:
    return compose.Context.of(db.session.get(Tenant, g.user.tenant_id))


def table_payload(result: Result, key: str | None = None) -> dict[str, Any]:
    definition = getattr(result, "definition", None)
    payload: dict[str, Any] = {"key": key or (definition.key if definition else ""), "title": result.title,
                               **result.to_dict()}
    if definition is not None:
        payload.update(basis=definition.basis, note=definition.note,
                       measure=getattr(definition, "measure", "Fälle"))
    if isinstance(result, SliceResult):
        payload["measure"] = result.measure
    if not isinstance(result, Unavailable):
        payload.update(k=result.k, method=result.method)
    return payload


def _page(key: str, title: str, filters: Filters, results: list[Result], keys: list[str] | None = None) -> dict:
    return {"key": key, "title": title, "period": {"code": filters.period.code, "label": filters.period.label},
            "filters": filters.as_args(),
            "tables": [table_payload(r, k) for r, k in zip(results, keys or [None] * len(results), strict=True)]}


@blp.route("/")
@requires(REPORTS_READ)
@blp.response(200, CatalogueOut)
def catalogue():
    """The report pages and tables, with the dimensions of each table and whether it is available yet."""
    tables = []
    for t in TABLES.values():
        dims = [t.rows, t.cols] if isinstance(t, CountTable) else [t.group]
        tables.append({"key": t.key, "title": t.title, "available": t.source in SOURCES,
                       "dimensions": [{"key": d, "label": DIMENSIONS[d]} for d in dims if d]})
    pages = [{"key": p.key, "title": p.title, "tables": list(p.tables)} for p in PAGES.values()]
    pages += [{"key": "sachbericht", "title": "Sachbericht", "tables": []},
              {"key": "reach", "title": "Erreichungsquoten", "tables": []}]
    return {"pages": pages, "tables": tables}


@blp.route(f"/<any({PAGE_KEYS}):page>")
@requires(REPORTS_READ)
@blp.arguments(ReportFilterIn, location="query")
@blp.response(200, ReportOut)
def report_page(args, page: str):
    """All tables of a report page for a period (default: the current year) and optional filters."""
    ctx = _ctx()
    filters = resolve_filters(args, ctx)
    return _page(page, PAGES[page].title, filters, compose.run_page(page, filters, ctx))


@blp.route("/tables/<any({}):key>".format(",".join(TABLES)))
@requires(REPORTS_READ)
@blp.arguments(ReportFilterIn, location="query")
@blp.response(200, TableOut)
def report_table(args, key: str):
    """One table for a period and optional filters."""
    ctx = _ctx()
    return table_payload(compose.run(TABLES[key], resolve_filters(args, ctx), ctx))


@blp.route("/sachbericht")
@requires(REPORTS_READ)
@blp.arguments(ReportFilterIn, location="query")
@blp.response(200, ReportOut)
def sachbericht(args):
    """The half-year Sachbericht of one intake programme (``programme``, default period: current half-year)."""
    ctx = _ctx()
    filters = resolve_filters(args, ctx, default_kind="H")
    if filters.channel is None:
        raise InvalidInput(errors={"programme": ["Bitte einen Zugang angeben."]})
    filters = Filters(filters.period, channel=filters.channel)
    return _page("sachbericht", "Sachbericht", filters, compose.sachbericht(filters, ctx),
                 [key for _, key in SACHBERICHT_TABLES])


@blp.route("/reach")
@requires(REPORTS_READ)
@blp.arguments(ReportFilterIn, location="query")
@blp.response(200, ReachOut)
def reach(args):
    """Reach rates (Erreichungsquoten) of a year or half-year: intakes ÷ the denominators entered."""
    ctx = _ctx()
    filters = Filters(resolve_filters(args, ctx).period)
    rows, _ = compose.reach(filters, ctx)
    return {"period": {"code": filters.period.code, "label": filters.period.label}, "k": ctx.k,
            "method": method_de(ctx.k),
            "rates": [{**r.__dict__, "percent": r.percent, "display": r.display} for r in rows]}
