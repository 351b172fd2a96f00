"""The back office over HTTP: each office sees its own queue, review → correction request (a reason is required and
reaches the applicant as an お知らせ), approve → complete, reject with a reason, CSRF, the one-stops' dead letters
with their retry, and the service figures."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tsunagu.identity import services as identity
from tsunagu.identity.core.roles import Role
from tsunagu.linkage import api as linkage
from tsunagu.procedures.models import Application, Bundle, Outbox
from tsunagu.procedures.services import applications as apps
from tsunagu.procedures.services import metrics as service_metrics
from tsunagu.procedures.services import outbox

from .conftest import NOW, ClientFactory, LoginFn

HOME = "LG-142051"  # the demo municipality: clerk and counter work it
OTHER = "LG-131016"  # 千代田区: the demo staff member "chiyoda" works it
RISAI = "risai-shomeisho"  # 罹災証明書: submitted → in_review → correction/approved → completed, or rejected
VALUES = {
    "family_name": "試験",
    "given_name": "太郎",
    "disaster_date": "2026-11-20",
    "disaster_kind": "flood",
    "damage_description": "床上浸水",
    "phone": "0466-00-0000",
}


def _file(web_app: FastAPI, subject: int, agency: str = HOME, channel: str = "online") -> int:
    """A submitted application, as the citizen pages would leave it (two fields pre-filled by the hub)."""
    ctx = web_app.state.ctx
    pctx = ctx.extras["procedures"]
    procedure = apps.procedure_of(RISAI)
    with ctx.uow() as db:
        app = apps.new_application(
            db,
            pctx,
            procedure,
            agency=agency,
            subject_id=subject,
            applicant_id=subject,
            filed_by_id=subject,
            values=VALUES,
            facts={},
            prefilled=["family_name", "given_name"],
            exchanges=[],
            channel=channel,
        )
        apps.finish_submission(db, pctx, app, procedure, f"person:{subject}")
        return int(app.id)


def _state(web_app: FastAPI, app_id: int) -> str:
    with web_app.state.ctx.uow() as db:
        app = db.get(Application, app_id)
        assert app is not None
        return app.state


def _post(c: TestClient, csrf: Callable[[TestClient], str], path: str, **data: str) -> httpx.Response:
    return c.post(path, data={"csrf_token": csrf(c), **data}, follow_redirects=False)


@pytest.fixture
def chiyoda(new_client: ClientFactory, login: LoginFn) -> TestClient:
    c = new_client()
    assert login(c, "chiyoda", "demo-chiyoda-pass").status_code == 303
    return c


def test_the_queue_shows_only_the_offices_the_staff_member_works(
    web_app: FastAPI, pick_resident: Callable[..., int], counter: TestClient, chiyoda: TestClient
) -> None:
    mine = _file(web_app, pick_resident())
    theirs = _file(web_app, pick_resident(), agency=OTHER)
    page = counter.get("/staff/procedures")
    assert page.status_code == 200
    assert f'href="/staff/procedures/{mine}"' in page.text
    assert f'href="/staff/procedures/{theirs}"' not in page.text
    assert "罹災証明書" in page.text
    assert "オンライン" in page.text
    assert '<th scope="col" role="columnheader">受付番号</th>' in page.text
    other = chiyoda.get("/staff/procedures")
    assert f'href="/staff/procedures/{theirs}"' in other.text
    assert f'href="/staff/procedures/{mine}"' not in other.text
    assert chiyoda.get(f"/staff/procedures/{mine}").status_code == 403
    assert chiyoda.get(f"/staff/procedures/{theirs}").status_code == 200
    assert counter.get("/staff/procedures?office=LG-131016").status_code == 403
    filtered = counter.get(f"/staff/procedures?state=approved&procedure={RISAI}")
    assert f'href="/staff/procedures/{mine}"' not in filtered.text
    english = counter.get("/staff/procedures", headers={"Accept-Language": "en"})
    assert "Receipt number" in english.text


def test_several_offices_get_a_switcher_and_no_office_gets_a_message(
    web_app: FastAPI, clerk: TestClient, new_client: ClientFactory, login: LoginFn
) -> None:
    page = clerk.get("/staff/procedures")
    assert '<select id="office" name="office">' in page.text
    assert 'value="NHI-142051"' in page.text
    name = f"noofc{uuid.uuid4().hex[:6]}"
    with web_app.state.ctx.uow() as db:
        identity.create_staff(db, name, "窓口 未配属 (test)", "no-office-pass-123", [Role.COUNTER_STAFF])
    c = new_client()
    assert login(c, name, "no-office-pass-123").status_code == 303
    lonely = c.get("/staff/procedures")
    assert lonely.status_code == 200
    assert "担当する窓口がありません" in lonely.text


def test_staff_without_the_permission_are_refused(new_client: ClientFactory, login: LoginFn) -> None:
    c = new_client()
    assert login(c, "statistician", "demo-statistician-pass").status_code == 303
    assert c.get("/staff/procedures").status_code == 403
    assert c.get("/staff/procedures/outbox").status_code == 403
    assert c.get("/staff/procedures/metrics").status_code == 200
    anonymous = new_client()
    assert anonymous.get("/staff/procedures", follow_redirects=False).status_code in (303, 401)


def test_review_then_a_correction_request_needs_a_reason_and_notifies_the_applicant(
    web_app: FastAPI,
    pick_resident: Callable[..., int],
    counter: TestClient,
    csrf: Callable[[TestClient], str],
) -> None:
    person = pick_resident()
    app_id = _file(web_app, person)
    detail = counter.get(f"/staff/procedures/{app_id}")
    assert detail.status_code == 200
    assert "行政機関から取得（自動入力）" in detail.text
    assert "ログインのみ" in detail.text
    assert "災害対策基本法" in detail.text
    assert f'action="/staff/procedures/{app_id}/review"' in detail.text
    reviewed = _post(counter, csrf, f"/staff/procedures/{app_id}/review")
    assert reviewed.status_code == 303
    assert _state(web_app, app_id) == "in_review"
    again = _post(counter, csrf, f"/staff/procedures/{app_id}/review")  # the same form sent twice
    assert again.status_code == 303
    refused = counter.post(
        f"/staff/procedures/{app_id}/correction", data={"csrf_token": csrf(counter), "reason": "  "}
    )
    assert refused.status_code == 422
    assert "理由を入力してください" in refused.text
    assert 'id="reason-correction"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert _state(web_app, app_id) == "in_review"
    done = counter.post(
        f"/staff/procedures/{app_id}/correction",
        data={"csrf_token": csrf(counter), "reason": "被害の写真を添付してください。"},
    )
    assert done.status_code == 200
    assert "補正を依頼しました" in done.text
    assert "被害の写真を添付してください。" in done.text  # in the history
    assert _state(web_app, app_id) == "correction_requested"
    ctx = web_app.state.ctx
    with ctx.uow() as db:
        notices = linkage.inbox(db, ctx.extras["procedures"].keys, person)
    assert any("補正" in n.title_ja and "被害の写真" in n.body_ja for n in notices)


def test_approve_then_complete_and_reject_needs_a_reason(
    web_app: FastAPI,
    pick_resident: Callable[..., int],
    counter: TestClient,
    csrf: Callable[[TestClient], str],
) -> None:
    app_id = _file(web_app, pick_resident())
    assert _post(counter, csrf, f"/staff/procedures/{app_id}/approve").status_code == 303
    assert _state(web_app, app_id) == "approved"
    page = counter.get(f"/staff/procedures/{app_id}?done=approve").text
    assert "承認しました" in page
    assert f'action="/staff/procedures/{app_id}/reject"' not in page  # approved cannot be rejected
    assert _post(counter, csrf, f"/staff/procedures/{app_id}/complete").status_code == 303
    assert _state(web_app, app_id) == "completed"
    closed = counter.get(f"/staff/procedures/{app_id}").text
    assert "できる処理はありません" in closed

    other = _file(web_app, pick_resident())
    refused = counter.post(f"/staff/procedures/{other}/reject", data={"csrf_token": csrf(counter)})
    assert refused.status_code == 422
    assert "理由を入力してください" in refused.text
    assert _state(web_app, other) == "submitted"
    rejected = _post(counter, csrf, f"/staff/procedures/{other}/reject", reason="対象の災害ではありません。")
    assert rejected.status_code == 303
    assert _state(web_app, other) == "rejected"


def test_an_action_without_the_csrf_token_is_refused(
    web_app: FastAPI, pick_resident: Callable[..., int], counter: TestClient
) -> None:
    app_id = _file(web_app, pick_resident())
    response = counter.post(f"/staff/procedures/{app_id}/approve", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert _state(web_app, app_id) == "submitted"


def test_a_dead_letter_is_listed_and_retry_puts_it_back_to_pending(
    web_app: FastAPI, pick_resident: Callable[..., int], clerk: TestClient, csrf: Callable[[TestClient], str]
) -> None:
    person = pick_resident()
    now = NOW.astimezone(dt.UTC)
    with web_app.state.ctx.uow() as db:
        bundle = Bundle(
            id=str(uuid.uuid4()),
            event="moving",
            applicant_person_id=person,
            filed_by_person_id=person,
            state="open",
            inputs={},
            facts={},
            idempotency_key=f"test-dead-{uuid.uuid4()}",
            created_at=now,
        )
        db.add(bundle)
        db.flush()
        row = Outbox(
            bundle_id=bundle.id,
            key="kokuho-shutoku:destination:1",
            payload={"procedure": "kokuho-shutoku", "agency": HOME},
            state="dead",
            attempts=outbox.MAX_ATTEMPTS,
            next_attempt_at=now,
            last_error="ProviderUnavailable: the agency did not answer",
            created_at=now,
        )
        db.add(row)
        db.flush()
        row_id = row.id
        pending_before = outbox.pending_count(db)
    page = clerk.get("/staff/procedures/outbox")
    assert page.status_code == 200
    assert f'action="/staff/procedures/outbox/{row_id}/retry"' in page.text
    assert "ProviderUnavailable" in page.text
    retried = clerk.post(
        f"/staff/procedures/outbox/{row_id}/retry", data={"csrf_token": csrf(clerk)}, follow_redirects=True
    )
    assert retried.status_code == 200
    assert "再試行の待ち行列に戻しました" in retried.text
    assert f'action="/staff/procedures/outbox/{row_id}/retry"' not in retried.text
    with web_app.state.ctx.uow() as db:
        back = db.get(Outbox, row_id)
        assert back is not None
        assert back.state == "pending"
        assert back.attempts == 0
        assert outbox.pending_count(db) == pending_before + 1
        back.state = "done"  # leave no pending row for other tests' workers


def test_the_metrics_page_shows_figures_for_submitted_applications(
    web_app: FastAPI, pick_resident: Callable[..., int], new_client: ClientFactory, login: LoginFn
) -> None:
    _file(web_app, pick_resident(), channel="counter")
    with web_app.state.ctx.uow() as db:
        figures = {m.procedure_id: m for m in service_metrics.metrics(db)}
    risai = figures[RISAI]
    assert risai.submitted >= 1
    assert risai.prefill_ratio is not None
    assert 0 < risai.prefill_ratio < 1
    assert risai.online_rate is not None
    assert risai.online_rate < 1
    assert risai.as_dict()["time_to_submit"]["median_seconds"] == 0.0
    c = new_client()
    assert login(c, "statistician", "demo-statistician-pass").status_code == 303
    page = c.get("/staff/procedures/metrics")
    assert page.status_code == 200
    row = re.search(rf'<tr role="row" id="metrics-{RISAI}">(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert "罹災証明書" in row.group(1)
    assert f">{risai.submitted:,}<" in row.group(1)
    assert "%" in row.group(1)


def test_the_detail_lists_the_one_stop_siblings(
    web_app: FastAPI, pick_resident: Callable[..., int], counter: TestClient
) -> None:
    app_id = _file(web_app, pick_resident())
    sibling = _file(web_app, pick_resident())
    with web_app.state.ctx.uow() as db:
        first = db.get(Application, app_id)
        assert first is not None
        bundle = Bundle(
            id=str(uuid.uuid4()),
            event="birth",
            applicant_person_id=first.applicant_person_id,
            filed_by_person_id=first.applicant_person_id,
            state="open",
            inputs={},
            facts={},
            idempotency_key=f"test-siblings-{uuid.uuid4()}",
            created_at=NOW,
        )
        db.add(bundle)
        db.flush()
        for i, a in enumerate(db.scalars(select(Application).where(Application.id.in_([app_id, sibling])))):
            a.bundle_id, a.bundle_key = bundle.id, f"test:{i}"
    page = counter.get(f"/staff/procedures/{app_id}").text
    assert "ワンストップ" in page
    assert "出生" in page
    assert f'href="/staff/procedures/{sibling}"' in page
