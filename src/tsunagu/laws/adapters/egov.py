"""A client of the e-Gov 法令API Version 2 (``https://laws.e-gov.go.jp/api/2``) that keeps the law XML it fetches in a
file cache, one file per revision.

What the API is, from its OpenAPI document (``/api/2/swagger-ui/lawapi-v2.yaml``, v2.1.138) and from what others
measured against it (okamyuji/egov-law-sync ``docs/measurements.md``, 2026-09-11; ouchinao/zeibun
``docs/egov-law-api-v2.md``, 2026-09-23); none of it was checked from here, which has no internet:

- ``GET /law_revisions/{law_id_or_num}`` → ``{"law_info": {...}, "revisions": [revision_info, ...]}``, the newest
  ``law_revision_id`` first. A revision has ``law_revision_id`` (``{LawId}_{YYYYMMDD}_{amending LawId}``, the date
  being the enforcement date), ``law_title``, ``amendment_enforcement_date``, ``current_revision_status``
  (``CurrentEnforced``, ``UnEnforced``, ``PreviousEnforced``, ``Repeal``) and ``updated`` (when its data was last
  corrected, 正誤等による更新日時). An unknown law answers 404.
- ``GET /law_file/xml/{law_id_or_num_or_revision_id}[?asof=YYYY-MM-DD]`` → the bare ``<Law>`` document
  (``application/octet-stream``, not compressed; the largest laws are about 17 MB). ``asof`` is ignored when a
  revision ID is given.
- Errors are ``{"code": "400004", "message": "日付（asof等）が誤っています。"}`` with status 400 or 500 (a missing
  attachment answers 400 with code ``404003``).
- No ETag or Last-Modified (``cache-control: no-store``): a conditional request cannot tell whether a law changed, so
  the latest version is found through the revision list (about 10 KB), and the file is fetched only when that
  revision is not in the cache yet, or its ``updated`` moved (a correction).

Cache: ``{cache}/{revision_id}.xml`` with ``{cache}/{revision_id}.json`` beside it (SHA-256 of the file, the
revision's ``updated``, title, when fetched). Both are written to a temporary file and renamed, the XML first; a file
without its record, or whose bytes do not match the record, is fetched again. A body is cached only after
:func:`~tsunagu.laws.core.xmlparse.parse_law` read it as a law, so an error page is never cached.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from tsunagu import __version__
from tsunagu.laws.adapters.egov_model import (
    EgovApiError,
    EgovBadResponse,
    EgovError,
    EgovUnavailable,
    Fetched,
    InvalidLawId,
    LawNotFound,
    Revision,
    parse_id,
    revision_from_json,
    select_revision,
)
from tsunagu.laws.core.model import LawXmlError
from tsunagu.laws.core.xmlparse import parse_law

DEFAULT_BASE_URL = "https://laws.e-gov.go.jp/api/2"
DEFAULT_TIMEOUT = 60.0  # seconds per request; the biggest law is ~17 MB uncompressed
MAX_XML_BYTES = 64 * 1024 * 1024  # 4 × the biggest law the API serves
RETRY_STATUSES = frozenset({429, 503})

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "EgovApiError",
    "EgovBadResponse",
    "EgovError",
    "EgovLawClient",
    "EgovUnavailable",
    "Fetched",
    "InvalidLawId",
    "LawNotFound",
    "Revision",
    "default_cache_dir",
    "parse_id",
    "select_revision",
    "write_atomic",
]


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "tsunagu" / "laws"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename: a reader sees the old
    file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: httpx.Headers
    body: bytes


class EgovLawClient:
    """The e-Gov law API v2 with a file cache. ``transport`` replaces the network (tests pass an
    ``httpx.MockTransport``); ``sleep`` is what waits between retries (tests pass one that only records)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        cache_dir: Path | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 3,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        max_bytes: int = MAX_XML_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.cache_dir = cache_dir or default_cache_dir()
        self.retries = retries
        self.max_wait = max_wait
        self.sleep = sleep
        self.max_bytes = max_bytes
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": f"tsunagu/{__version__} (law review; +https://laws.e-gov.go.jp/api/2)"},
            follow_redirects=True,
        )

    def __enter__(self) -> EgovLawClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- the API --------------------------------------------------------------------------------------------

    def revisions(self, law_id: str) -> list[Revision]:
        """Every version of a law the API lists, newest first (``/law_revisions/{law_id}``)."""
        law_id, revision_id = parse_id(law_id)
        if revision_id is not None:
            raise InvalidLawId(
                f"{revision_id} is a revision ID; give the law ID", ja="法令IDを指定してください"
            )
        answer = self._get(f"/law_revisions/{law_id}", {"response_format": "json"}, what=law_id)
        try:
            data = json.loads(answer.body)
            rows = data["revisions"]
            if not isinstance(rows, list):
                raise TypeError("revisions is not a list")
            return [revision_from_json(law_id, row) for row in rows]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _bad(f"/law_revisions/{law_id}", f"not the documented JSON ({exc})") from exc

    def law_xml(self, law_id_or_revision_id: str, *, asof: dt.date | None = None) -> bytes:
        """The law XML of a revision, or of a law's current version (or the one in force on ``asof``)."""
        return self.fetch(law_id_or_revision_id, asof=asof).path.read_bytes()

    def fetch(self, law_id_or_revision_id: str, *, asof: dt.date | None = None) -> Fetched:
        """Make sure the XML is in the cache and say where. A revision ID already cached makes no request; a law ID
        asks the revision list which revision is meant (one small request) and downloads only a revision not
        cached yet or corrected since (its ``updated`` moved)."""
        law_id, revision_id = parse_id(law_id_or_revision_id)
        if (
            revision_id is not None
        ):  # a revision's text is fixed: asof would not change it (the API ignores it too)
            return self._cached(revision_id) or self._download(law_id, revision_id, "")
        chosen = select_revision(self.revisions(law_id), asof)
        if chosen is None:
            when = f" on {asof.isoformat()}" if asof else ""
            raise LawNotFound(
                f"{law_id}: the e-Gov law API lists no version in force{when} (its history starts around 2017)",
                ja=f"{law_id}: e-Gov 法令API に{asof.isoformat() + ' 時点で' if asof else ''}施行中の版がありません"
                "（履歴は2017年頃以降のみ）",
                law_id=law_id,
            )
        hit = self._cached(chosen.law_revision_id, updated=chosen.updated)
        return hit or self._download(law_id, chosen.law_revision_id, chosen.updated)

    # -- the cache ------------------------------------------------------------------------------------------

    def xml_path(self, revision_id: str) -> Path:
        return self.cache_dir / f"{revision_id}.xml"

    def _record_path(self, revision_id: str) -> Path:
        return self.cache_dir / f"{revision_id}.json"

    def _cached(self, revision_id: str, *, updated: str | None = None) -> Fetched | None:
        try:
            record = json.loads(self._record_path(revision_id).read_text(encoding="utf-8"))
            data = self.xml_path(revision_id).read_bytes()
        except (OSError, ValueError):
            return None
        digest = hashlib.sha256(data).hexdigest()
        if not isinstance(record, dict) or record.get("sha256") != digest:
            return None
        if updated is not None and record.get("updated") != updated:
            return (
                None  # corrected since it was fetched (or fetched by revision ID, when updated is not known)
            )
        return Fetched(
            law_id=revision_id.split("_", maxsplit=1)[0],
            revision_id=revision_id,
            title=str(record.get("title", "")),
            path=self.xml_path(revision_id),
            size=len(data),
            sha256=digest,
            from_cache=True,
        )

    def _download(self, law_id: str, revision_id: str, updated: str) -> Fetched:
        path = f"/law_file/xml/{revision_id}"
        answer = self._get(path, None, what=revision_id)
        try:
            law = parse_law(answer.body, name=f"{revision_id}.xml")
        except LawXmlError as exc:
            raise _bad(
                path, f"not a law XML: line {exc.line}, column {exc.column}: {exc.message_en}"
            ) from exc
        digest = hashlib.sha256(answer.body).hexdigest()
        write_atomic(self.xml_path(revision_id), answer.body)
        record = {
            "law_id": law_id,
            "revision_id": revision_id,
            "title": law.title,
            "sha256": digest,
            "bytes": len(answer.body),
            "updated": updated,
            "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "source": f"{self.base_url}{path}",
        }
        write_atomic(
            self._record_path(revision_id), json.dumps(record, ensure_ascii=False, indent=1).encode()
        )
        return Fetched(
            law_id, revision_id, law.title, self.xml_path(revision_id), len(answer.body), digest, False
        )

    # -- HTTP -----------------------------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, str] | None, *, what: str) -> _Answer:
        """GET with bounded retries on 429/503 (honouring Retry-After up to ``max_wait``); an error status becomes
        the matching :class:`EgovError`."""
        attempt = 0
        while True:
            answer = self._send(path, params)
            if answer.status in RETRY_STATUSES and attempt < self.retries:
                wait = _retry_after(answer.headers, default=float(2**attempt))
                if wait <= self.max_wait:
                    self.sleep(wait)
                    attempt += 1
                    continue
            if answer.status == 200:
                return answer
            raise _error(answer, path, what, attempts=attempt + 1)

    def _send(self, path: str, params: dict[str, str] | None) -> _Answer:
        try:
            with self._http.stream("GET", path, params=params) as response:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _bad(path, f"the answer is larger than {self.max_bytes:,} bytes")
                    chunks.append(chunk)
                return _Answer(response.status_code, response.headers, b"".join(chunks))
        except httpx.TimeoutException as exc:
            raise _unavailable(f"timed out after {self._http.timeout.read} s: {self.base_url}{path}") from exc
        except httpx.TransportError as exc:
            raise _unavailable(f"{type(exc).__name__}: {exc or 'no answer'} ({self.base_url}{path})") from exc


def _retry_after(headers: httpx.Headers, *, default: float) -> float:
    """Seconds to wait from ``Retry-After`` (delta-seconds or an HTTP date), else ``default``."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return default
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _api_message(body: bytes) -> tuple[str, str]:
    """The API's error ``(code, message)``, or empty strings when the body is not its error JSON."""
    try:
        data = json.loads(body)
    except ValueError:
        return "", ""
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("code") or ""), str(data.get("message") or "")


def _error(answer: _Answer, path: str, what: str, *, attempts: int) -> EgovError:
    code, message = _api_message(answer.body)
    said = f" ({code}: {message})" if code or message else ""
    if answer.status == 404 or code.startswith("404"):
        return LawNotFound(
            f"{what}: no such law or revision in the e-Gov law API{said}",
            ja=f"{what}: e-Gov 法令API にその法令・版はありません{said}",
            law_id=what,
        )
    busy = answer.status in RETRY_STATUSES
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    return EgovApiError(
        f"the e-Gov law API answered {answer.status}{said}{tried} for {path}"
        + ("; it is busy: try again later" if busy else ""),
        ja=f"e-Gov 法令API がエラー {answer.status} を返しました{said}"
        + ("。混雑しています。時間をおいて再度お試しください" if busy else ""),
        http_status=answer.status,
        api_code=code,
        api_message=message,
    )


def _unavailable(reason: str) -> EgovUnavailable:
    return EgovUnavailable(
        f"cannot connect to the e-Gov law API ({reason})",
        ja=f"e-Gov 法令API に接続できません ({reason})",
    )


def _bad(path: str, reason: str) -> EgovBadResponse:
    return EgovBadResponse(
        f"the e-Gov law API gave an unexpected answer for {path}: {reason}; nothing was cached",
        ja=f"e-Gov 法令API の応答が想定外です ({path}: {reason})。キャッシュしていません",
    )
