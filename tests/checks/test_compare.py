"""The one relative-error formula and how mismatches and known-mistake hints are found."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.checks.compare import close, first_match, mismatch, relative_error, show

FLOOR = 1e-6


def test_relative_error_is_the_course_formula():
    got, expected = np.array([1.0, 0.0, 2.0]), np.array([1.5, 0.0, 2.0])
    assert relative_error(got, expected, FLOOR) == 0.5 / 2.5


def test_entries_zero_in_both_count_as_equal_and_tiny_ones_are_floored():
    assert relative_error(np.zeros(3), np.zeros(3), FLOOR) == 0.0
    assert relative_error(np.array([1e-9]), np.array([0.0]), FLOOR) == 1e-3


@settings(max_examples=50, derandomize=True, database=None)
@given(st.integers(1, 40), st.integers(0, 2**16))
def test_a_different_summation_order_is_far_inside_the_thresholds(n, seed):
    """Summing the same terms in another order (what a correct submission does) stays below 1e-10."""
    terms = np.random.default_rng(seed).standard_normal((n, 5)) * 10
    forward, backward = terms.sum(axis=0), terms[::-1].cumsum(axis=0)[-1]
    assert relative_error(forward, backward, FLOOR) < 1e-10


def test_mismatch_names_the_worst_entry_and_shows_small_arrays():
    found = mismatch("dW", np.array([[1.0, 2.0]]), np.array([[1.0, 3.0]]), 1e-6, FLOOR)
    assert found is not None and np.isclose(found.error, 0.2)
    assert "worst entry at [0, 1]: expected 3, got 2" in found.text
    assert "expected dW = [[1., 3.]]" in found.text
    assert mismatch("dW", np.ones(3), np.ones(3) + 1e-12, 1e-6, FLOOR) is None


def test_show_summarises_large_arrays():
    assert show(np.zeros((10, 10))).startswith("<float64 array of shape (10, 10)")


def test_first_match_returns_the_first_reproduced_mistake_and_builds_lazily():
    built = []

    def variant(value):
        return lambda: built.append(value) or np.full(2, value)

    got = np.array([2.0, 2.0])
    assert first_match(got, [("one", variant(1.0)), ("two", variant(2.0)), ("three", variant(3.0))], 1e-6, FLOOR) == "two"
    assert built == [1.0, 2.0]
    assert first_match(got, [("shape", lambda: np.ones(3))], 1e-6, FLOOR) == ""
    assert close(got, got + 1e-12, 1e-6, FLOOR)
