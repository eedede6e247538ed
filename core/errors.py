"""One family of domain errors. Each carries a stable code (the Tencent Cloud error code where
DESIGN.md names one), a message a person can act on, and optionally the form field it concerns."""

from django.utils.translation import gettext


class DomainError(Exception):
    code = "FailedOperation"
    field: str | None = None

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if field is not None:
            self.field = field

    def __str__(self) -> str:
        return self.message

    def add_to(self, form) -> None:
        """Show the refusal in a Django form: beside its field when the form has it, else on top."""
        form.add_error(self.field if self.field in form.fields else None, self.message)


class InvalidAmount(DomainError):
    code = "InvalidParameterValue.CreditAmountOutOfRange"
    field = "amount"


class InsufficientPoolBalance(DomainError):
    code = "FailedOperation.BalanceInsufficient"
    field = "amount"


class RepossessTooMuch(DomainError):
    code = "InvalidParameterValue.CreditAmountOutOfRange"
    field = "amount"


class IdempotencyConflict(DomainError):
    code = "FailedOperation.IdempotencyConflict"


class NotFound(DomainError):
    code = "ResourceNotFound"


class CustomerNotBound(NotFound):
    """A customer UIN that is not one of the reseller's customers, whether it belongs to another
    reseller or to nobody: the answer does not tell the two apart (DESIGN §5)."""

    code = "UnauthorizedOperation.UinNoAuth"

    def __init__(self, uin: int | None = None, *, field: str | None = None):
        if uin is None:
            message = gettext("This customer does not exist or is not bound to your account.")
        else:
            message = gettext("Customer %(uin)s does not exist or is not bound to your account.") % {"uin": uin}
        super().__init__(message, field=field)
        self.uin = uin


class NotPermitted(DomainError):
    code = "UnauthorizedOperation"


class InvalidValue(DomainError):
    code = "InvalidParameterValue"
