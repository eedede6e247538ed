"""Text longer than its column is refused, with the limit in the message, and nothing is written:
customer_create cut an over-long remark to 255 characters while remark_clean (the console and the
API) refused one; now both refuse it."""

import pytest

from core.errors import InvalidValue
from customers.models import Customer
from customers.services import REMARK_MAX, customer_create, customer_remark_update
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _create(reseller, **fields):
    return customer_create(reseller=reseller, **{"uin": 700000000001, "name": "Acme", **fields})


def test_an_over_long_remark_is_refused_by_customer_create_as_by_the_remark_update(reseller):
    with pytest.raises(InvalidValue) as created:
        _create(reseller, remark="x" * (REMARK_MAX + 1))
    with pytest.raises(InvalidValue) as updated:
        customer_remark_update(customer=CustomerFactory(reseller=reseller), remark="x" * (REMARK_MAX + 1))
    assert created.value.message == updated.value.message == "The remark is 256 characters long; it can be at most 255."
    assert created.value.code == "InvalidParameterValue.RemarkTooLong" and created.value.field == "remark"
    assert not Customer.objects.filter(uin=700000000001).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "n" * 201, "The customer's name is 201 characters long; it can be at most 200."),
        ("name", "   ", "The customer's name is required."),
        ("phone", "+" + "1" * 32, "The phone number is 33 characters long; it can be at most 32."),
        ("email", "a" * 250 + "@x.example", "The e-mail address is 260 characters long; it can be at most 254."),
        ("remark", "bad\x00remark", "The remark is refused: it contains a NUL character"),
    ],
)
def test_each_field_over_its_column_is_refused_and_nothing_is_written(reseller, field, value, message):
    with pytest.raises(InvalidValue) as refused:
        _create(reseller, **{field: value})
    assert refused.value.message.startswith(message) and refused.value.field == field
    assert not Customer.objects.exists()


def test_text_within_the_limits_is_stored_stripped(reseller):
    customer = _create(reseller, name="  Acme  ", remark=" " + "r" * REMARK_MAX + " ", phone=" +6580001111 ")
    customer.refresh_from_db()
    assert (customer.name, customer.remark, customer.phone) == ("Acme", "r" * REMARK_MAX, "+6580001111")
