"""The citizen's procedure pages over HTTP: catalogue and search, a pre-filled draft, validation messages, the
moving one-stop signed with the card, status, receipts, withdrawal, bereavement."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from contextlib import AbstractContextManager

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from tests.functional.conftest import NOW, SIGN_PIN, CitizenLoginFn, ClientFactory, Holder

from tsunagu.linkage import api as linkage
from tsunagu.procedures.models import Application, Bundle, Outbox

TODAY = NOW.astimezone(dt.timezone(dt.timedelta(hours=9))).date()


def _csrf(c: TestClient, path: str) -> str:
    page = c.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def _start(c: TestClient, procedure: str) -> int:
    token = _csrf(c, f"/procedures/{procedure}")
    r = c.post("/my/applications", data={"csrf_token": token, "procedure": procedure}, follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    return int(r.headers["location"].split("/")[3])


def test_catalogue_is_public_and_searchable(client: TestClient) -> None:
    page = client.get("/procedures")
    assert page.status_code == 200
    assert "引越し" in page.text
    assert "出生" in page.text
    found = client.get("/procedures", params={"q": "ひっこし"})
    assert "転出届" in found.text
    en = client.get("/procedures", params={"q": "child allowance"}, headers={"Accept-Language": "en"})
    assert "児童手当" in en.text or "Child allowance" in en.text
    assert client.get("/procedures/no-such").status_code == 404


def test_moving_one_stop_over_http(
    new_client: ClientFactory,
    citizen_session: CitizenLoginFn,
    holder: Holder,
    web_db: Callable[[], AbstractContextManager[Session]],
    web_app: FastAPI,
) -> None:
    c = new_client()
    citizen_session(c, holder.person_id)
    app_id = _start(c, "tenshutsu")
    form = c.get(f"/my/applications/{app_id}/edit")
    assert form.status_code == 200
    assert "自動入力" in form.text
    with web_db() as db:
        app = db.get(Application, app_id)
        assert app is not None
        assert {"family_name", "given_name", "birth_date", "current_address"} <= set(app.prefilled)
        exchanges = {
            e.exchange_id
            for e in linkage.exchanges_about(
                db, linkage.linkage_keys(web_app.state.ctx.settings), holder.person_id, limit=50
            )
        }
        assert set(app.exchanges) <= exchanges
        assert app.exchanges
        me_ref = next(str(m["ref"]) for m in app.facts["members"] if m["given_name"] and True)
    token = _csrf(c, f"/my/applications/{app_id}/edit")
    bad = c.post(
        f"/my/applications/{app_id}/edit",
        data={
            "csrf_token": token,
            "action": "confirm",
            "movers": me_ref,
            "destination_lg_code": "131016",
            "destination_town": "存在しない町",
            "destination_block": "1-2",
            "move_date": (TODAY + dt.timedelta(days=40)).isoformat(),
        },
    )
    assert bad.status_code == 422
    assert "この町名はありません" in bad.text
    members = app.facts["members"]
    own = next(str(m["ref"]) for m in members)
    good = {
        "csrf_token": token,
        "action": "confirm",
        "movers": [str(m["ref"]) for m in members],
        "destination_lg_code": "131016",
        "destination_town": "丸の内一丁目",
        "destination_block": "1-2",
        "move_date": (TODAY + dt.timedelta(days=7)).isoformat(),
    }
    del own
    ok = c.post(f"/my/applications/{app_id}/edit", data=good, follow_redirects=False)
    assert ok.status_code == 303, ok.text[:3000]
    confirm = c.get(f"/my/applications/{app_id}/confirm")
    assert "署名用パスワード" in confirm.text
    token = _csrf(c, f"/my/applications/{app_id}/confirm")
    wrong = c.post(
        f"/my/applications/{app_id}/submit", data={"csrf_token": token, "signature_pin": "WRONG123"}
    )
    assert wrong.status_code == 422
    done = c.post(
        f"/my/applications/{app_id}/submit",
        data={"csrf_token": token, "signature_pin": SIGN_PIN},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:3000]
    status = c.get(f"/my/applications/{app_id}")
    assert "受付済み" in status.text
    assert "転入予約" in status.text
    with web_db() as db:
        app = db.get(Application, app_id)
        assert app is not None
        assert app.bundle_id
        assert app.receipt_number
        assert app.signature
        n_apps = db.scalar(
            select(func.count()).select_from(Application).where(Application.bundle_id == app.bundle_id)
        )
        pending = db.scalar(
            select(func.count())
            .select_from(Outbox)
            .where(Outbox.bundle_id == app.bundle_id, Outbox.state != "done")
        )
        assert n_apps is not None
        assert n_apps >= 2
        assert pending == 0
        assert db.scalar(select(func.count()).select_from(Bundle).where(Bundle.id == app.bundle_id)) == 1
    receipt = c.get(f"/my/applications/{app_id}/receipt")
    assert receipt.status_code == 200
    assert receipt.text.count(".") == 2


def test_the_catalogue_api_is_public_json(client: TestClient) -> None:
    listing = client.get("/api/v1/procedures", params={"q": "ひっこし"})
    assert listing.status_code == 200
    ids = [p["id"] for p in listing.json()["items"]]
    assert "tenshutsu" in ids
    one = client.get("/api/v1/procedures/tenshutsu").json()
    assert one["assurance"] == "signature"
    assert {f["name"] for f in one["fields"] if f["prefill"] is None} == {
        "movers",
        "destination_lg_code",
        "destination_town",
        "destination_block",
        "destination_building",
        "move_date",
    }
    missing = client.get("/api/v1/procedures/no-such")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    events = client.get("/api/v1/life-events").json()["items"]
    assert {e["id"] for e in events} == {"moving", "birth", "bereavement"}
