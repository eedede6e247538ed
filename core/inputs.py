"""Rules every input path shares (API parameters, console forms and filters, the CSV import,
services): how a UIN is read, which text can be stored at all, and how long text may be.

UINs are ASCII digits 0-9. `str.isdigit()` and `int()` also take other scripts' digits: full-width
"１２３" becomes 123, and superscript "²" passes isdigit() and then fails int(). One rule, here, so
that a UIN one path refuses is not accepted by another.

Text: PostgreSQL refuses NUL (U+0000) in a text column, and a lone surrogate (U+D800-U+DFFF, which
JSON's "\\ud800" escape can produce) cannot be encoded as UTF-8; either would fail the write."""

import re

from django.utils.translation import gettext

from core.errors import InvalidValue

# PostgreSQL's bigint, the UIN columns' type.
UIN_MAX = 2**63 - 1
# At most 19 significant digits, checked before int() so that a long digit string costs nothing.
_UIN_TEXT = re.compile(r"0*([0-9]{1,19})")


def uin_or_none(value) -> int | None:
    """The UIN `value` holds, or None when it holds none.

    A UIN is an int, or text of ASCII digits (white space around it ignored), from 1 to UIN_MAX."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        uin = value
    elif isinstance(value, str):
        match = _UIN_TEXT.fullmatch(value.strip())
        if match is None:
            return None
        uin = int(match.group(1))
    else:
        return None
    return uin if 0 < uin <= UIN_MAX else None


def uin_prefix_ranges(value) -> list[tuple[int, int]]:
    """The UINs that begin with the digits `value` holds, as inclusive (low, high) ranges, one per
    length a UIN can have: "2000" is 2000, 20000-20009, 200000-200099, ... up to UIN_MAX. Each is a
    range scan of the UIN's b-tree index, so a prefix search costs what an exact one does per
    range. Empty when `value` holds no UIN (the same reading as uin_or_none)."""
    prefix = uin_or_none(value)
    if prefix is None:
        return []
    ranges = []
    low, high = prefix, prefix
    while low <= UIN_MAX:
        ranges.append((low, min(high, UIN_MAX)))
        low, high = low * 10, high * 10 + 9
    return ranges


def uin_rule() -> str:
    """What a UIN is, for a refusal's message."""
    return gettext("a UIN is a positive integer of digits 0-9, at most %(max)s") % {"max": UIN_MAX}


def quoted(value) -> str:
    """A refused value for a message: its repr, cut short so that an answer stays small."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored, for a refusal's message, or None when it can."""
    if "\x00" in text:
        return gettext("it contains a NUL character (\\u0000), which cannot be stored")
    if text.isascii():
        # No surrogate in ASCII text (most of what arrives); isascii() reads a flag, encode() copies.
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return gettext("it contains a lone surrogate (\\ud800-\\udfff), which is not a character")
    return None


def text_clean(
    value, *, label: str, limit: int, field: str | None = None, required: bool = False,
    too_long_code: str = InvalidValue.code,
) -> str:
    """`value` as text without surrounding white space, or InvalidValue saying why it cannot be kept:
    it holds a character that cannot be stored, it is empty when `required`, or it is longer than
    `limit`. Over-long text is refused with the limit in the message, never cut short: a value one
    path refuses is not stored cut by another. `label` names the value in the message ("remark")."""
    if (type(value) is str and value.isascii() and len(value) <= limit and "\x00" not in value
            and (value[0] > " " and value[-1] > " " if value else not required)):
        # What nearly all text is (ASCII, no NUL, nothing to strip, short enough), taken as it is: a
        # usage batch checks five texts a charge, and this is a third of what the general path costs.
        return value
    text = "" if value is None else str(value).strip()
    problem = text_problem(text)
    if problem:
        raise InvalidValue(
            gettext("The %(label)s is refused: %(problem)s.") % {"label": label, "problem": problem}, field=field
        )
    if required and not text:
        raise InvalidValue(gettext("The %(label)s is required.") % {"label": label}, field=field)
    if len(text) > limit:
        raise InvalidValue(
            gettext("The %(label)s is %(length)d characters long; it can be at most %(limit)d.")
            % {"label": label, "length": len(text), "limit": limit},
            code=too_long_code,
            field=field,
        )
    return text
