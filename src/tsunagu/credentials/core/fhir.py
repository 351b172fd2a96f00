"""FHIR R4 bundles for SMART Health Cards (Patient + Immunization), minimised as the spec requires, and the
structural checks the verifier applies to a received bundle.

Minimisation (spec.smarthealth.cards, "Health Cards are small"): no ``Resource.id``, no ``meta`` except
``meta.security``, no ``DomainResource.text``, no ``CodeableConcept.text``, no ``Coding.display``; entries carry
``fullUrl`` ``resource:N`` and references point at ``resource:N``.

Two layers of checks: the SHC profile rules written here (minimisation, ``resource:N`` references, completed
immunizations: a generic FHIR model does not know them), then every resource is validated against its FHIR model with
``fhir.resources`` (types, cardinalities, required elements, unknown elements). The models are ``fhir.resources``'
R4B package: its R4 release (6.4.0) needs pydantic 1, which the project's pydantic 2 excludes, and Patient,
Immunization and the elements health cards use are the same in R4 and R4B.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.types import DateTimeType, DateType, StringType
from pydantic import TypeAdapter, ValidationError

CVX_SYSTEM = "http://hl7.org/fhir/sid/cvx"
PASSPORT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
NATIONALITY_EXTENSION = "http://hl7.org/fhir/StructureDefinition/patient-nationality"
ISO_COUNTRY_SYSTEM = "urn:iso:std:iso:3166"
PASSPORT_SYSTEM_PREFIX = "urn:iso:std:iso:3166:passport:"
_RESOURCE_REF = re.compile(r"resource:(0|[1-9][0-9]*)")


@dataclass(frozen=True)
class Dose:
    """One administered dose (接種): CVX vaccine code, date, manufacturer, lot (製造番号) and who gave it."""

    cvx: str
    on: date
    lot: str = ""
    manufacturer: str = ""
    performer: str = ""


@dataclass(frozen=True)
class Passport:
    """Overseas variant (海外用): passport number and nationality (ISO 3166 alpha-3, e.g. ``JPN``)."""

    number: str
    nationality: str


@dataclass(frozen=True)
class Vaccinee:
    family: str
    given: tuple[str, ...]
    birth_date: date
    doses: tuple[Dose, ...] = field(default_factory=tuple)
    passport: Passport | None = None


def _patient(person: Vaccinee) -> dict[str, Any]:
    """The passport number is a ``Patient.identifier`` typed ``PPN`` (v2-0203) whose system names the issuing
    country; the nationality is the standard ``patient-nationality`` extension with an ISO 3166 code (an
    extension, not an identifier: nationality does not identify the person)."""
    patient: dict[str, Any] = {"resourceType": "Patient"}
    if person.passport is not None:
        nat = person.passport.nationality
        patient["extension"] = [
            {
                "url": NATIONALITY_EXTENSION,
                "extension": [
                    {
                        "url": "code",
                        "valueCodeableConcept": {"coding": [{"system": ISO_COUNTRY_SYSTEM, "code": nat}]},
                    }
                ],
            }
        ]
        patient["identifier"] = [
            {
                "type": {"coding": [{"system": PASSPORT_TYPE_SYSTEM, "code": "PPN"}]},
                "system": PASSPORT_SYSTEM_PREFIX + nat,
                "value": person.passport.number,
            }
        ]
    patient["name"] = [{"family": person.family, "given": list(person.given)}]
    patient["birthDate"] = person.birth_date.isoformat()
    return patient


def _immunization(dose: Dose) -> dict[str, Any]:
    imm: dict[str, Any] = {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": CVX_SYSTEM, "code": dose.cvx}]},
        "patient": {"reference": "resource:0"},
        "occurrenceDateTime": dose.on.isoformat(),
    }
    if dose.manufacturer:
        imm["manufacturer"] = {"display": dose.manufacturer}
    if dose.performer:
        imm["performer"] = [{"actor": {"display": dose.performer}}]
    if dose.lot:
        imm["lotNumber"] = dose.lot
    return imm


def immunization_bundle(person: Vaccinee) -> dict[str, Any]:
    """A minimised collection Bundle: the Patient at ``resource:0``, one Immunization per dose after it."""
    resources = [_patient(person), *(_immunization(d) for d in person.doses)]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"resource:{i}", "resource": r} for i, r in enumerate(resources)],
    }


def _coding_with_display(node: dict[str, Any]) -> bool:
    """A Coding (it has a code or a system; a Reference has neither) carrying a display."""
    return "display" in node and ("code" in node or "system" in node)


def _node_problems(node: dict[str, Any], path: str) -> list[str]:
    problems = []
    if _coding_with_display(node):
        problems.append(f"{path}: Coding.display is not allowed")
    if "coding" in node and "text" in node:
        problems.append(f"{path}: CodeableConcept.text is not allowed")
    ref = node.get("reference")
    if isinstance(ref, str) and ref.startswith("resource:") and not _RESOURCE_REF.fullmatch(ref):
        problems.append(f"{path}.reference: {ref!r} is not resource:N")
    problems += [f"{path}.{key}: empty value" for key, value in node.items() if value in ("", [], {}, None)]
    return problems


def _walk(node: Any, path: str, problems: list[str]) -> None:
    if isinstance(node, dict):
        problems += _node_problems(node, path)
        for key, value in node.items():
            if isinstance(value, dict | list):
                _walk(value, f"{path}.{key}", problems)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, dict | list):
                _walk(item, f"{path}[{i}]", problems)


def _clean(root: Any) -> bool:
    """A fast pass without paths: True when no node has a problem (the usual case)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if type(node) is list:
            stack.extend(v for v in node if type(v) is dict or type(v) is list)
            continue
        if type(node) is not dict:
            continue
        if _coding_with_display(node) or ("coding" in node and "text" in node):
            return False
        ref = node.get("reference")
        if isinstance(ref, str) and ref.startswith("resource:") and not _RESOURCE_REF.fullmatch(ref):
            return False
        for value in node.values():
            kind = type(value)
            if kind is dict or kind is list:
                if not value:
                    return False
                stack.append(value)
            elif value is None or value == "":
                return False
    return True


def _check_meta(res: dict[str, Any], where: str, problems: list[str]) -> None:
    if "meta" not in res:
        return
    meta = res["meta"]
    if not isinstance(meta, dict) or set(meta) != {"security"}:
        problems.append(f"{where}.meta: only meta.security is allowed")
        return
    security = meta["security"]
    if not isinstance(security, list) or not all(
        isinstance(c, dict) and c.get("system") == "https://smarthealth.cards/ial" for c in security
    ):
        problems.append(f"{where}.meta.security: only https://smarthealth.cards/ial codings are allowed")


def _check_resource(res: Any, where: str, problems: list[str]) -> str:
    if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
        problems.append(f"{where}: not a FHIR resource")
        return ""
    for banned in ("id", "text"):
        if banned in res:
            problems.append(f"{where}.{banned}: not allowed in a health card")
    _check_meta(res, where, problems)
    kind: str = res["resourceType"]
    if kind == "Immunization":
        if res.get("status") != "completed":
            problems.append(f"{where}.status: must be 'completed'")
        coding = (
            res.get("vaccineCode", {}).get("coding") if isinstance(res.get("vaccineCode"), dict) else None
        )
        if not isinstance(coding, list) or not coding:
            problems.append(f"{where}.vaccineCode.coding: missing")
        if not isinstance(res.get("occurrenceDateTime"), str):
            problems.append(f"{where}.occurrenceDateTime: missing")
        if not isinstance(res.get("patient"), dict):
            problems.append(f"{where}.patient: missing")
    return kind


_STRING: TypeAdapter[str] = TypeAdapter(StringType)
_DATE: TypeAdapter[Any] = TypeAdapter(DateType)
_DATETIME: TypeAdapter[Any] = TypeAdapter(DateTimeType)
# The per-card values of the resources health cards carry, each with its FHIR primitive type and a valid stand-in.
_VALUES: dict[str, tuple[tuple[tuple[str, ...], TypeAdapter[Any], Any], ...]] = {
    "Patient": (
        (("birthDate",), _DATE, "2000-01-01"),
        (("name", "*", "family"), _STRING, "x"),
        (("name", "*", "given", "*"), _STRING, "x"),
        (("identifier", "*", "value"), _STRING, "x"),
    ),
    "Immunization": (
        (("occurrenceDateTime",), _DATETIME, "2000-01-01"),
        (("lotNumber",), _STRING, "x"),
    ),
}
_SHAPE_CACHE_SIZE = 4096
_shapes: dict[str, tuple[str, ...]] = {}


_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _plainly_valid(check: TypeAdapter[Any], value: Any) -> bool:
    """A quick acceptance that implies the FHIR type's own (a subset of its valid values; anything else goes to the
    type itself): a printable non-empty string for ``string``, an existing calendar day for ``date``/``dateTime``."""
    if not isinstance(value, str) or not value:
        return False
    if check is _STRING:
        return len(value) <= 1000 and value.isprintable()
    if _PLAIN_DATE.fullmatch(value) is None:
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _stand_in(
    node: Any, path: tuple[str, ...], check: TypeAdapter[Any], value: Any, at: tuple[Any, ...], out: list[str]
) -> Any:
    """``node`` with the primitive at ``path`` validated (problems into ``out``) and replaced by ``value``;
    containers are copied, never changed in place. A path that does not lead to a primitive (or leads to ``null``) is
    left as it is: the model then judges it."""
    if not path:
        if node is None or isinstance(node, dict | list):
            return node
        if not _plainly_valid(check, node):
            try:
                check.validate_python(node)
            except ValidationError as exc:
                where = ".".join(str(part) for part in at)
                out.append(f"{where}: {exc.errors(include_url=False)[0]['msg']} (FHIR model)")
        return value
    head, rest = path[0], path[1:]
    if head == "*":
        if not isinstance(node, list):
            return node
        return [_stand_in(item, rest, check, value, (*at, n), out) for n, item in enumerate(node)]
    if not isinstance(node, dict) or head not in node:
        return node
    return {**node, head: _stand_in(node[head], rest, check, value, (*at, head), out)}


def _shape_problems(kind: str, shape: dict[str, Any], where: str) -> list[str]:
    key = repr(shape)  # JSON-decoded data: str, int, float, bool, None, list, dict; repr tells them all apart
    generic = _shapes.get(key)
    if generic is None:
        generic = tuple(_validate_model(kind, shape, "<where>"))
        if len(_shapes) >= _SHAPE_CACHE_SIZE:
            _shapes.clear()
        _shapes[key] = generic
    return [p.replace("<where>", where, 1) for p in generic]


def _validate_model(kind: str, res: dict[str, Any], where: str) -> list[str]:
    try:
        model = get_fhir_model_class(kind)
    except ValueError:
        return [f"{where}.resourceType: {kind!r} is not a FHIR resource type"]
    try:
        model.model_validate(res)
    except ValidationError as exc:
        return [
            f"{where}.{'.'.join(str(part) for part in err['loc'])}: {err['msg']} (FHIR model)"
            for err in exc.errors(include_url=False)[:10]
        ]
    except (ValueError, TypeError) as exc:  # the model's own validators raise these on some malformed values
        return [f"{where}: {exc} (FHIR model)"]
    return []


def _model_problems(res: dict[str, Any], where: str, *, exhaustive: bool = False) -> list[str]:
    """The resource validated against its FHIR model (``fhir.resources``, R4B).

    The values that differ from card to card (names, birth date, passport number, dose date, lot) are checked on
    their own against their FHIR primitive types, and the rest of the resource, its shape, against the model with
    stand-ins for them; a shape's verdict is remembered (validation is a pure function of its input), so a
    population's cards cost one model validation per vaccine and place, not per card. ``exhaustive`` validates the
    whole resource with the model instead (the tests show both give the same verdict)."""
    kind = str(res["resourceType"])
    if exhaustive or kind not in _VALUES:
        return _validate_model(kind, res, where)
    problems: list[str] = []
    shape: Any = res
    for path, check, value in _VALUES[kind]:
        shape = _stand_in(shape, path, check, value, (where,), problems)
    return [*problems, *_shape_problems(kind, shape, where)]


def bundle_problems(bundle: Any, *, immunization: bool) -> list[str]:
    """Why a received bundle is not a valid minimised SHC bundle (empty when it is)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return ["fhirBundle: not a Bundle"]
    problems: list[str] = []
    if bundle.get("type") != "collection":
        problems.append("Bundle.type: must be 'collection'")
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        return [*problems, "Bundle.entry: missing"]
    kinds: list[str] = []
    for i, entry in enumerate(entries):
        where = f"Bundle.entry[{i}]"
        if not isinstance(entry, dict) or entry.get("fullUrl") != f"resource:{i}":
            problems.append(f"{where}.fullUrl: must be resource:{i}")
            continue
        kind = _check_resource(entry.get("resource"), f"{where}.resource", problems)
        kinds.append(kind)
        if kind:
            problems.extend(_model_problems(entry["resource"], f"{where}.resource"))
    if immunization and "Patient" not in kinds:
        problems.append("Bundle: no Patient")
    if immunization and "Immunization" not in kinds:
        problems.append("Bundle: no Immunization")
    if not _clean(bundle):
        _walk(bundle, "Bundle", problems)
    return problems
