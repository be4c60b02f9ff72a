"""Schemathesis hooks for .ci/fuzz.sh: the rules of this API that an OpenAPI document cannot
state, taught to the generator instead of switching checks off.

JSON Schema describes one value at a time and knows no clock. Three kinds of rule are
outside it, and each is enforced by the server with a 422 naming the field:

* dates relative to today: a purchase, delivery or payment date lies between 2014-01-01 and today
  (China Standard Time); the document can only say `format: date`;
* relations between fields: a tag's or designation's `valid_to` is not before its
  `valid_from`, a report's `from` is not after its `to` (nor in another year: years may have
  different targets), a target's numerator is at most its
  denominator, a purchase line's optional `amount` is its quantity times its unit price
  (within 0.01);
* references to what exists: an account's or token's role names a school, supplier or
  county that exists, a purchase's or delivery's school and supplier exist (ids are data; the seeded ones come
  from .ci/fuzz.sh in FUZZ_SCHOOL_ID and FUZZ_SUPPLIER_ID); an imported file is a CSV
  with the template's columns (the body is `format: binary`: any bytes by the schema);
* magnitudes: a line's quantity × unit price fits the 15 digits an amount has, and a
  payment is at most the purchase's unpaid balance;
* exclusive or dependent query parameters: a report takes `period` or `from` and `to`, and
  `period_kind` only with `group_by=period`, `order` only with `order_by`, at most one unit and
  one breakdown dimension in `group_by`, `below_target` only without a breakdown; the overdue
  list takes exactly one of `county` and `supplier`.

`map_case` below rewrites only the cases schemathesis generates as *positive* (it asserts
that the server accepts them), and only the fields of those rules, so that they are valid
as the server defines valid. Negative cases are sent exactly as generated, and every check
runs on every operation.
"""

from __future__ import annotations

import datetime
import decimal
import os

import schemathesis

FIRST_DAY = datetime.date(2014, 1, 1)
CHINA = datetime.timezone(datetime.timedelta(hours=8))


def _today() -> datetime.date:
    return datetime.datetime.now(CHINA).date()


def _date(value: object) -> datetime.date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def _business_date(value: object) -> object:
    """A generated date moved into [2014-01-01, today], keeping its month and day where it can."""
    day = _date(value)
    if day is None:
        return value
    today = _today()
    if FIRST_DAY <= day <= today:
        return value
    span = (today - FIRST_DAY).days + 1
    return (FIRST_DAY + datetime.timedelta(days=day.toordinal() % span)).isoformat()


def _ordered(obj: dict, low: str, high: str) -> None:
    """Swaps `obj[low]` and `obj[high]` (dates) when the first is after the second."""
    a, b = _date(obj.get(low)), _date(obj.get(high))
    if a is not None and b is not None and a > b:
        obj[low], obj[high] = obj[high], obj[low]


MAX_AMOUNT = decimal.Decimal(10) ** 15
SCHOOL_ID = os.environ.get("FUZZ_SCHOOL_ID", "")
SUPPLIER_ID = os.environ.get("FUZZ_SUPPLIER_ID", "")


def _line_amount(line: object) -> None:
    """Keeps quantity × unit price within an amount's 15 digits (the quantity becomes 1,
    then the price too, if needed), and sets a line's optional `amount` to that product,
    rounded half away from zero."""
    if not isinstance(line, dict):
        return
    try:
        quantity, price = decimal.Decimal(line["quantity"]), decimal.Decimal(line["unit_price"])
    except (KeyError, TypeError, decimal.InvalidOperation):
        return
    if quantity * price >= MAX_AMOUNT:
        line["quantity"], quantity = "1", decimal.Decimal(1)
        if price >= MAX_AMOUNT:
            line["unit_price"], price = "1", decimal.Decimal(1)
    if isinstance(line.get("amount"), str):
        exact = quantity * price
        line["amount"] = str(exact.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP))


def _role(body: object) -> None:
    """A role's scope that exists: the seeded school or supplier, or the demo's county 520102
    and prefecture 520100."""
    if not isinstance(body, dict) or not isinstance(body.get("role"), str):
        return
    kind = body["role"].split(":", 1)[0]
    scope = {"canteen": SCHOOL_ID, "supplier": SUPPLIER_ID, "county": "520102", "prefecture": "520100"}.get(kind)
    if scope:
        body["role"] = f"{kind}:{scope}"


def _purchase(body: object, date_field: str) -> None:
    if not isinstance(body, dict):
        return
    if "school_id" in body and SCHOOL_ID:
        body["school_id"] = SCHOOL_ID
    if "supplier_id" in body and SUPPLIER_ID:
        body["supplier_id"] = SUPPLIER_ID
    if date_field in body:
        body[date_field] = _business_date(body[date_field])
    for line in body.get("lines") or []:
        _line_amount(line)


def _is_positive(case: schemathesis.Case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    return _rewrite(case) if _is_positive(case) else case


@schemathesis.hook
def before_add_examples(context: schemathesis.HookContext, examples: list) -> None:
    """The examples phase's cases (the schema's examples, the rest filled in) are positive
    and do not pass through `map_case`: the same rewrite."""
    for i, case in enumerate(examples):
        examples[i] = _rewrite(case)


def _rewrite(case: schemathesis.Case) -> schemathesis.Case:
    label = f"{case.method.upper()} {case.path}"
    body = case.body
    query = case.query if isinstance(case.query, dict) else None

    if label == "POST /api/v1/purchases":
        _purchase(body, "purchase_date")
    elif label == "POST /api/v1/purchases/{id}/correct" and isinstance(body, dict):
        _purchase(body.get("purchase"), "purchase_date")
    elif label in ("POST /api/v1/users", "POST /api/v1/tokens"):
        _role(body)
    elif label == "POST /api/v1/purchases/{id}/payments" and isinstance(body, dict):
        # A payment is at most the purchase's unpaid balance: a cent always fits one unpaid.
        if "paid_on" in body:
            body["paid_on"] = _business_date(body["paid_on"])
        if "amount" in body:
            body["amount"] = "0.01"
    elif label == "POST /api/v1/imports" and SUPPLIER_ID:
        case.body = (
            "purchase_date,supplier_id,invoice_no,category,description,quantity,unit,unit_price\n"
            f"2019-03-05,{SUPPLIER_ID},FUZZ-{abs(hash(repr(body))) % 10**9},vegetables,白菜,10,kg,2.5\n"
        )
        case.media_type = "text/csv"
    elif label == "POST /api/v1/purchases/batch" and isinstance(body, dict):
        for item in body.get("items") or []:
            if isinstance(item, dict):
                _purchase(item.get("purchase"), "purchase_date")
    elif label == "POST /api/v1/deliveries":
        _purchase(body, "delivery_date")
    elif label == "POST /api/v1/suppliers/{id}/tags" and isinstance(body, dict):
        _ordered(body, "valid_from", "valid_to")
    elif label == "PUT /api/v1/counties/{code}/designations" and isinstance(body, dict):
        for item in body.get("designations") or []:
            if isinstance(item, dict):
                _ordered(item, "valid_from", "valid_to")
    elif label == "PUT /api/v1/targets/{year}" and isinstance(body, dict):
        n, d = body.get("numerator"), body.get("denominator")
        if isinstance(n, (int, float)) and isinstance(d, (int, float)) and n > d:
            body["numerator"], body["denominator"] = d, n

    if query is not None:
        if label in (
            "GET /api/v1/reports/shares",
            "GET /api/v1/reports/shares/export",
            "GET /api/v1/reports/silent-schools",
            "GET /api/v1/reports/silent-schools/export",
        ):
            # `period`, or both of `from` and `to`.
            if "period" in query:
                query.pop("from", None)
                query.pop("to", None)
            elif "from" in query or "to" in query:
                query.setdefault("from", "2019-03-01")
                query.setdefault("to", "2019-06-30")
            else:
                query["period"] = "2019-spring"
            if "group_by" in query:
                # At most one unit and one breakdown dimension, and `period` once.
                kept, slots = [], set()
                for part in str(query["group_by"]).split(","):
                    slot = {"prefecture": "unit", "county": "unit", "school": "unit", "tag": "breakdown", "category": "breakdown"}.get(part, part)
                    if slot not in slots:
                        slots.add(slot)
                        kept.append(part)
                query["group_by"] = ",".join(kept)
                if "breakdown" in slots:
                    # `below_target` filters unit rows, not tag or category rows.
                    query.pop("below_target", None)
            if "period" not in str(query.get("group_by", "")).split(","):
                query.pop("period_kind", None)
            if "order_by" not in query:
                query.pop("order", None)
        if label == "GET /api/v1/payments/overdue":
            # Exactly one of `county` and `supplier` (520102 is the demo's county).
            if "county" in query:
                query.pop("supplier", None)
            elif "supplier" not in query:
                query["county"] = "520102"
        if "from" in query and "to" in query:
            _ordered(query, "from", "to")
            # A report range lies within one year: years may have different targets.
            a, b = _date(query["from"]), _date(query["to"])
            if label.startswith("GET /api/v1/reports/") and a is not None and b is not None and a.year != b.year:
                query["to"] = datetime.date(a.year, 12, 31).isoformat()
    return case
