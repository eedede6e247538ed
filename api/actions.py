"""The API's actions: each declares its parameters, its response fields and the errors it can
answer (the API reference page is generated from the same declarations), and runs through the
same selectors and services as the console.

Field names and JSON types follow the SDK's models.py (tencentcloud.intlpartnersmgt.v20220928):
money goes out as JSON numbers (the SDK's float), times as "YYYY-MM-DD HH:MM:SS" in the reseller's
time zone, and a few UINs as strings where the SDK types them so."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from core.errors import CustomerNotBound, DomainError
from core.money import parse_amount
from credits import selectors as credit_selectors, services as credit_services
from credits.models import AllocationRecord
from credits.selectors import PayMode, purchase_check
from customers import selectors as customer_selectors, services as customer_services
from customers.models import Customer, Invitation, Member, Reseller, StatusEvent
from customers.services import customer_remark_update
from notifications.services.status import customer_freeze, customer_unfreeze

from . import selectors
from .envelope import ApiError, money
from .models import ApiKey
from .params import Param, parse

VERSION = "2022-09-28"
PAGE_CODE = "InvalidParameter.Page"
UINS_CODE = "InvalidParameterValue.UinList"
USAGE_BATCH_MAX = 1000
# ForceQN's Type and the Force it reports (the SDK's "forced status"): 2 frozen, 0 normal.
FORCE_FROZEN, FORCE_NORMAL = 2, 0


@dataclass(frozen=True)
class Context:
    """Who calls: a reseller member's key (member), or a customer's own key (customer, member None;
    only actions with customer_key=True run for it)."""

    key: ApiKey
    member: Member | None
    request_id: str
    customer: Customer | None = None
    # The first try of a write (api.endpoint._write_once): its transaction has no savepoint, so an
    # allocation runs as one prepared statement (credit_allocate's one_statement).
    first_try: bool = False

    @property
    def reseller(self) -> Reseller:
        return self.member.reseller if self.member is not None else self.customer.reseller

    @property
    def user(self):
        return self.key.user

    @property
    def operator_name(self) -> str:
        return f"{self.user.get_username()} (API key {self.key.secret_id})"


@dataclass(frozen=True)
class Action:
    name: str
    summary: str
    handler: Callable[[Context, dict], dict]
    params: tuple[Param, ...] = ()
    response: tuple[tuple[str, str, str], ...] = ()  # (field, SDK type, meaning)
    errors: tuple[tuple[str, str], ...] = ()  # (code, when)
    writes: bool = False  # refused for a viewer's key
    credit: bool = False  # counted against the credit-action rate limit
    example: dict | None = None
    sdk_request: str = ""  # the SDK model the example uses; "" means call_json
    customer_key: bool = False  # only a customer's own key calls it (and such a key calls nothing else)


ACTIONS: dict[str, Action] = {}


def action(**spec):
    def register(handler):
        ACTIONS[handler.__name__] = Action(name=handler.__name__, handler=handler, **spec)
        return handler

    return register


def _zone(reseller: Reseller) -> ZoneInfo:
    return reseller.zone


def _time(value: datetime, reseller: Reseller) -> str:
    return timezone.localtime(value, _zone(reseller)).strftime("%Y-%m-%d %H:%M:%S")


def _page_params(size_max: int = 100) -> tuple[Param, Param]:
    return (
        Param("Page", "int", _("Page number, from 1."), default=1, minimum=1, maximum=10**9, range_code=PAGE_CODE),
        Param(
            "PageSize", "int", _("Entries per page."), default=20, minimum=1, maximum=size_max, range_code=PAGE_CODE
        ),
    )


def _in_scope(ctx: Context, uins: list[int]) -> dict[int, Customer]:
    """The reseller's customers for `uins`, or UinNoAuth naming the first UIN that is not one."""
    found = selectors.customers_by_uin(ctx.reseller, uins)
    for uin in uins:
        if uin not in found:
            raise CustomerNotBound(uin)
    return found


UIN_NO_AUTH = (CustomerNotBound.code, _("a UIN is not one of your customers"))
INVALID_UIN = (
    "InvalidParameterValue.InvalidUin", _("a UIN is not a positive integer of ASCII digits 0-9 (at most 2^63 − 1)")
)
PAGE_ERROR = (PAGE_CODE, _("Page < 1 or PageSize out of range"))
VIEWER = ("UnauthorizedOperation", _("the key belongs to a viewer, who can read but not write"))


@action(
    summary=_("The reseller's customer-credit pool: total, allocated and remaining, and the customers' totals."),
    credit=True,
    response=(
        ("TotalCredit", "Float", _("Customer-credit pool total (sum of approved grants).")),
        ("AllocatedCredit", "Float", _("Credit currently allocated to customers (total − remaining).")),
        ("RemainingCredit", "Float", _("Credit left to allocate.")),
        ("CustomerTotalCredit", "Float", _("Sum of the customers' credit.")),
        ("CustomerRemainingCredit", "Float", _("Sum of the customers' available credit (credit − used).")),
    ),
    example={},
    sdk_request="QueryPartnerCreditRequest",
)
def QueryPartnerCredit(ctx: Context, params: dict) -> dict:
    credit = selectors.partner_credit(ctx.reseller)
    return {
        "AllocatedCredit": money(credit["allocated"]),
        "TotalCredit": money(credit["total"]),
        "RemainingCredit": money(credit["remaining"]),
        "CustomerTotalCredit": money(credit["customer_credit"]),
        "CustomerRemainingCredit": money(credit["customer_available"]),
    }


def _customer_credit_row(customer: Customer, reseller: Reseller) -> dict:
    return {
        "Name": customer.name,
        "Type": customer.identity_type,
        "Mobile": customer.phone,
        "Email": customer.email,
        "Arrears": "1" if customer.available < 0 else "0",
        "AssociationTime": _time(customer.bound_at, reseller),
        "RecentExpiry": "",
        "ClientUin": customer.uin,
        "Credit": money(customer.credit),
        "RemainingCredit": money(customer.available),
        "IdentifyType": 1 if customer.identity_type == Customer.IdentityType.PERSONAL else 2,
        "Remark": customer.remark,
        "Force": FORCE_FROZEN if customer.frozen else FORCE_NORMAL,
    }


@action(
    summary=_("Customers with their credit, a page at a time, by binding time; optionally filtered."),
    credit=True,
    params=(
        Param(
            "FilterType", "str", _("What Filter matches: ClientUin (exact) or Name, Remark, Email (substring)."),
            choices=tuple(selectors.CUSTOMER_FILTERS),
        ),
        Param("Filter", "str", _("The value to search for; empty lists every customer."), default="", maximum=255),
        *_page_params(),
        Param("Order", "str", _("Binding-time order (default desc)."), default="desc", choices=("desc", "asc")),
    ),
    response=(
        ("Data", "Array of QueryCustomersCreditData", _("ClientUin, Name, Type, Mobile, Email, Remark, "
         "AssociationTime, Credit, RemainingCredit (available; negative when overdue), Arrears ('1' when "
         "available < 0), IdentifyType (1 personal, 2 enterprise), Force (2 frozen, 0 normal), RecentExpiry.")),
        ("Total", "Integer", _("How many customers match.")),
    ),
    errors=(PAGE_ERROR, ("InvalidParameterValue", _("FilterType or Order is not one of its values")),
            ("MissingParameter", _("Filter is given without FilterType"))),
    example={"FilterType": "Name", "Filter": "Acme", "Page": 1, "PageSize": 100, "Order": "desc"},
    sdk_request="QueryCustomersCreditRequest",
)
def QueryCustomersCredit(ctx: Context, params: dict) -> dict:
    if params["Filter"] and not params["FilterType"]:
        raise ApiError("MissingParameter", gettext("Filter needs FilterType (ClientUin, Name, Remark or Email)."))
    total, customers = selectors.customers_page(
        ctx.reseller,
        filter_type=params["FilterType"],
        filter_text=params["Filter"].strip(),
        page=params["Page"],
        page_size=params["PageSize"],
        order=params["Order"],
    )
    return {"Data": [_customer_credit_row(customer, ctx.reseller) for customer in customers], "Total": total}


def _uin_credit(uin: int, credit, available) -> dict:
    return {"Uin": uin, "TotalCredit": money(credit), "RemainingCredit": money(available)}


@action(
    summary=_("Credit and available credit of up to 50 customers by UIN."),
    credit=True,
    params=(
        Param("UinList", "uin_list", _("Customer UINs."), required=True, minimum=1, maximum=50, range_code=UINS_CODE),
    ),
    response=(("Data", "Array of QueryDirectCustomersCreditData", _("Uin, TotalCredit, RemainingCredit (available), in request order.")),),
    errors=((UINS_CODE, _("UinList is empty or holds more than 50 UINs")), INVALID_UIN, UIN_NO_AUTH),
    example={"UinList": [100012345678, 100012345679]},
    sdk_request="QueryCreditByUinListRequest",
)
def QueryCreditByUinList(ctx: Context, params: dict) -> dict:
    uins = list(dict.fromkeys(params["UinList"]))
    found = _in_scope(ctx, uins)
    return {"Data": [_uin_credit(uin, found[uin].credit, found[uin].available) for uin in uins]}


@action(
    summary=_("Credit and available credit of every customer."),
    credit=True,
    response=(("Data", "Array of QueryDirectCustomersCreditData", _("Uin, TotalCredit, RemainingCredit (available), newest binding first.")),),
    example={},
    sdk_request="QueryDirectCustomersCreditRequest",
)
def QueryDirectCustomersCredit(ctx: Context, params: dict) -> dict:
    return {"Data": [_uin_credit(*row) for row in selectors.customer_credit_rows(ctx.reseller)]}


@action(
    summary=_("Allocate credit to a customer (a negative AddedCredit repossesses). Same rules and record as the console."),
    credit=True,
    writes=True,
    params=(
        Param("ClientUin", "uin", _("Customer UIN."), required=True),
        Param("AddedCredit", "amount", _("USD added to the customer's credit; negative repossesses; at most 2 decimals."), required=True),
        Param("Remark", "str", _("Shown in the allocation record."), default="", maximum=255,
              range_code="InvalidParameterValue.RemarkTooLong"),
        Param("ClientToken", "str", _("Idempotency token (Partner Center extension): a retry with the same token "
              "returns the first result and allocates nothing more."), minimum=1, maximum=64,
              range_code="InvalidParameterValue.ClientToken"),
    ),
    response=(
        ("TotalCredit", "Float", _("The customer's credit after the allocation.")),
        ("RemainingCredit", "Float", _("The customer's available credit after the allocation.")),
    ),
    errors=(
        ("InvalidParameterValue.CreditAmountOutOfRange", _("AddedCredit is 0, has more than 2 decimals, exceeds the "
         "per-operation maximum, or repossesses more than the customer's available credit")),
        ("FailedOperation.BalanceInsufficient", _("AddedCredit exceeds the pool's remaining credit")),
        ("FailedOperation.IdempotencyConflict", _("ClientToken was used before for a different allocation")),
        UIN_NO_AUTH, INVALID_UIN, VIEWER,
    ),
    example={"ClientUin": 100012345678, "AddedCredit": 500.00, "Remark": "June top-up"},
    sdk_request="AllocateCustomerCreditRequest",
)
def AllocateCustomerCredit(ctx: Context, params: dict) -> dict:
    amount = parse_amount(params["AddedCredit"])
    customer_id = selectors.customer_id_for_uin(ctx.reseller, params["ClientUin"])
    if customer_id is None:
        raise CustomerNotBound(params["ClientUin"])
    record = credit_services.credit_allocate(
        reseller=ctx.reseller,
        customer=customer_id,
        amount=amount,
        actor=ctx.user,
        source=AllocationRecord.Source.API,
        remark=params["Remark"],
        idempotency_key=params["ClientToken"],
        operator_name=ctx.operator_name,
        one_statement=ctx.first_try,
    )
    return {"TotalCredit": money(record.credit_after), "RemainingCredit": money(record.available_after)}


@action(
    summary=_("A customer's allocation records, newest first."),
    credit=True,
    params=(Param("ClientUin", "uin", _("Customer UIN."), required=True), *_page_params()),
    response=(
        ("Total", "Integer", _("How many records the customer has.")),
        ("History", "Array of QueryCreditAllocationHistoryData", _("AllocatedTime, Operator, Credit (the signed "
         "amount), AllocatedCredit (customer credit after), ClientCreditAfter (available after), Remark.")),
    ),
    errors=(PAGE_ERROR, UIN_NO_AUTH, INVALID_UIN),
    example={"ClientUin": 100012345678, "Page": 1, "PageSize": 20},
    sdk_request="QueryCreditAllocationHistoryRequest",
)
def QueryCreditAllocationHistory(ctx: Context, params: dict) -> dict:
    customer = _in_scope(ctx, [params["ClientUin"]])[params["ClientUin"]]
    total, records = selectors.allocation_history_page(customer, page=params["Page"], page_size=params["PageSize"])
    return {
        "Total": total,
        "History": [
            {
                "AllocatedTime": _time(record.created_at, ctx.reseller),
                "Operator": record.operator_name,
                "Credit": money(record.amount),
                "AllocatedCredit": money(record.credit_after),
                "ClientCreditAfter": money(record.available_after),
                "Remark": record.remark,
            }
            for record in records
        ],
    }


def _account_status(customer: Customer) -> str:
    if customer.frozen:
        return "1"
    return "2" if customer.available < 0 else "0"


@action(
    summary=_("Contact and account details of up to 20 customers."),
    params=(
        Param("CustomerUin", "uin_list", _("Customer UINs."), required=True, minimum=1, maximum=20, range_code=UINS_CODE),
    ),
    response=(
        ("Data", "Array of DescribeCustomerInfoData", _("CustomerUin (string), Name, Email, Phone, Mark (remark), "
         "BindTime, AccountStatus ('0' normal, '1' frozen, '2' overdue), AuthType (0 personal, 1 enterprise), "
         "HasExpense (1 when anything was used).")),
    ),
    errors=((UINS_CODE, _("CustomerUin is empty or holds more than 20 UINs")), INVALID_UIN, UIN_NO_AUTH),
    example={"CustomerUin": [100012345678]},
    sdk_request="DescribeCustomerInfoRequest",
)
def DescribeCustomerInfo(ctx: Context, params: dict) -> dict:
    uins = list(dict.fromkeys(params["CustomerUin"]))
    found = _in_scope(ctx, uins)
    data = []
    for uin in uins:
        customer = found[uin]
        data.append(
            {
                "CustomerUin": str(customer.uin),
                "Email": customer.email,
                "Phone": customer.phone,
                "Mark": customer.remark,
                "Name": customer.name,
                "BindTime": _time(customer.bound_at, ctx.reseller),
                "AccountStatus": _account_status(customer),
                # Identity type is recorded for a customer once verified, so a bound customer has passed.
                "AuthStatus": "3",
                "AuthType": 0 if customer.identity_type == Customer.IdentityType.PERSONAL else 1,
                "CidRegisterTime": "",
                "UinRegisterTime": "",
                "AuthPassTime": "",
                "HasExpense": 1 if customer.used > 0 else 0,
            }
        )
    return {"Data": data}


@action(
    summary=_("The UINs of the reseller's customers, a page at a time, newest binding first."),
    params=_page_params(size_max=1000),
    response=(
        ("Data", "Array of DescribeCustomerUinData", _("CustomerUin (string).")),
        ("Total", "String", _("How many customers the reseller has (a string, as the SDK types it).")),
    ),
    errors=(PAGE_ERROR,),
    example={"Page": 1, "PageSize": 1000},
    sdk_request="DescribeCustomerUinRequest",
)
def DescribeCustomerUin(ctx: Context, params: dict) -> dict:
    total, uins = selectors.customer_uins_page(ctx.reseller, page=params["Page"], page_size=params["PageSize"])
    return {"Data": [{"CustomerUin": str(uin)} for uin in uins], "Total": str(total)}


@action(
    summary=_("Set a customer's remark (empty clears it)."),
    writes=True,
    params=(
        Param("ClientUin", "uin", _("Customer UIN (the SDK types it as a string)."), required=True),
        Param("Remark", "str", _("The new remark."), required=True, maximum=255,
              range_code="InvalidParameterValue.RemarkTooLong"),
    ),
    response=(("ClientRemark", "String", _("The remark now stored.")),),
    errors=(("InvalidParameterValue.RemarkTooLong", _("Remark is longer than 255 characters")), UIN_NO_AUTH, INVALID_UIN, VIEWER),
    example={"ClientUin": "100012345678", "Remark": "Key account"},
    sdk_request="ModifyClientRemarkRequest",
)
def ModifyClientRemark(ctx: Context, params: dict) -> dict:
    customer = _in_scope(ctx, [params["ClientUin"]])[params["ClientUin"]]
    customer = customer_remark_update(customer=customer, remark=params["Remark"])
    return {"ClientRemark": customer.remark}


CHARGE_PARAMS = (
    Param("ClientUin", "uin", _("Customer UIN."), required=True),
    Param("Amount", "amount", _("USD charged, > 0, at most 2 decimals."), required=True),
    Param("IncurredAt", "str", _("When the usage was incurred: ISO 8601 with a time zone, such as "
          "2026-06-01T08:30:00+08:00, from 2000-01-01T00:00:00Z to one day after the server's current time."),
          required=True, maximum=64),
    Param("ExternalId", "str", _("Your unique id for the charge; a repeat is counted as a duplicate and not recorded again."),
          required=True, minimum=1, maximum=128, range_code="InvalidParameterValue.ExternalId"),
    Param("Product", "str", _("Product name."), default="", maximum=100),
    Param("Description", "str", _("Free text."), default="", maximum=255),
    Param("Region", "str", _("Region of the resource, such as ap-singapore (default: none)."), default="", maximum=64),
    Param("PayMode", "str", _("prePay (yearly/monthly subscription) or postPay (pay-as-you-go, the default)."),
          default="", maximum=8, range_code="InvalidParameterValue.PayMode"),
    Param("InstanceId", "str", _("Instance the charge is for (default: none)."), default="", maximum=128),
)
# credits.services.usage_charge_check names fields in snake case; the API answers with its own names.
_CHARGE_FIELDS = {
    "customer_uin": ("ClientUin", "InvalidParameterValue.InvalidUin"),
    "amount": ("Amount", "InvalidParameterValue.Amount"),
    "incurred_at": ("IncurredAt", "InvalidParameterValue.IncurredAt"),
    "external_id": ("ExternalId", "InvalidParameterValue.ExternalId"),
    "product": ("Product", "InvalidParameterValue"),
    "description": ("Description", "InvalidParameterValue"),
    "region": ("Region", "InvalidParameterValue"),
    "pay_mode": ("PayMode", "InvalidParameterValue.PayMode"),
    "instance_id": ("InstanceId", "InvalidParameterValue"),
}


def _charge(charge: dict, index: int, now) -> dict:
    try:
        return credit_services.usage_charge_check(
            customer_uin=charge["ClientUin"],
            amount=charge["Amount"],
            incurred_at=charge["IncurredAt"],
            external_id=charge["ExternalId"],
            product=charge["Product"],
            description=charge["Description"],
            source="api",
            region=charge["Region"],
            pay_mode=charge["PayMode"],
            instance_id=charge["InstanceId"],
            now=now,
        )
    except DomainError as exc:
        name, code = _CHARGE_FIELDS.get(exc.field or "", ("", exc.code))
        raise ApiError(code, f"`Charges.{index}.{name}`: {exc.message}" if name else exc.message) from exc


@action(
    summary=_("Report customers' usage charges (Partner Center extension): up to 1,000 per call, idempotent by "
    "ExternalId. The whole batch is checked before any charge is recorded, and recorded all or nothing."),
    writes=True,
    params=(
        Param("Charges", "objects", _("The charges."), required=True, minimum=1, maximum=USAGE_BATCH_MAX,
              range_code="InvalidParameterValue.Charges", items=CHARGE_PARAMS),
    ),
    response=(
        ("Accepted", "Integer", _("Charges recorded by this call.")),
        ("Duplicates", "Integer", _("Charges whose ExternalId was already recorded (not counted again).")),
    ),
    errors=(
        ("InvalidParameterValue.Charges", _("Charges is empty or holds more than 1,000 charges")),
        ("InvalidParameterValue.Amount", _("an Amount is not > 0 with at most 2 decimals")),
        ("InvalidParameterValue.IncurredAt", _("an IncurredAt is not ISO 8601 with a time zone, or lies before "
         "2000-01-01T00:00:00Z or more than one day ahead of the server's clock")),
        ("InvalidParameterValue.ExternalId", _("an ExternalId is blank, too long or repeated within the batch")),
        ("InvalidParameterValue.PayMode", _("a PayMode is neither prePay nor postPay")),
        ("FailedOperation.IdempotencyConflict", _("an ExternalId was recorded before for a different customer or amount")),
        UIN_NO_AUTH, INVALID_UIN, VIEWER,
    ),
    example={"Charges": [{"ClientUin": 100012345678, "Amount": "12.34", "IncurredAt": "2026-06-01T08:00:00+08:00",
                          "ExternalId": "bill-2026-06-01-0001", "Product": "CVM", "Description": "Instance hours",
                          "Region": "ap-singapore", "PayMode": "postPay", "InstanceId": "ins-1a2b3c4d"}]},
)
def ReportCustomerUsage(ctx: Context, params: dict) -> dict:
    now = timezone.now()
    charges = [_charge(charge, index, now) for index, charge in enumerate(params["Charges"])]
    seen: dict[str, int] = {}
    for index, charge in enumerate(charges):
        if charge["external_id"] in seen:
            raise ApiError(
                "InvalidParameterValue.ExternalId",
                gettext("`Charges.{index}.ExternalId` repeats Charges.{first}; each charge needs its own id.").format(
                    index=index, first=seen[charge["external_id"]]
                ),
            )
        seen[charge["external_id"]] = index
    # One set-based batch, all or nothing (so a retry of a failed batch is safe); the service names
    # the first UIN that is not one of the reseller's customers and locks customers in id order.
    result = credit_services.usage_charges_ingest(reseller=ctx.reseller, rows=charges)
    return {"Accepted": result.created, "Duplicates": result.replayed}


@action(
    summary=_("Freeze a customer (Type 2) or restore it (Type 0). A frozen customer can make no new purchase; for "
    "a reseller on the suspension-rule allowlist its pay-as-you-go services are suspended (unless it holds the "
    "non-stop privilege). Restoring needs available credit ≥ 0. Reseller and customer are notified."),
    writes=True,
    params=(
        Param("ClientUin", "uin", _("Customer UIN."), required=True),
        Param("Type", "int", _("2 freezes, 0 restores."), required=True, minimum=0, maximum=2,
              range_code="InvalidParameterValue.Type"),
    ),
    response=(
        ("C", "Integer", _("The customer's forced status now: 2 frozen, 0 normal (as Force in QueryCustomersCredit).")),
        ("M", "String", _("What happened, in words.")),
    ),
    errors=(
        ("InvalidParameterValue.Type", _("Type is not 0 or 2")),
        ("FailedOperation.CustomerOverdue", _("Type 0 while the customer's available credit is below zero")),
        UIN_NO_AUTH, INVALID_UIN, VIEWER,
    ),
    example={"ClientUin": 100012345678, "Type": 2},
    sdk_request="ForceQNRequest",
)
def ForceQN(ctx: Context, params: dict) -> dict:
    if params["Type"] not in (FORCE_FROZEN, FORCE_NORMAL):
        raise ApiError("InvalidParameterValue.Type", f"`Type` must be 2 (freeze) or 0 (restore); got {params['Type']}.")
    customer = _in_scope(ctx, [params["ClientUin"]])[params["ClientUin"]]
    change = customer_freeze if params["Type"] == FORCE_FROZEN else customer_unfreeze
    events = change(reseller=ctx.reseller, customer=customer, actor=ctx.user, actor_name=ctx.operator_name,
                    cause=StatusEvent.Cause.API)
    if params["Type"] == FORCE_FROZEN:
        message = "frozen" if events else "already frozen"
    else:
        message = "restored" if events else "not frozen"
    return {"C": params["Type"], "M": message}


@action(
    summary=_("Check a new purchase before taking the order (Partner Center extension): allowed, or the rule that "
    "refuses it. A purchase needs the customer neither frozen nor overdue, for PREPAID its available credit ≥ "
    "Amount, and the reseller's customer-credit pool not exhausted. Nothing is reserved."),
    params=(
        Param("ClientUin", "uin", _("Customer UIN."), required=True),
        Param("Amount", "amount", _("USD of the purchase, > 0, at most 2 decimals."), required=True),
        Param("PayMode", "str", _("PREPAID (paid from available credit now) or POSTPAID (pay-as-you-go)."),
              required=True, choices=PayMode.CHOICES, range_code="InvalidParameterValue.PayMode"),
    ),
    response=(
        ("Allowed", "Boolean", _("True when the purchase may go ahead.")),
        ("Code", "String", _("The rule that refused it, empty when allowed: FailedOperation.CustomerFrozen, "
         "FailedOperation.CustomerOverdue, FailedOperation.CustomerCreditInsufficient (PREPAID only) or "
         "FailedOperation.PoolExhausted.")),
        ("Message", "String", _("Why, in words; empty when allowed.")),
    ),
    errors=(
        ("InvalidParameterValue.CreditAmountOutOfRange", _("Amount is not > 0 with at most 2 decimals")),
        ("InvalidParameterValue.PayMode", _("PayMode is not PREPAID or POSTPAID")),
        UIN_NO_AUTH, INVALID_UIN,
    ),
    example={"ClientUin": 100012345678, "Amount": "120.00", "PayMode": "PREPAID"},
)
def CheckCustomerPurchase(ctx: Context, params: dict) -> dict:
    amount = parse_amount(params["Amount"], allow_negative=False)
    customer = _in_scope(ctx, [params["ClientUin"]])[params["ClientUin"]]
    answer = purchase_check(reseller=ctx.reseller, customer=customer, amount=amount, pay_mode=params["PayMode"])
    return {"Allowed": answer.allowed, "Code": answer.code, "Message": answer.message}


# Onboarding (DESIGN §7): invitations, pending customers, approval; and a customer's own quota.

INVITATION_STATUS = {Invitation.Status.UNUSED: 1, Invitation.Status.USED: 2, Invitation.Status.EXPIRED: 3,
                     Invitation.Status.REVOKED: 4}
CLIENT_TYPE = {Customer.IdentityType.PERSONAL: 1, Customer.IdentityType.ENTERPRISE: 2}
APPROVE_TYPES = ("pass", "accept", "reject")


def _onboarding_error(exc: DomainError, names: dict[str, str]) -> ApiError:
    """A service's refusal in the API's words: its field named as the parameter."""
    name = names.get(exc.field or "")
    return ApiError(exc.code, f"`{name}`: {exc.message}" if name else exc.message)


@action(
    summary=_("Invite a customer: e-mail it a single-use registration link (valid INVITATION_VALID_DAYS, 7 by "
    "default) and answer the link."),
    writes=True,
    params=(
        Param("Email", "str", _("E-mail address that receives the invitation link."), required=True, maximum=254),
        Param("InvitationRole", "str", _("The invited role: client (a customer)."), default="client",
              choices=tuple(Invitation.Role.values)),
        Param("MaterialUrl", "str", _("Optional link to application material, included in the e-mail (http or https)."),
              default="", maximum=500),
    ),
    response=(("InvitationLink", "String", _("The registration link e-mailed to the customer.")),),
    errors=(("InvalidParameterValue", _("Email is not an e-mail address, or MaterialUrl is not an http(s) address")),
            ("FailedOperation.SendMailFailed", _("the mail server refused the e-mail; nothing was written")), VIEWER),
    example={"Email": "billing@customer.example", "InvitationRole": "client", "MaterialUrl": ""},
    sdk_request="CreateAndSendClientInvitationMailRequest",
)
def CreateAndSendClientInvitationMail(ctx: Context, params: dict) -> dict:
    try:
        _, link = customer_services.invitation_create(
            reseller=ctx.reseller, email=params["Email"], actor=ctx.user, role=params["InvitationRole"],
            material_url=params["MaterialUrl"],
        )
    except DomainError as exc:
        raise _onboarding_error(exc, {"email": "Email", "role": "InvitationRole", "material_url": "MaterialUrl"}) from exc
    return {"InvitationLink": link}


@action(
    summary=_("Invitations by their tokens (the last part of InvitationLink): status 1 unused, 2 used, 3 expired, "
    "4 revoked (3 and 4 are Partner Center's), and the customer that registered through each. Tokens that are "
    "not your invitations' are left out."),
    params=(
        Param("InvitationToken", "str_list", _("Invitation tokens."), required=True, minimum=1, maximum=100,
              item_maximum=128, range_code="InvalidParameterValue.InvitationToken"),
    ),
    response=(("InvitationInfo", "Array of QueryInvitationInfoData",
               _("InvitationToken, CreateTime, Status, UseTime, ClientUin, ClientMail, ClientType (1 personal, "
               "2 enterprise), BindTime; the last five empty or 0 until the invitation is used or approved.")),),
    errors=(("InvalidParameterValue.InvitationToken", _("no token, or more than 100")),),
    example={"InvitationToken": ["the-token-from-the-link"]},
    sdk_request="QueryInvitationInfoRequest",
)
def QueryInvitationInfo(ctx: Context, params: dict) -> dict:
    tokens = {customer_services.token_digest(token): token for token in params["InvitationToken"]}
    found = selectors.invitations_by_digest(ctx.reseller, list(tokens))
    now = timezone.now()
    rows = []
    for digest, token in tokens.items():
        invitation = found.get(digest)
        if invitation is None:
            continue
        application = getattr(invitation, "application", None)
        customer = application.customer if application is not None else None
        rows.append({
            "InvitationToken": token,
            "CreateTime": _time(invitation.created_at, ctx.reseller),
            "Status": INVITATION_STATUS[invitation.status_at(now)],
            "UseTime": _time(invitation.used_at, ctx.reseller) if invitation.used_at else "",
            "ClientUin": application.uin if application is not None else 0,
            "ClientMail": application.email if application is not None else "",
            "ClientType": CLIENT_TYPE.get(application.identity_type, 0) if application is not None else 0,
            "BindTime": _time(customer.bound_at, ctx.reseller) if customer is not None else "",
        })
    return {"InvitationInfo": rows}


@action(
    summary=_("Customers that registered through your invitations and wait for your approval, newest first."),
    params=_page_params(),
    response=(
        ("Data", "Array of QueryPendingCustomersItem",
         _("ApplyTime, ClientUin, Email, Mobile, Name, Status (pending), Type (personal or enterprise).")),
        ("Total", "Integer", _("How many applications wait.")),
    ),
    errors=(PAGE_ERROR,),
    example={"Page": 1, "PageSize": 20},
    sdk_request="QueryPendingClientsV2Request",
)
def QueryPendingClientsV2(ctx: Context, params: dict) -> dict:
    pending = customer_selectors.pending_applications(reseller=ctx.reseller)
    start = (params["Page"] - 1) * params["PageSize"]
    rows = [
        {"ApplyTime": _time(a.applied_at, ctx.reseller), "ClientUin": a.uin, "Email": a.email, "Mobile": a.phone,
         "Name": a.name, "Status": a.status, "Type": a.identity_type}
        for a in pending[start : start + params["PageSize"]]
    ]
    return {"Data": rows, "Total": pending.count()}


@action(
    summary=_("Approve (ApproveType pass, or accept) or reject a pending customer. Approval binds it with 0.00 "
    "credit; a rejection e-mails RejectReason to the applicant."),
    writes=True,
    params=(
        Param("ClientUin", "uin", _("The pending customer's UIN."), required=True),
        Param("ApproveType", "str", _("pass (or accept) / reject."), required=True, choices=APPROVE_TYPES),
        Param("RejectReason", "str", _("Why; required to reject, e-mailed to the applicant."), default="", maximum=500),
    ),
    errors=(UIN_NO_AUTH, INVALID_UIN, VIEWER,
            ("FailedOperation.ApplicationAlreadyDecided", _("the application was already approved or rejected")),
            ("InvalidParameterValue", _("ApproveType is reject and RejectReason is empty")),
            ("FailedOperation.SendMailFailed", _("the rejection e-mail could not be sent; nothing was changed"))),
    example={"ClientUin": 100012345678, "ApproveType": "pass"},
    sdk_request="ApproveClientApplyRequest",
)
def ApproveClientApply(ctx: Context, params: dict) -> dict:
    try:
        if params["ApproveType"] == "reject":
            customer_services.application_reject(reseller=ctx.reseller, uin=params["ClientUin"],
                                                 reason=params["RejectReason"], actor=ctx.user)
        else:
            customer_services.application_approve(reseller=ctx.reseller, uin=params["ClientUin"], actor=ctx.user)
    except DomainError as exc:
        raise _onboarding_error(exc, {"reason": "RejectReason", "uin": "ClientUin"}) from exc
    return {}


@action(
    summary=_("A customer's own key: its credit (TotalCredit), what is left (RemainingCredit, below 0 when overdue), "
    "vouchers (0.00 until vouchers exist), Force (2 frozen, 0 normal) and frozen amounts (0.00). No other action "
    "answers a customer's key."),
    customer_key=True,
    params=(
        Param("EventId", "int", _("Tags the request; not used."), default=0, minimum=0, maximum=2**63 - 1),
        Param("ComponentName", "str", _("Source of the request; not used."), default="", maximum=100),
    ),
    response=(("Data", "QueryCustomerBillingQuotaData",
               _("TotalCredit, RemainingCredit, RemainingVoucher, Force, PrepayFrozen, PostpayFrozen.")),),
    errors=(("UnauthorizedOperation", _("the key is a reseller's, not a customer's")),),
    example={},
    sdk_request="QueryCustomerBillingQuotaRequest",
)
def QueryCustomerBillingQuota(ctx: Context, params: dict) -> dict:
    customer = Customer.objects.select_related("balance").get(pk=ctx.customer.pk)
    return {"Data": {
        "TotalCredit": money(customer.credit),
        "RemainingCredit": money(customer.available),
        "RemainingVoucher": money(Decimal("0.00")),
        "Force": FORCE_FROZEN if customer.frozen else FORCE_NORMAL,
        "PrepayFrozen": money(Decimal("0.00")),
        "PostpayFrozen": money(Decimal("0.00")),
    }}


def customer_actions() -> list[str]:
    return [name for name, spec in ACTIONS.items() if spec.customer_key]
# --- Bills (DESIGN §5, §8): computed from the usage charges' daily rollups -------------------------
# A month or a date is counted in the reseller's time zone, as the rollups' days are. Charges are
# recorded after vouchers and carry no transaction type or payment status: ActionType and
# IsConfirmed take only their "all" values, and the fields a charge does not know are empty.

MONTH_CODE = "InvalidParameterValue"
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
PAY_MODE_NAMES = {"prePay": "Yearly/monthly subscription", "postPay": "Pay-As-You-Go resources"}


def _month(value: str, name: str) -> tuple[date, date]:
    """The first and last day of a "YYYY-MM" month, or InvalidParameterValue naming the format."""
    match = _MONTH.match(value.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise ApiError(MONTH_CODE, f"`{name}` must be a month as YYYY-MM (such as 2026-01), from 2000-01; got {value!r}.")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _date(value: str, name: str) -> date:
    text = value.strip()
    try:
        if _DATE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ApiError(MONTH_CODE, f"`{name}` must be a date as YYYY-MM-DD (such as 2026-01-31); got {value!r}.")


def _all_only(params: dict) -> None:
    if params.get("ActionType"):
        raise ApiError("InvalidParameterValue", "`ActionType` must be empty: usage charges carry no transaction type.")
    if params.get("IsConfirmed") not in ("", "0"):
        raise ApiError("InvalidParameterValue",
                       "`IsConfirmed` must be 0 or empty (all): usage charges carry no payment status.")


def _cost(value, places: int = 8) -> str:
    return f"{value:.{places}f}"


BILL_CUSTOMER = Param("CustomerUin", "uin", _("Customer UIN."), required=True)
BILL_PAY_MODE = Param("PayMode", "str", _("prePay or postPay; empty for both."), default="",
                      choices=("", "prePay", "postPay"))
BILL_ACTION_TYPE = Param("ActionType", "str", _("Transaction type: only empty (all) is accepted."), default="", maximum=64)
BILL_CONFIRMED = Param("IsConfirmed", "str", _("Payment status: only 0 or empty (all) is accepted."), default="", maximum=1)
BILL_ERRORS = (("InvalidParameterValue", _("a month is not YYYY-MM, a date not YYYY-MM-DD, or ActionType / "
                "IsConfirmed is not its 'all' value")), UIN_NO_AUTH, INVALID_UIN)


@action(
    summary=_("A customer's total spend in a month (its usage charges, by the day they were incurred in your "
    "time zone), optionally of one pay mode."),
    params=(BILL_CUSTOMER, Param("Month", "str", _("Month as YYYY-MM."), required=True, maximum=7),
            BILL_PAY_MODE, BILL_ACTION_TYPE, BILL_CONFIRMED),
    response=(("TotalCost", "Float", _("Total spend in USD.")),),
    errors=BILL_ERRORS,
    example={"CustomerUin": 100012345678, "Month": "2026-01"},
    sdk_request="DescribeCustomerBillSummaryRequest",
)
def DescribeCustomerBillSummary(ctx: Context, params: dict) -> dict:
    first, last = _month(params["Month"], "Month")
    _all_only(params)
    customer = _in_scope(ctx, [params["CustomerUin"]])[params["CustomerUin"]]
    (_charges, total, _count), = credit_selectors.usage_totals(customer=customer, first=first, last=last, pay_mode=params["PayMode"])
    return {"TotalCost": money(total)}


@action(
    summary=_("A customer's total spend on one day (in your time zone)."),
    params=(BILL_CUSTOMER, Param("Date", "str", _("Day as YYYY-MM-DD."), required=True, maximum=10)),
    response=(("TotalCost", "String", _("Total spend in USD, 2 decimals.")),),
    errors=BILL_ERRORS,
    example={"CustomerUin": 100012345678, "Date": "2026-01-31"},
    sdk_request="DescribeCustomerBillDetailByDayRequest",
)
def DescribeCustomerBillDetailByDay(ctx: Context, params: dict) -> dict:
    day = _date(params["Date"], "Date")
    customer = _in_scope(ctx, [params["CustomerUin"]])[params["CustomerUin"]]
    (_charges, total, _count), = credit_selectors.usage_totals(customer=customer, first=day, last=day)
    return {"TotalCost": _cost(total, 2)}


def _bill_detail(charge, reseller: Reseller, customer: Customer) -> dict:
    empty = ("ProjectName", "AvailabilityZone", "InstanceName", "SubProductName", "TransactionType", "UsageEndTime",
             "ComponentType", "ComponentName", "ComponentListPrice", "ComponentPriceMeasurementUnit", "ComponentUsage",
             "ComponentUsageUnit", "UsageDuration", "DurationUnit", "OriginalCost", "DiscountRate",
             "TotalAmountAfterDiscount", "VoucherDeduction", "CustomerDiscountRate", "BusinessCode", "ProductCode",
             "ComponentCode", "ItemCode")
    return {
        "PayerAccountId": reseller.uin, "OwnerAccountId": customer.uin, "OperatorAccountId": customer.uin,
        "ProductName": charge.product, "BillingMode": PAY_MODE_NAMES[charge.pay_mode], "Region": charge.region,
        "InstanceId": charge.instance_id, "TransactionId": charge.external_id,
        "TransactionTime": _time(charge.created_at, reseller), "UsageStartTime": _time(charge.incurred_at, reseller),
        "TotalCost": _cost(charge.amount, 2), "Currency": "USD", "Id": str(charge.pk),
        **dict.fromkeys(empty, ""),
    }


@action(
    summary=_("A customer's usage charges of a month, newest first: the fields a charge knows (product, pay mode, "
    "region, instance, times, cost, its ExternalId as TransactionId); the others are empty strings."),
    params=(BILL_CUSTOMER, Param("Month", "str", _("Month as YYYY-MM."), required=True, maximum=7),
            Param("PageSize", "int", _("Entries per page."), default=20, minimum=1, maximum=200, range_code=PAGE_CODE),
            Param("Page", "int", _("Page number, from 1."), default=1, minimum=1, maximum=10**9, range_code=PAGE_CODE),
            BILL_PAY_MODE, BILL_ACTION_TYPE, BILL_CONFIRMED),
    response=(("Total", "Integer", _("Charges in the month (with the filters).")),
              ("DetailSet", "Array of BillDetailData", _("This page of them."))),
    errors=(*BILL_ERRORS, PAGE_ERROR),
    example={"CustomerUin": 100012345678, "Month": "2026-01", "Page": 1, "PageSize": 20},
    sdk_request="DescribeCustomerBillDetailRequest",
)
def DescribeCustomerBillDetail(ctx: Context, params: dict) -> dict:
    first, last = _month(params["Month"], "Month")
    _all_only(params)
    customer = _in_scope(ctx, [params["CustomerUin"]])[params["CustomerUin"]]
    # The count comes from the rollups (charges per day), the page from the charges' customer index.
    (_charges, _spend, total), = credit_selectors.usage_totals(customer=customer, first=first, last=last, pay_mode=params["PayMode"])
    zone = ctx.reseller.zone
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    offset = (params["Page"] - 1) * params["PageSize"]
    charges = credit_selectors.usage_charges(reseller=ctx.reseller, customer=customer, pay_mode=params["PayMode"]).filter(
        incurred_at__gte=start, incurred_at__lt=end)[offset : offset + params["PageSize"]] if offset < total else []
    return {"Total": total, "DetailSet": [_bill_detail(c, ctx.reseller, customer) for c in charges]}


BILL_MONTH_PARAMS = (Param("BillMonth", "str", _("Month as YYYY-MM."), required=True, maximum=7), BILL_CUSTOMER)


def _summary(ctx: Context, params: dict, group: str) -> list[tuple]:
    first, last = _month(params["BillMonth"], "BillMonth")
    customer = _in_scope(ctx, [params["CustomerUin"]])[params["CustomerUin"]]
    return credit_selectors.usage_totals(customer=customer, first=first, last=last, group=group)


@action(
    summary=_("A customer's spend in a month by product (OriginalCost and VoucherPayAmount are empty: charges are "
    "recorded after vouchers)."),
    params=BILL_MONTH_PARAMS,
    response=(("SummaryOverview", "Array of BusinessSummaryOverviewItem", _("One item per product.")),),
    errors=BILL_ERRORS,
    example={"BillMonth": "2026-01", "CustomerUin": 100012345678},
    sdk_request="DescribeBillSummaryByProductRequest",
)
def DescribeBillSummaryByProduct(ctx: Context, params: dict) -> dict:
    return {"SummaryOverview": [
        {"BusinessCode": product, "BusinessCodeName": product, "OriginalCost": "", "VoucherPayAmount": "",
         "TotalCost": _cost(total)} for product, total, _count in _summary(ctx, params, "product")]}


@action(
    summary=_("A customer's spend in a month by region (RegionId as the charges name it; empty for none)."),
    params=BILL_MONTH_PARAMS,
    response=(("SummaryOverview", "Array of RegionSummaryOverviewItem", _("One item per region.")),),
    errors=BILL_ERRORS,
    example={"BillMonth": "2026-01", "CustomerUin": 100012345678},
    sdk_request="DescribeBillSummaryByRegionRequest",
)
def DescribeBillSummaryByRegion(ctx: Context, params: dict) -> dict:
    return {"SummaryOverview": [
        {"RegionId": region, "RegionName": "", "OriginalCost": "", "VoucherPayAmount": "", "TotalCost": _cost(total)}
        for region, total, _count in _summary(ctx, params, "region")]}


@action(
    summary=_("A customer's spend in a month by pay mode (prePay, postPay); Detail is empty (charges carry no "
    "transaction type)."),
    params=BILL_MONTH_PARAMS,
    response=(("SummaryOverview", "Array of PayModeSummaryOverviewItem", _("One item per pay mode.")),),
    errors=BILL_ERRORS,
    example={"BillMonth": "2026-01", "CustomerUin": 100012345678},
    sdk_request="DescribeBillSummaryByPayModeRequest",
)
def DescribeBillSummaryByPayMode(ctx: Context, params: dict) -> dict:
    return {"SummaryOverview": [
        {"PayMode": mode, "PayModeName": PAY_MODE_NAMES[mode], "OriginalCost": "", "Detail": [],
         "VoucherPayAmount": "", "TotalCost": _cost(total)} for mode, total, _count in _summary(ctx, params, "pay_mode")]}


def run(action_: Action, ctx: Context, body: dict) -> dict:
    params = parse(action_.params, body)
    return action_.handler(ctx, params)
