"""Staff pages of the law review (法令見直し担当), ``/staff/laws``:

- ``GET /staff/laws``: progress (category × status counts, share reviewed), the filter form and one page of the
  findings (50 a page), with the CSV / JSON / HTML reports of the current filter;
- ``GET /staff/laws/report.{csv,json,html}``: the report of the filtered items as a download;
- ``GET|POST /staff/laws/items/{id}``: one finding (the provision with the evidence marked, its history) and the
  workflow form (未着手 → 見直し方針決定 → 見直し済); a refused change or a conflict is told on the form, input kept;
- ``GET|POST /staff/laws/import``: upload law XML files; each is imported on its own (nothing of a failed one);
- ``GET|POST /staff/laws/draft``: the draft checker (デジタル原則適合性確認) on pasted text or an XML file; nothing is
  stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tsunagu.kernel.access import Access, Permission
from tsunagu.kernel.errors import NotFound
from tsunagu.laws import api
from tsunagu.laws.core import draft as drafts
from tsunagu.laws.review_form import Errors, form_values, item_values, message, parse_change, refused_fields
from tsunagu.web.access import guard, staff_principal
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import language, render

READ = [guard(Access.staff(Permission.LAWS_REVIEW_READ))]
WRITE = [guard(Access.staff(Permission.LAWS_REVIEW_WRITE))]
IMPORT = [guard(Access.staff(Permission.LAWS_DOCUMENT_IMPORT))]
PREFIX = "/staff/laws"
PAGE_SIZE = 50
MAX_UPLOAD_FILES = 50
MAX_UPLOAD_REQUEST = 128 * 1024 * 1024  # all files of one upload together
DRAFT_FORM_MAX = drafts.TEXT_MAX * 9 + 64 * 1024  # the text field, even percent-encoded (9 bytes a character)
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "html": "text/html; charset=utf-8",
}
FILTER_KEYS = ("category", "status", "law", "ministry", "phase", "q", "absent")


@dataclass(frozen=True)
class Filters:
    """The filter form as given (``values``, shown back) and as understood (``flt``); a value that is not one of
    the choices is ignored."""

    values: dict[str, str]
    flt: api.ItemFilter

    def query(self, **extra: object) -> str:
        pairs = [(k, v) for k, v in self.values.items() if v] + [(k, str(v)) for k, v in extra.items()]
        return urlencode(pairs)


def filters_of(request: Request) -> Filters:
    params = request.query_params
    values = {k: params.get(k, "").strip()[:200] for k in FILTER_KEYS}
    phase = int(values["phase"]) if values["phase"] in {str(p) for p in api.PHASES} else None
    flt = api.ItemFilter(
        category=values["category"] if values["category"] in api.CATEGORIES else None,
        status=values["status"] if values["status"] in api.STATUSES else None,
        law_id=values["law"] or None,
        ministry=values["ministry"] or None,
        phase=phase,
        present=None if values["absent"] == "1" else True,
        q=values["q"] or None,
    )
    return Filters(values, flt)


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() and len(raw) < 7 else 1


# --- uploads -------------------------------------------------------------------------------------------------


def _base_name(filename: str) -> str:
    """Only the file's own name (some browsers send a path), at most 200 characters."""
    name = PureWindowsPath(PurePosixPath(filename).name).name
    return name[-200:] or "upload.xml"


def _uploads(form: FormData, field: str) -> list[UploadFile]:
    return [u for u in form.getlist(field) if isinstance(u, UploadFile) and u.filename]


def _too_big(request: Request, limit: int) -> bool:
    length = request.headers.get("content-length", "")
    return length.isdigit() and int(length) > limit


def _max_file_bytes(request: Request) -> int:
    return ctx_of(request).settings.laws_max_file_bytes


# --- routes --------------------------------------------------------------------------------------------------


def _list_context(request: Request) -> dict[str, Any]:
    found = filters_of(request)
    page = _page_number(request)
    with ctx_of(request).uow() as db:
        listing = api.list_items(db, found.flt, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        if listing.total and not listing.items:  # past the last page
            page = (listing.total - 1) // PAGE_SIZE + 1
            listing = api.list_items(db, found.flt, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        progress = api.counts(db, law_id=found.flt.law_id)
        known = api.laws(db)
    pages = max(1, (listing.total + PAGE_SIZE - 1) // PAGE_SIZE)
    return {
        "filters": found,
        "page": page,
        "pages": pages,
        "listing": listing,
        "counts": progress,
        "laws": known,
        "categories_order": api.CATEGORIES,
        "statuses": api.STATUSES,
        "phases": api.PHASES,
        "formats": api.FORMATS,
        "may_import": staff_principal(request).can(Permission.LAWS_DOCUMENT_IMPORT),
    }


def _item_page(
    request: Request,
    item_id: int,
    *,
    done: str = "",
    values: dict[str, str] | None = None,
    errors: Errors | None = None,
    refusal: str = "",
    invalid: tuple[str, ...] = (),
    status_code: int = 200,
) -> Response:
    with ctx_of(request).uow() as db:
        item = api.get_item(db, item_id)
    if item is None:
        raise api.ItemNotFound(item_id)
    shown = dict(values or item_values(item))
    if refusal or errors:  # resubmitting goes on from what is stored now
        shown["expected_version"] = str(item.version)
    return render(
        request,
        "laws/item.html",
        status_code=status_code,
        item=item,
        values=shown,
        errors=errors or [],
        refusal=refusal,
        invalid=set(invalid) | {f for f, _ in errors or []},
        done=done if done in {"saved", "unchanged"} else "",
        choices=(item.status, *item.next_statuses),
        phases=api.PHASES,
        may_write=staff_principal(request).can(Permission.LAWS_REVIEW_WRITE),
        ministry_max=api.MINISTRY_MAX,
        notes_max=api.NOTES_MAX,
    )


def _draft_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    context.setdefault("text", "")
    context.setdefault("result", None)
    context.setdefault("error", None)
    return render(
        request,
        "laws/draft.html",
        status_code=status_code,
        text_max=drafts.TEXT_MAX,
        xml_max_mb=drafts.XML_MAX // (1024 * 1024),
        **context,
    )


def _draft_too_large() -> drafts.DraftError:
    mb = drafts.XML_MAX // (1024 * 1024)
    return drafts.DraftError(
        "too-large",
        f"送信できるのは、条文案{drafts.TEXT_MAX:,}文字まで、XML ファイル{mb}MBまでです。",
        f"The text is limited to {drafts.TEXT_MAX:,} characters and the XML file to {mb} MB.",
    )


async def _check_draft(request: Request) -> Response:
    if _too_big(request, drafts.XML_MAX + DRAFT_FORM_MAX):
        return _draft_page(request, 413, error=_draft_too_large())
    try:
        form = await request.form(max_part_size=DRAFT_FORM_MAX)
    except HTTPException:  # a field longer than any draft the page accepts
        return _draft_page(request, 413, error=_draft_too_large())
    text = str(form.get("text", "")).replace("\r\n", "\n")
    files = _uploads(form, "file")
    try:
        if files:
            data = await files[0].read(drafts.XML_MAX + 1)
            result = drafts.check_draft_xml(data, _base_name(files[0].filename or ""))
        else:
            result = drafts.check_draft(text)
    except drafts.DraftError as error:
        code = 413 if error.code in {"too-long", "too-large"} else 422
        return _draft_page(request, code, text=text[: drafts.TEXT_MAX * 2], error=error)
    return _draft_page(request, text=text, result=result)


def router() -> APIRouter:
    r = APIRouter(prefix=PREFIX, include_in_schema=False)

    @r.get("", dependencies=READ)
    async def overview(request: Request) -> Response:
        return render(request, "laws/index.html", **_list_context(request))

    @r.get("/report.{fmt}", dependencies=READ)
    async def download(request: Request, fmt: str) -> Response:
        if fmt not in MEDIA:
            raise NotFound(f"No {fmt} report.", ja=f"{fmt} 形式の報告はありません。")
        app = ctx_of(request)
        with app.uow() as db:
            data = api.report(db, filters_of(request).flt, fmt)  # type: ignore[arg-type]
        name = f"laws-review-{app.clock.today().strftime('%Y%m%d')}.{fmt}"
        return Response(
            data,
            media_type=MEDIA[fmt],
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @r.get("/items/{item_id}", dependencies=READ)
    async def item(request: Request, item_id: int, done: str = "") -> Response:
        return _item_page(request, item_id, done=done)

    @r.post("/items/{item_id}", dependencies=WRITE)
    async def change(request: Request, item_id: int) -> Response:
        me, lang = staff_principal(request), language(request)
        values = await form_values(request)
        parsed, errors = parse_change(values, lang)
        if parsed is None:
            return _item_page(request, item_id, values=values, errors=errors, status_code=422)
        try:
            with ctx_of(request).uow() as db:
                before = api.get_item(db, item_id)
                after = api.update_item(
                    db,
                    item_id,
                    actor=me.username,
                    expected_version=parsed.expected_version,
                    status=parsed.status or None,
                    phase=parsed.phase,
                    ministry=parsed.ministry,
                    deadline=parsed.deadline,
                    notes=parsed.notes,
                    note=parsed.note,
                    now=ctx_of(request).clock.now(),
                )
        except api.ReviewConflict as exc:
            told = message(lang, exc.message_ja, exc.message_en)
            return _item_page(request, item_id, values=values, refusal=told, status_code=409)
        except api.ReviewError as exc:
            told = message(lang, exc.message_ja, exc.message_en)
            invalid = refused_fields(exc.reason, values)
            return _item_page(request, item_id, values=values, refusal=told, invalid=invalid, status_code=422)
        done = "unchanged" if before is not None and before.version == after.version else "saved"
        return RedirectResponse(f"{PREFIX}/items/{item_id}?done={done}", status_code=303)

    @r.get("/import", dependencies=IMPORT)
    async def import_form(request: Request) -> Response:
        return render(request, "laws/import.html", results=None, error="", max_files=MAX_UPLOAD_FILES)

    @r.post("/import", dependencies=IMPORT)
    async def import_upload(request: Request) -> Response:
        app, me, lang = ctx_of(request), staff_principal(request), language(request)

        def refused(ja: str, en: str, status_code: int) -> Response:
            return render(
                request,
                "laws/import.html",
                status_code=status_code,
                results=None,
                error=message(lang, ja, en),
                max_files=MAX_UPLOAD_FILES,
            )

        if _too_big(request, MAX_UPLOAD_REQUEST):
            mb = MAX_UPLOAD_REQUEST // (1024 * 1024)
            return refused(
                f"一度に送れるのは合計{mb}MBまでです。", f"One upload is limited to {mb} MB in all.", 413
            )
        files = _uploads(await request.form(max_files=MAX_UPLOAD_FILES + 1), "files")
        if not files:
            return refused("取り込む XML ファイルを選んでください。", "Choose the XML files to import.", 422)
        if len(files) > MAX_UPLOAD_FILES:
            return refused(
                f"一度に取り込めるのは{MAX_UPLOAD_FILES}ファイルまでです。",
                f"At most {MAX_UPLOAD_FILES} files at a time.",
                413,
            )
        results: list[api.FileResult] = []
        for upload in files:
            data = await upload.read()
            with app.uow() as db:  # one transaction a file: a failure elsewhere cannot undo this one
                report = api.import_bytes(
                    db,
                    _base_name(upload.filename or ""),
                    data,
                    actor=me.username,
                    max_bytes=_max_file_bytes(request),
                    now=app.clock.now(),
                )
            results.extend(report.results)
        outcome = api.ImportReport(tuple(results))
        return render(
            request,
            "laws/import.html",
            status_code=200 if outcome.imported or outcome.unchanged else 422,
            results=outcome,
            error="",
            max_files=MAX_UPLOAD_FILES,
        )

    @r.get("/draft", dependencies=READ)
    async def draft_form(request: Request) -> Response:
        return _draft_page(request)

    @r.post("/draft", dependencies=READ)
    async def draft_check(request: Request) -> Response:
        return await _check_draft(request)

    return r
