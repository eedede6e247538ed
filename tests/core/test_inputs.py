import pytest
from hypothesis import given, strategies as st

from core.inputs import UIN_MAX, uin_prefix_ranges


def test_a_prefix_covers_every_length_a_uin_can_have():
    ranges = uin_prefix_ranges("20000000011")
    assert ranges[:3] == [(20000000011, 20000000011), (200000000110, 200000000119), (2000000001100, 2000000001199)]
    assert len(ranges) == 9  # 11 to 19 digits
    assert ranges[-1] == (2000000001100000000, 2000000001199999999)


def test_the_last_range_stops_at_the_largest_uin():
    assert uin_prefix_ranges("9")[-1] == (9 * 10**18, UIN_MAX)
    assert uin_prefix_ranges(str(UIN_MAX)) == [(UIN_MAX, UIN_MAX)]
    assert len(uin_prefix_ranges("1")) == 19


@pytest.mark.parametrize("value", ["", "0", "abc", "12a", "１２", "²", "9" * 20, str(UIN_MAX + 1), None, True])
def test_what_holds_no_uin_matches_no_uin(value):
    assert uin_prefix_ranges(value) == []


@given(st.one_of(st.text(max_size=12), st.sampled_from(["", " ", "CVM", " CVM", "CVM ", "a\x00b", "\t", "\x1f", "x\x85"])),
       st.integers(min_value=0, max_value=8), st.booleans())
def test_a_charges_text_is_what_text_clean_makes_of_it(value, limit, required):
    """credits.services._check_text is text_clean under the charge's field name: the same text, or
    the same refusal."""
    from core.errors import InvalidValue
    from core.inputs import text_clean
    from credits.services import _check_text

    def outcome(check):
        try:
            return check()
        except InvalidValue as error:
            return (error.message, error.field)

    assert outcome(lambda: _check_text(value, name="product", limit=limit, required=required)) == outcome(
        lambda: text_clean(value, label="product", limit=limit, field="product", required=required))


@given(st.one_of(st.text(max_size=12), st.sampled_from(["", "CVM", "CVM ", "a\x00b", "\t", "\x1f", "x\x85", "\x7f"])),
       st.integers(min_value=0, max_value=8), st.booleans())
def test_text_clean_takes_plain_text_as_its_general_path_does(value, limit, required):
    """text_clean takes plain ASCII text with nothing to strip as it is, without its general path:
    the same text, or the same refusal, as the same value behind a space (which the general path
    strips) gives."""
    from core.errors import InvalidValue
    from core.inputs import text_clean

    def outcome(text):
        try:
            return text_clean(text, label="product", limit=limit, field="product", required=required)
        except InvalidValue as error:
            return (error.message, error.field, error.code)

    assert outcome(value) == outcome(" " + value)
