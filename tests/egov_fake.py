"""A stand-in for the e-Gov 法令API Version 2 serving real law XML files, for the client's tests: the same answers
through an ``httpx.MockTransport`` (:meth:`FakeEgov.handler`) or over loopback HTTP (:meth:`FakeEgov.serve`).

Like the API (lawapi-v2.yaml v2.1.138): ``/law_revisions/{law_id}`` answers ``{"law_info", "revisions"}`` newest
``law_revision_id`` first; ``/law_file/xml/{revision_id or law_id}`` the bare ``<Law>`` document as
``application/octet-stream``; an unknown law 404 with ``{"code", "message"}``. A file's ``Law@Status`` gives the
revision's ``current_revision_status``; a law whose files carry none has its newest file ``CurrentEnforced``.
``queue`` holds scripted answers served before the normal ones (errors, 429 with Retry-After, a broken body);
``requests`` records every request as ``"GET /path?query"`` (without the ``/api/2`` prefix)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx

PREFIX = "/api/2"
UPDATED = "2024-06-07T09:15:59+09:00"
STATUS = re.compile(rb'\bStatus="(\w+)"')
TITLE = re.compile(rb"<LawTitle[^>]*>(.*?)</LawTitle>", re.DOTALL)
Answer = tuple[int, dict[str, str], bytes]


def error_json(status: int, code: str, message: str) -> Answer:
    body = json.dumps({"code": code, "message": message}, ensure_ascii=False).encode()
    return status, {"content-type": "application/json"}, body


class FakeEgov:
    def __init__(self, folders: Sequence[Path]) -> None:
        self.files = {f.stem: f for folder in folders for f in sorted(folder.glob("*.xml"))}
        self.updated: dict[str, str] = {}  # revision ID → its "updated" (a correction moves it)
        self.bodies: dict[str, bytes] = {}  # revision ID → a body served instead of the file
        self.queue: list[Answer] = []
        self.requests: list[str] = []
        self._lock = threading.Lock()

    def revision_ids(self, law_id: str) -> list[str]:
        return sorted((r for r in self.files if r.startswith(f"{law_id}_")), reverse=True)

    def _status(self, law_id: str, revision_id: str) -> str:
        found = STATUS.search(self.files[revision_id].read_bytes()[:4000])
        if found:
            return found.group(1).decode()
        return "CurrentEnforced" if revision_id == self.revision_ids(law_id)[0] else "PreviousEnforced"

    def _revision(self, law_id: str, revision_id: str) -> dict[str, object]:
        date = revision_id.split("_")[1]
        amend = revision_id.split("_")[2]
        title = TITLE.search(self.files[revision_id].read_bytes())
        return {
            "law_revision_id": revision_id,
            "law_type": "Act",
            "law_title": title.group(1).decode() if title else "",
            "updated": self.updated.get(revision_id, UPDATED),
            "amendment_enforcement_date": f"{date[:4]}-{date[4:6]}-{date[6:]}",
            "amendment_law_id": None if set(amend) == {"0"} else amend,
            "amendment_type": "3",
            "repeal_status": "None",
            "mission": "New",
            "current_revision_status": self._status(law_id, revision_id),
        }

    def _law_file(self, ident: str) -> Answer:
        if ident not in self.files:
            current = [r for r in self.revision_ids(ident) if self._status(ident, r) == "CurrentEnforced"]
            if not current:
                return error_json(404, "404001", "指定された法令が存在しません。")
            ident = current[0]
        body = self.bodies.get(ident) or self.files[ident].read_bytes()
        headers = {
            "content-type": "application/octet-stream",
            "content-disposition": f'attachment; filename="{ident}.xml"',
        }
        return 200, headers, body

    def answer(self, path: str, query: str) -> Answer:
        with self._lock:
            self.requests.append(f"GET {path.removeprefix(PREFIX)}" + (f"?{query}" if query else ""))
            if self.queue:
                return self.queue.pop(0)
        route = path.removeprefix(PREFIX).strip("/").split("/")
        if len(route) == 2 and route[0] == "law_revisions":
            ids = self.revision_ids(route[1])
            if not ids:
                return error_json(404, "404001", "指定された法令が存在しません。")
            data = {"law_info": {"law_id": route[1]}, "revisions": [self._revision(route[1], r) for r in ids]}
            return 200, {"content-type": "application/json"}, json.dumps(data, ensure_ascii=False).encode()
        if len(route) == 3 and route[:2] == ["law_file", "xml"]:
            return self._law_file(route[2])
        return error_json(404, "404000", "Not Found")

    def handler(self, request: httpx.Request) -> httpx.Response:
        status, headers, body = self.answer(request.url.path, request.url.query.decode())
        return httpx.Response(status, headers=headers, content=body)

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve over HTTP on 127.0.0.1 (a free port); yields the base URL (``http://127.0.0.1:PORT/api/2``)."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                status, headers, body = fake.answer(url.path, url.query)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                del format, args

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
