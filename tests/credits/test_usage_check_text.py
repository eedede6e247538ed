"""usage_charge_check keeps and refuses a charge's text fields exactly as text_clean does (the
shared rule, whose ASCII text skips the encoding check), with the same messages."""

import pytest
from hypothesis import given, strategies as st

from core.errors import InvalidValue
from core.inputs import text_clean, text_problem
from credits.services import _check_text

TEXT = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.sampled_from(" \t\n\x00aZ9-_é\ud800\U0001f600"), max_size=12),
    st.none(),
    st.integers(),
)


def outcome(call):
    try:
        return ("kept", call())
    except InvalidValue as error:
        return ("refused", error.message, error.field, error.code)


@given(value=TEXT, limit=st.integers(min_value=0, max_value=8), required=st.booleans())
def test_the_shortcut_keeps_and_refuses_what_text_clean_does(value, limit, required):
    expected = outcome(lambda: text_clean(value, label="external id", limit=limit, field="external_id",
                                          required=required))
    assert outcome(lambda: _check_text(value, name="external_id", limit=limit, required=required)) == expected


@pytest.mark.parametrize("text, problem", [
    ("plain ascii", None),
    ("", None),
    ("a\x00b", "NUL"),
    ("caf\u00e9", None),
    ("\ud800", "surrogate"),
])
def test_text_problem_names_nul_and_lone_surrogates_only(text, problem):
    found = text_problem(text)
    assert (found is None) if problem is None else (problem in found)
