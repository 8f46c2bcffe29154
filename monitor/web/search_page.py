"""Search over every stored item (full-text, diacritics-insensitive) with the review filters, and
export of the current list as CSV or Excel for reports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from openpyxl import Workbook
from sqlalchemy import select

from monitor.models import Source
from monitor.search import ItemFilters, search_items
from monitor.timeutil import format_local
from monitor.web.deps import Officer, current_user, reading
from monitor.web.render import category_label, plain, render, sentiment_label

router = APIRouter()
PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
COLUMNS = ("ID", "Thời gian", "Nguồn", "Tiêu đề", "Tóm tắt", "Đường dẫn", "Liên quan", "Sắc thái",
           "Sai lệch", "Chủ đề")


@router.get("/search")
def search_page(request: Request, page: int = 1, user: Officer = Depends(current_user)):
    filters = ItemFilters.from_params(request.query_params)
    page = max(1, min(page, 2_000))
    with reading(request) as session:
        rows, total = search_items(session, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        sources = dict(session.execute(select(Source.id, Source.name).order_by(Source.name)).all())
        return render(request, "search.html", title="Tìm kiếm", rows=rows, total=total, page=page,
                      page_size=PAGE_SIZE, filters=filters, sources=sources)


def _cell(value) -> str:
    """Text for a spreadsheet cell; a leading = + - @ would be run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_rows(request: Request, filters: ItemFilters) -> list[list[str]]:
    with reading(request) as session:
        rows, _total = search_items(session, filters, limit=EXPORT_LIMIT)
        sources = dict(session.execute(select(Source.id, Source.name)).all())
        out = []
        for item, c in rows:
            out.append([str(item.id), format_local(item.published_at), sources.get(item.source_id, ""),
                        plain(item.title), plain(item.summary, 1000), item.url or "",
                        ("Có" if c.relevant else "Không") if c else "", sentiment_label(c.sentiment) if c else "",
                        ("Có" if c.misleading else "Không") if c else "", category_label(c.category) if c else ""])
        return [[_cell(v) for v in row] for row in out]


def _filename(ext: str) -> str:
    return f"bhxh-tin-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M')}.{ext}"


@router.get("/search/export.csv")
def export_csv(request: Request, user: Officer = Depends(current_user)):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(export_rows(request, ItemFilters.from_params(request.query_params)))
    # A BOM so Excel opens the UTF-8 file with Vietnamese diacritics intact.
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{_filename("csv")}"'})


@router.get("/search/export.xlsx")
def export_xlsx(request: Request, user: Officer = Depends(current_user)):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Tin")
    sheet.append(list(COLUMNS))
    for row in export_rows(request, ItemFilters.from_params(request.query_params)):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Response(buffer.getvalue(),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"content-disposition": f'attachment; filename="{_filename("xlsx")}"'})
