"""Request parameters: declared once per action, checked before the action runs, and listed on the
API reference page from the same declarations.

Codes: an absent required parameter is MissingParameter, a name the action does not know is
UnknownParameter, a value of the wrong JSON type is InvalidParameter, and a well-typed value out of
range is the parameter's own code (InvalidParameterValue... or, for paging, InvalidParameter.Page)."""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext

from core.inputs import UIN_MAX, quoted, text_problem, uin_or_none, uin_rule

from .envelope import ApiError

# [0-9], not \d: \d also matches other scripts' digits, such as full-width "１２３".
_INTEGER_TEXT = re.compile(r"^[+-]?[0-9]{1,19}$")
_DECIMAL_TEXT = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
# A JSON number longer than this, or with a larger exponent, is no parameter's value (a UIN has 19
# digits, an amount 14 before its cents). Refused before int() or Decimal() ever sees it: Python's
# int() of a long digit string costs quadratic time, and a Decimal such as 1e100000000 costs
# seconds when written out.
JSON_NUMBER_MAX = 40
JSON_EXPONENT_MAX = 40


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "int", "uin", "str", "amount", "uin_list", "str_list", "objects"
    doc: str
    required: bool = False
    default: object = None
    minimum: int | None = None  # int value, str length or list length
    maximum: int | None = None
    range_code: str = "InvalidParameterValue"
    choices: tuple[str, ...] = ()
    items: tuple["Param", ...] = field(default=())  # for kind "objects"
    item_maximum: int | None = None  # for kind "str_list": each string's length

    @property
    def type_label(self) -> str:
        return {
            "int": "Integer",
            "uin": "Integer",
            "str": "String",
            # The type names are the API's contract (as in the SDK's models); only the note is translated.
            "amount": gettext("%(type)s (at most 2 decimals)") % {"type": "Float"},
            "uin_list": "Array of Integer",
            "str_list": "Array of String",
            "objects": "Array of Object",
        }[self.kind]

    @property
    def limits(self) -> str:
        """The allowed values in the current language (the reference page's Values column, and the
        range in an out-of-range message): the choices as they are sent, or a range of characters,
        items or numbers."""
        if self.choices:
            return " / ".join(self.choices)
        if self.kind == "str":
            unit = gettext("%(count)s characters")
        elif self.kind in ("uin_list", "str_list", "objects"):
            unit = gettext("%(count)s items")
        else:
            unit = "%(count)s"
        if self.minimum is not None and self.maximum is not None:
            return unit % {"count": f"{self.minimum}–{self.maximum}"}
        if self.maximum is not None:
            return gettext("at most %(limit)s") % {"limit": unit % {"count": self.maximum}}
        if self.minimum is not None:
            return gettext("at least %(limit)s") % {"limit": unit % {"count": self.minimum}}
        return ""


def _ill_typed(path: str, expected: str) -> ApiError:
    return ApiError("InvalidParameter", gettext("The parameter `%(path)s` must be %(expected)s.") % {"path": path, "expected": expected})


def _integer(value, path: str) -> int:
    # The SDK sends integers as JSON numbers; Tencent's gateway also takes them as digit strings.
    if isinstance(value, bool):
        raise _ill_typed(path, gettext("an integer"))
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER_TEXT.match(value.strip()):
        return int(value.strip())
    raise _ill_typed(path, gettext("an integer"))


def _uin(value, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _ill_typed(path, gettext("an integer"))
    uin = uin_or_none(value)
    if uin is None:
        raise ApiError(
            "InvalidParameterValue.InvalidUin",
            gettext("`%(path)s` must be a UIN (%(rule)s); %(value)s is not one.")
            % {"path": path, "rule": uin_rule(), "value": quoted(value)},
        )
    return uin


def _check_range(param: Param, measured: int, path: str, what: str) -> None:
    low, high = param.minimum, param.maximum
    if (low is not None and measured < low) or (high is not None and measured > high):
        template = (gettext("The length of `%(path)s` must be %(limits)s; got %(measured)s.") if what
                    else gettext("`%(path)s` must be %(limits)s; got %(measured)s."))
        raise ApiError(param.range_code, template % {"path": path, "limits": param.limits, "measured": measured})


def _value(param: Param, value, path: str):
    kind = param.kind
    if kind == "int":
        number = _integer(value, path)
        _check_range(param, number, path, "")
        return number
    if kind == "uin":
        return _uin(value, path)
    if kind == "str":
        if not isinstance(value, str):
            raise _ill_typed(path, gettext("a string"))
        problem = text_problem(value)
        if problem:
            message = gettext("`%(path)s` is refused: %(problem)s.") % {"path": path, "problem": problem}
            raise ApiError("InvalidParameterValue", message)
        if param.choices and value not in param.choices:
            raise ApiError(
                param.range_code,
                gettext("`%(path)s` must be one of %(choices)s; got %(value)s.")
                % {"path": path, "choices": ", ".join(param.choices), "value": repr(value)},
            )
        _check_range(param, len(value), path, "length")
        return value
    if kind == "amount":
        # Numbers arrive as Decimal (the body is parsed with parse_float=json_decimal), so 0.1 stays 0.1;
        # core.money.parse_amount then enforces the money rules.
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            raise _ill_typed(path, gettext("a number such as 100.00"))
        if isinstance(value, str) and not _DECIMAL_TEXT.match(value.strip()):
            raise _ill_typed(path, gettext("a number such as 100.00"))
        return value
    if kind == "uin_list":
        if not isinstance(value, list):
            raise _ill_typed(path, gettext("an array of UINs"))
        _check_range(param, len(value), path, "length")
        return [_uin(item, f"{path}.{index}") for index, item in enumerate(value)]
    if kind == "str_list":
        if not isinstance(value, list):
            raise _ill_typed(path, gettext("an array of strings"))
        _check_range(param, len(value), path, "length")
        item = Param(param.name, "str", param.doc, maximum=param.item_maximum)
        return [_value(item, entry, f"{path}.{index}") for index, entry in enumerate(value)]
    if kind == "objects":
        if not isinstance(value, list):
            raise _ill_typed(path, gettext("an array of objects"))
        _check_range(param, len(value), path, "length")
        return [parse(param.items, item, prefix=f"{path}.{index}.") for index, item in enumerate(value)]
    raise AssertionError(f"unknown parameter kind {kind}")


def _json_number_checked(text: str) -> str:
    exponent = text.lower().partition("e")[2]
    if len(text) > JSON_NUMBER_MAX or (exponent and abs(int(exponent)) > JSON_EXPONENT_MAX):
        raise ApiError(
            "InvalidParameterValue",
            gettext(
                "The number %(number)s is out of range: numbers have at most %(digits)d characters and an "
                "exponent between -%(exponent)d and %(exponent)d."
            )
            % {"number": quoted(text), "digits": JSON_NUMBER_MAX, "exponent": JSON_EXPONENT_MAX},
        )
    return text


def json_int(text: str) -> int:
    """json.loads' parse_int: an integer literal, refused when longer than JSON_NUMBER_MAX."""
    return int(_json_number_checked(text))


def json_decimal(text: str) -> Decimal:
    """json.loads' parse_float: a Decimal, so 0.1 stays 0.1 (core.money refuses floats), refused
    when longer than JSON_NUMBER_MAX or with an exponent beyond +-JSON_EXPONENT_MAX."""
    return Decimal(_json_number_checked(text))


_NAMES: dict[int, tuple[tuple[Param, ...], frozenset[str]]] = {}


def _names(schema: tuple[Param, ...]) -> frozenset[str]:
    """The parameter names of `schema`, kept per schema (the schemas are the actions' constants): a
    batch of 1,000 charges made the set 1,000 times, and hashing the schema costs more than that."""
    entry = _NAMES.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = _NAMES[id(schema)] = (schema, frozenset(param.name for param in schema))
    return entry[1]


def parse(schema: tuple[Param, ...], data, *, prefix: str = "") -> dict:
    """Check `data` against `schema` and return the typed values (defaults filled in). JSON null
    counts as absent, as the SDK never sends a parameter left as None."""
    if not isinstance(data, dict):
        message = (gettext("`%(path)s` must be a JSON object.") % {"path": prefix[:-1]} if prefix
                   else gettext("The request body must be a JSON object."))
        raise ApiError("InvalidParameter", message)
    known = _names(schema)
    if not known.issuperset(data):
        name = next(name for name in data if name not in known)
        raise ApiError("UnknownParameter", gettext("The parameter `%(path)s` is not recognized.") % {"path": f"{prefix}{name}"})
    values = {}
    for param in schema:
        raw = data.get(param.name)
        kind = type(raw)
        # What most values are, accepted here without the checks' calls (a batch of 1,000 charges has
        # 5,000 of them); anything else, refusals included, goes through _value.
        if kind is str and param.kind == "str":
            length = len(raw)
            if (raw.isascii() and "\x00" not in raw and not param.choices
                    and (param.minimum is None or length >= param.minimum)
                    and (param.maximum is None or length <= param.maximum)):
                values[param.name] = raw
                continue
        elif kind is int and param.kind == "uin" and 0 < raw <= UIN_MAX:
            values[param.name] = raw
            continue
        if raw is None:
            if param.required:
                raise ApiError(
                    "MissingParameter",
                    gettext("The request is missing the required parameter `%(path)s`.") % {"path": f"{prefix}{param.name}"},
                )
            values[param.name] = param.default
            continue
        values[param.name] = _value(param, raw, prefix + param.name)
    return values
