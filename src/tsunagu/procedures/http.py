"""The procedure catalogue as a public JSON API (``/api/v1/procedures``): what each procedure asks, on which legal
basis, which fields the government fills in, and the life-event one-stops. Public: it holds no personal data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tsunagu.kernel.access import Access
from tsunagu.kernel.errors import NotFound
from tsunagu.procedures.core.catalogue import FieldSpec, Procedure
from tsunagu.procedures.sources import catalogue, life_events
from tsunagu.web.access import guard

PUBLIC = [guard(Access.public())]


class FieldOut(BaseModel):
    name: str
    type: str
    label_ja: str
    label_en: str
    required: bool
    prefill: str | None = Field(
        None, description="where the government holds the value: a hub data item and a key path"
    )
    choices: list[str] = Field(default_factory=list)


class ProcedureOut(BaseModel):
    id: str
    name_ja: str
    name_en: str
    kind_ja: str
    kind_en: str
    agency_type: str
    office_ja: str
    office_en: str
    law_ja: str
    article_ja: str
    applicants: list[str]
    assurance: str = Field(description="login (a card login) or signature (署名用電子証明書)")
    fee_yen: int
    processing_days: int = Field(description="標準処理期間 in calendar days")
    attachments: str
    workflow: list[str]
    life_events: list[str]
    online: bool
    prefill_ratio: float = Field(description="pre-filled fields / all fields")
    fields: list[FieldOut]


class ProcedureList(BaseModel):
    items: list[ProcedureOut]


class LifeEventRuleOut(BaseModel):
    procedure: str
    end: str
    per: str
    primary: bool


class LifeEventOut(BaseModel):
    id: str
    name_ja: str
    name_en: str
    procedures: list[LifeEventRuleOut]


class LifeEventList(BaseModel):
    items: list[LifeEventOut]


def _field(f: FieldSpec) -> FieldOut:
    return FieldOut(
        name=f.name,
        type=f.type.value,
        label_ja=f.label_ja,
        label_en=f.label_en,
        required=f.required,
        prefill=f.prefill,
        choices=[c.value for c in f.choices],
    )


def _procedure(p: Procedure) -> ProcedureOut:
    return ProcedureOut(
        id=p.id,
        name_ja=p.name_ja,
        name_en=p.name_en,
        kind_ja=p.kind_ja,
        kind_en=p.kind_en,
        agency_type=p.agency_type,
        office_ja=p.office_ja,
        office_en=p.office_en,
        law_ja=p.legal_basis.law_ja,
        article_ja=p.legal_basis.article_ja,
        applicants=[a.value for a in p.applicants],
        assurance=p.assurance.value,
        fee_yen=p.fee_yen,
        processing_days=p.processing_days,
        attachments=p.attachments.value,
        workflow=[s.value for s in p.workflow],
        life_events=list(p.life_events),
        online=p.online,
        prefill_ratio=round(len(p.prefilled_fields) / len(p.fields), 3),
        fields=[_field(f) for f in p.fields],
    )


def router() -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["procedures"])

    @r.get("/procedures", response_model=ProcedureList, dependencies=PUBLIC)
    async def list_procedures(
        q: Annotated[str, Query(max_length=100)] = "", life_event: Annotated[str, Query(max_length=20)] = ""
    ) -> ProcedureList:
        """The catalogue; ``q`` searches names, help and keywords (ja/en, hiragana = katakana)."""
        found = catalogue().by_life_event(life_event) if life_event else catalogue().search(q)
        return ProcedureList(items=[_procedure(p) for p in found])

    @r.get("/procedures/{procedure_id}", response_model=ProcedureOut, dependencies=PUBLIC)
    async def get_procedure(procedure_id: str) -> ProcedureOut:
        found = catalogue().get(procedure_id)
        if found is None:
            raise NotFound("No such procedure.", ja="該当する手続はありません。")
        return _procedure(found)

    @r.get("/life-events", response_model=LifeEventList, dependencies=PUBLIC)
    async def list_life_events() -> LifeEventList:
        """The one-stops: which procedures each life event files, at which end, for whom."""
        return LifeEventList(
            items=[
                LifeEventOut(
                    id=e.id,
                    name_ja=e.name_ja,
                    name_en=e.name_en,
                    procedures=[
                        LifeEventRuleOut(
                            procedure=x.procedure, end=x.end.value, per=x.per.value, primary=x.primary
                        )
                        for x in e.rules
                    ],
                )
                for e in life_events().values()
            ]
        )

    return r
