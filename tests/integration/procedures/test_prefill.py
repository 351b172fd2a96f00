"""Pre-filling on a real database: a resident's draft of 転出届 takes name, kana, birth date and address from the
hub (each fetch is an exchange in the person's やりとり履歴) and offers the household's members."""

from __future__ import annotations

from tsunagu.linkage import api as linkage

from .conftest import Env

PREFILLED = [
    "birth_date",
    "current_address",
    "family_name",
    "family_name_kana",
    "given_name",
    "given_name_kana",
]


def test_a_draft_of_tenshutsu_is_prefilled_through_the_hub(env: Env) -> None:
    home = env.household(nhi=True)
    app_id = env.draft(home.head, "tenshutsu")
    app = env.application(app_id)
    assert app.state == "draft"
    assert app.agency == "LG-142051"
    assert app.prefilled == PREFILLED
    assert {k: app.values[k] for k in PREFILLED} == {
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "birth_date": "1980-04-01",
        "current_address": "神奈川県藤沢市本町1番2号",
    }
    members = app.facts["members"]
    assert [(m["ref"], m["given_name"], m["relationship"]) for m in members] == [
        ("1", "太郎", "head"),
        ("2", "花子", "spouse"),
        ("3", "一郎", "child"),
    ]
    assert "nhi.eligibility" in app.facts["held"]
    with env.sessions() as db:
        history = linkage.exchanges_about(db, env.pctx.keys, home.head)
    about = {h.exchange_id: h for h in history}
    assert set(app.exchanges) <= set(about)
    assert {about[x].provider for x in app.exchanges} == {"LG-142051", "NHI-142051"}
    assert {about[x].business for x in app.exchanges} == {"PROC-PREFILL-01"}


def test_what_the_hub_does_not_hold_is_left_to_be_typed(env: Env) -> None:
    home = env.household()  # no NHI copy
    app = env.application(env.draft(home.head, "tenshutsu"))
    assert "nhi.eligibility" not in app.facts["held"]
    assert "movers" not in app.prefilled
