"""Generated-client check: drive a running canteen-ledger server through the Python client
that `openapi-python-client` generated from `openapi/openapi.json`.

Scenario (a county bureau, 惠水县 522731, March 2019):
  admin logs in; creates the county account, two schools, a cooperative supplier from the
  county; declares and verifies its `cooperative` tag; mints a canteen token for school A;
  the canteen records one purchase (Idempotency-Key, then an idempotent replay); the county
  logs in, lists its schools (2) and reads the county shares by school: school A 1.0000,
  school B silent (share null).

Every response must have the documented status AND parse into the documented model class,
with no field the spec does not declare (`additional_properties` empty, recursively). That is
what proves the OpenAPI document describes what the server really sends.

Environment: BASE_URL (e.g. http://127.0.0.1:PORT), ADMIN_PASSWORD, CLIENT_PACKAGE (import
name of the generated package; default canteen_ledger_client). Exit 0 and one PASS line on
success; non-zero with a FAIL line otherwise.
"""

from __future__ import annotations

import datetime
import enum
import importlib
import os
import sys
import traceback
import uuid
from collections.abc import Callable
from typing import Any

COUNTY = "522731"  # 惠水县, 黔南州: national poverty county, support continued to 2020-12-31


class CheckFailed(Exception):
    pass


def load(pkg: str) -> dict[str, Any]:
    """Imports the generated package and the operations/models the scenario uses."""
    m = {}
    m["client"] = importlib.import_module(f"{pkg}.client")
    m["models"] = importlib.import_module(f"{pkg}.models")
    m["types"] = importlib.import_module(f"{pkg}.types")
    for op in [
        "auth.create_token",
        "auth.create_user",
        "auth.get_me",
        "auth.mint_integration_token",
        "schools.create_school",
        "schools.list_schools",
        "suppliers.create_supplier",
        "suppliers.declare_tag",
        "suppliers.verify_tag",
        "purchases.create_purchase",
        "deliveries.push_delivery",
        "deliveries.confirm_delivery",
        "settlement.acknowledge_purchase",
        "settlement.record_payment",
        "reports.get_shares",
    ]:
        m[op.split(".")[1]] = importlib.import_module(f"{pkg}.api.{op}")
    return m


def undeclared_fields(value: Any, path: str = "$") -> list[str]:
    """Paths of response fields the spec does not declare (collected by the generated models
    into `additional_properties`)."""
    found: list[str] = []
    if isinstance(value, list):
        for i, v in enumerate(value):
            found += undeclared_fields(v, f"{path}[{i}]")
        return found
    if isinstance(value, (str, int, float, bool, enum.Enum, datetime.date)) or value is None:
        return found
    extra = getattr(value, "additional_properties", None)
    if isinstance(extra, dict):
        found += [f"{path}.{k}" for k in extra]
    attrs = getattr(type(value), "__attrs_attrs__", None)
    if attrs is not None:
        for a in attrs:
            if a.name != "additional_properties":
                found += undeclared_fields(getattr(value, a.name), f"{path}.{a.name}")
    return found


def call(name: str, status: int, model: type, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Calls a generated `sync_detailed`, checks status, model class and undeclared fields;
    returns the parsed model."""
    try:
        resp = fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - a parse failure inside the generated code lands here
        raise CheckFailed(
            f"{name}: the generated client raised {type(e).__name__}: {e} "
            "(the response does not match the OpenAPI schema, or the status is undocumented)"
        ) from e
    body = resp.content.decode("utf-8", "replace")[:800]
    if int(resp.status_code) != status:
        raise CheckFailed(f"{name}: expected HTTP {status}, got {int(resp.status_code)}: {body}")
    if not isinstance(resp.parsed, model):
        raise CheckFailed(
            f"{name}: HTTP {status} parsed as {type(resp.parsed).__name__}, expected {model.__name__}: {body}"
        )
    extra = undeclared_fields(resp.parsed)
    if extra:
        raise CheckFailed(f"{name}: response fields not declared in the spec ({model.__name__}): {', '.join(extra)}")
    print(f"  ok  {name}: {status} {model.__name__}")
    return resp.parsed


def check(equal: bool, what: str) -> None:
    if not equal:
        raise CheckFailed(what)


def scenario(m: dict[str, Any], base_url: str, admin_password: str) -> str:
    models = m["models"]
    Client = m["client"].Client
    AuthenticatedClient = m["client"].AuthenticatedClient
    UNSET = m["types"].UNSET
    timeout = 30.0

    def anonymous() -> Any:
        return Client(base_url=base_url, raise_on_unexpected_status=True, timeout=timeout)

    def bearer(token: str) -> Any:
        return AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True, timeout=timeout)

    def login(username: str, password: str) -> Any:
        t = call(
            f"create_token ({username})",
            200,
            models.TokenResponse,
            m["create_token"].sync_detailed,
            client=anonymous(),
            body=models.TokenRequest(username=username, password=password),
        )
        check(t.token_type == "Bearer", f"token_type is {t.token_type!r}, expected 'Bearer'")
        check(t.expires_in > 0, f"expires_in is {t.expires_in}")
        return bearer(t.access_token)

    admin = login("admin", admin_password)
    me = call("get_me (admin)", 200, models.MeResponse, m["get_me"].sync_detailed, client=admin)
    check(me.role == "admin", f"get_me says {me.to_dict()}")

    county_user = f"huishui-bureau-{uuid.uuid4().hex[:8]}"
    county_password = "ci-" + uuid.uuid4().hex  # 35 characters
    call(
        "create_user (county:522731)",
        201,
        models.UserResponse,
        m["create_user"].sync_detailed,
        client=admin,
        body=models.CreateUserRequest(username=county_user, password=county_password, role=f"county:{COUNTY}"),
    )

    schools = []
    for name in ["惠水县第一小学", "惠水县第二小学"]:
        s = call(
            f"create_school ({name})",
            201,
            models.SchoolResponse,
            m["create_school"].sync_detailed,
            client=admin,
            body=models.CreateSchoolRequest(county_code=models.GuizhouCountyCode(COUNTY), name=name, students=600),
        )
        check(s.county_code == COUNTY, f"school county_code is {s.county_code!r}")
        schools.append(s)
    buying, silent = schools

    supplier = call(
        "create_supplier (cooperative from 522731)",
        201,
        models.SupplierResponse,
        m["create_supplier"].sync_detailed,
        client=admin,
        body=models.CreateSupplierRequest(
            kind=models.SupplierKind.COOPERATIVE,
            name="惠水县好花红蔬菜专业合作社",
            origin_county_code=COUNTY,
            registration_ref="93522731MA6DXXXX0K",
        ),
    )
    check(supplier.kind == models.SupplierKind.COOPERATIVE, f"supplier kind is {supplier.kind!r}")

    tag = call(
        "declare_tag (cooperative)",
        201,
        models.TagResponse,
        m["declare_tag"].sync_detailed,
        supplier.id,
        client=admin,
        body=models.DeclareTagRequest(
            tag=models.Tag.COOPERATIVE,
            valid_from=datetime.date(2019, 1, 1),
            evidence="农民专业合作社营业执照 93522731MA6DXXXX0K",
        ),
    )
    check(tag.status == models.TagStatus.DECLARED, f"declared tag status is {tag.status!r}")
    review = call(
        "verify_tag",
        200,
        models.ReviewResponse,
        m["verify_tag"].sync_detailed,
        supplier.id,
        tag.id,
        client=admin,
        body=models.ReviewRequest(note="CI: licence checked"),
    )
    check(review.tag.status == models.TagStatus.VERIFIED, f"verified tag status is {review.tag.status!r}")

    def integration_client(role, label):
        """A client with a one-day integration token for `role`, minted by the admin."""
        minted = call(
            f"mint_integration_token ({role.split(':')[0]})",
            201,
            models.MintedTokenResponse,
            m["mint_integration_token"].sync_detailed,
            client=admin,
            body=models.MintTokenRequest(role=role, label=label, days=1),
        )
        return bearer(minted.access_token)

    canteen = integration_client(f"canteen:{buying.id}", "CI canteen app")

    purchase_body = models.CreatePurchaseRequest(
        school_id=buying.id,
        supplier_id=supplier.id,
        purchase_date=datetime.date(2019, 3, 12),
        invoice_no="CI-2019-03-0001",
        lines=[
            models.LineRequest(
                category=models.Category.VEGETABLES,
                description="大白菜",
                quantity="25.5",
                unit=models.Unit.KG,
                unit_price="1.80",
            ),
            models.LineRequest(
                category=models.Category.EGGS,
                description="土鸡蛋",
                quantity="10",
                unit=models.Unit.JIN,
                unit_price="7.5",
                amount="75.00",
            ),
        ],
    )
    key = str(uuid.uuid4())
    purchase = call(
        "create_purchase",
        201,
        models.PurchaseResponse,
        m["create_purchase"].sync_detailed,
        client=canteen,
        body=purchase_body,
        idempotency_key=key,
    )
    replay = call(
        "create_purchase (idempotent replay)",
        201,
        models.PurchaseResponse,
        m["create_purchase"].sync_detailed,
        client=canteen,
        body=purchase_body,
        idempotency_key=key,
    )
    check(replay.id == purchase.id, f"replay created another purchase: {replay.id} != {purchase.id}")

    # The supplier side: its integration acknowledges the canteen's purchase and pushes an
    # April delivery, which the canteen confirms; the canteen pays part of the purchase.
    vendor = integration_client(f"supplier:{supplier.id}", "CI cooperative system")
    acknowledged = call(
        "acknowledge_purchase", 200, models.PurchaseResponse, m["acknowledge_purchase"].sync_detailed, purchase.id, client=vendor
    )
    check(acknowledged.confirmation.state == models.ConfirmationState.CONFIRMED, f"confirmation {acknowledged.confirmation.to_dict()}")
    delivery = call(
        "push_delivery",
        201,
        models.DeliveryResponse,
        m["push_delivery"].sync_detailed,
        client=vendor,
        body=models.CreateDeliveryRequest(
            school_id=buying.id,
            delivery_date=datetime.date(2019, 4, 2),
            reference="DN-CI-0402",
            lines=[models.LineRequest(category=models.Category.GRAIN, description="大米", quantity="50", unit=models.Unit.KG, unit_price="5.20")],
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    check(delivery.status == models.DeliveryStatus.PENDING, f"pushed delivery is {delivery.status!r}")
    confirmed = call(
        "confirm_delivery",
        200,
        models.ConfirmedDelivery,
        m["confirm_delivery"].sync_detailed,
        delivery.id,
        client=canteen,
        body=models.ConfirmDeliveryRequest(),
    )
    check(confirmed.purchase.total == "260.00", f"confirmed delivery total {confirmed.purchase.total!r}")
    paid = call(
        "record_payment",
        201,
        models.RecordedPayment,
        m["record_payment"].sync_detailed,
        purchase.id,
        client=canteen,
        body=models.CreatePaymentRequest(paid_on=datetime.date(2019, 3, 20), amount="20.00", reference="BANK-CI-1"),
    )
    check(paid.purchase_payment.unpaid == "100.90", f"unpaid after payment {paid.purchase_payment.unpaid!r}")

    county = login(county_user, county_password)
    page = call(
        "list_schools (county)",
        200,
        models.PageSchoolResponse,
        m["list_schools"].sync_detailed,
        client=county,
    )
    listed = sorted(s.id for s in page.items)
    check(listed == sorted(s.id for s in schools), f"county lists schools {listed}, expected {[s.id for s in schools]}")
    check(all(s.county_code == COUNTY for s in page.items), "a listed school is outside the county")
    check(page.next_cursor in (None, UNSET), f"unexpected next_cursor {page.next_cursor!r}")

    report = call(
        "get_shares (county:522731, 2019-03, by school)",
        200,
        models.ShareReport,
        m["get_shares"].sync_detailed,
        client=county,
        scope=f"county:{COUNTY}",
        period="2019-03",
        group_by="school",
    )
    check(report.from_ == datetime.date(2019, 3, 1), f"report from {report.from_}")
    check(report.to == datetime.date(2019, 3, 31), f"report to {report.to}")
    check(report.scope.code == COUNTY, f"report scope {report.scope.to_dict()}")
    by_school: dict[str, Any] = {}
    for row in report.rows:
        unit = row.unit
        check(unit not in (None, UNSET), f"a by-school row has no unit: {row.to_dict()}")
        by_school[unit.code] = row
    check(
        sorted(by_school) == sorted(s.id for s in schools),
        f"report rows are for {sorted(by_school)}, expected the two schools",
    )
    a, b = by_school[buying.id], by_school[silent.id]
    check(a.share == "1.0000", f"school A share is {a.share!r}, expected '1.0000'")
    check(a.total == "120.90", f"school A total is {a.total!r}, expected '120.90' (45.90 + 75.00)")
    check(a.qualifying == a.total, f"school A qualifying {a.qualifying!r} != total {a.total!r}")
    check(a.purchases == 1, f"school A purchases {a.purchases}, expected 1 (the replay must not count)")
    check(a.silent in (False, UNSET), f"school A silent is {a.silent!r}")
    check(b.share is None, f"silent school share is {b.share!r}, expected null")
    check(b.silent is True, f"silent school silent flag is {b.silent!r}, expected true")
    check(b.purchases == 0, f"silent school purchases {b.purchases}")
    check(report.summary.share == "1.0000", f"county summary share is {report.summary.share!r}")
    settled = a.settlement
    check(settled.confirmed_total == "120.90" and settled.paid == "20.00", f"school A settlement {settled.to_dict()}")
    return f"county {COUNTY}: 2 schools listed, shares 1.0000 / silent, summary {report.summary.share}"


def main() -> int:
    base_url = os.environ.get("BASE_URL", "").rstrip("/")
    admin_password = os.environ.get("ADMIN_PASSWORD", "")
    pkg = os.environ.get("CLIENT_PACKAGE", "canteen_ledger_client")
    if not base_url or not admin_password:
        print("FAIL generated-client check: BASE_URL and ADMIN_PASSWORD must be set", file=sys.stderr)
        return 2
    try:
        m = load(pkg)
        summary = scenario(m, base_url, admin_password)
    except CheckFailed as e:
        if e.__cause__ is not None:
            traceback.print_exception(e.__cause__, file=sys.stderr)
        print(f"FAIL generated-client check: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        print(f"FAIL generated-client check: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"PASS generated-client check ({pkg} against {base_url}): {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
