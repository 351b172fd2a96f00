"""The public verifier page (接種証明書の検証): anyone can check a SMART Health Card without logging in.

- ``GET /verify``: the form (a file, a ``.smart-health-card`` or a QR image in PNG/JPEG, at most 2 MB; or pasted
  JWS or ``shc:/`` text);
- ``POST /verify``: the result: 有効 / 無効 with the specific reasons in Japanese and English; on a valid card only
  the name, birth date, doses (vaccine, date, lot, place) and the issuer. Nothing given is stored or logged.

Works without JavaScript (a plain multipart form)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from tsunagu.credentials.http import credentials_context_of
from tsunagu.credentials.services import shc_verification as verification
from tsunagu.kernel.access import Access
from tsunagu.web.access import guard
from tsunagu.web.context import ctx_of
from tsunagu.web.templating import render

PUBLIC = [guard(Access.public())]
PAGE = "/verify"
MAX_PASTE = 20_000


def _form(request: Request, error: str = "", status_code: int = 200) -> Response:
    return render(
        request,
        "credentials/verify.html",
        status_code=status_code,
        error=error,
        max_mb=verification.MAX_UPLOAD_BYTES // 2**20,
        iss=credentials_context_of(request).iss,
    )


async def _file_bytes(upload: UploadFile) -> bytes | None:
    """The upload's bytes, or None when it is larger than the cap."""
    data = await upload.read(verification.MAX_UPLOAD_BYTES + 1)
    return None if len(data) > verification.MAX_UPLOAD_BYTES else data


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get(PAGE, dependencies=PUBLIC)
    async def verify_form(request: Request) -> Response:
        return _form(request)

    @r.post(PAGE, dependencies=PUBLIC)
    async def verify_card(request: Request) -> Response:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > verification.MAX_UPLOAD_BYTES + 64 * 1024:
            return _form(request, "too_large", 413)
        form = await request.form(max_part_size=MAX_PASTE * 4)
        upload = form.get("file")
        pasted = str(form.get("text", "")).strip()
        data: bytes | str
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await _file_bytes(upload)
            if raw is None:
                return _form(request, "too_large", 413)
            data = verification.read_input(raw)
        elif pasted:
            if len(pasted) > MAX_PASTE:
                return _form(request, "too_large", 413)
            data = pasted.replace("\r\n", "\n")
        else:
            return _form(request, "empty", 422)
        cctx = credentials_context_of(request)
        with ctx_of(request).uow() as db:
            outcomes = verification.check(db, cctx, data)
        return render(request, "credentials/verify_result.html", outcomes=outcomes)

    return r
