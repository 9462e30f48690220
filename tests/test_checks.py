import numpy as np
import pytest

from utils.checks import as_float_matrix, as_float_vector


def test_matrix_accepts_lists_and_makes_columns():
    assert as_float_matrix([1, 2, 3]).shape == (3, 1)
    assert as_float_matrix(np.ones((4, 2), dtype=np.uint8)).dtype == np.float64


@pytest.mark.parametrize(
    "values, error, message",
    [
        ([[1.0, np.nan]], ValueError, "NaN"),
        ([[1.0, np.inf]], ValueError, "inf"),
        (np.ones((2, 2, 2)), ValueError, "shape"),
        (np.ones((0, 3)), ValueError, "empty"),
        (["a", "b"], TypeError, "numbers"),
        ([True, False], TypeError, "numbers"),
        ([1 + 2j], TypeError, "real"),
    ],
)
def test_matrix_rejects_bad_input(values, error, message):
    with pytest.raises(error, match=message):
        as_float_matrix(values)


def test_matrix_rejects_constant_columns_when_asked():
    values = [[1.0, 5.0], [2.0, 5.0]]
    assert as_float_matrix(values).shape == (2, 2)
    with pytest.raises(ValueError, match=r"constant column\(s\) \[1\]"):
        as_float_matrix(values, allow_constant=False)


def test_vector_rejects_bad_input():
    with pytest.raises(ValueError, match="1-D"):
        as_float_vector([[1.0, 2.0]])
    with pytest.raises(ValueError, match="empty"):
        as_float_vector([])
    with pytest.raises(ValueError, match="NaN"):
        as_float_vector([np.nan])


def test_per_feature_repeats_scalars_and_checks_length():
    from utils.checks import per_feature

    assert per_feature([1.0, 2.0], 2, "scale").tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="one per feature"):
        per_feature([1.0, 2.0, 3.0], 2, "scale")
    with pytest.raises(ValueError, match="contains 0"):
        per_feature([1.0, 0.0], 2, "scale", nonzero=True)


def test_float_array_accepts_any_shape_and_rejects_bad_values():
    from utils.checks import as_float_array

    assert as_float_array(np.ones((2, 2, 2))).shape == (2, 2, 2)
    with pytest.raises(ValueError, match="empty"):
        as_float_array([])
    with pytest.raises(ValueError, match="NaN"):
        as_float_array([[np.nan]])
