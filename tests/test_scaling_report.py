"""utils.scaling_report: each rule on crafted columns at both sides of its threshold, bad input, the CLI,
and the reasons' labels (each must exist in the chapter file the module links to)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from utils import scaling_report as sr
from utils.scaling_report import scaling_report

ROOT = Path(__file__).resolve().parent.parent
N = 2000
NORMAL = stats.norm.ppf((np.arange(N) + 0.5) / N)  # deterministic standard-normal sample
NORMAL = (NORMAL - NORMAL.mean()) / NORMAL.std()  # exactly mean 0, std 1


def report_of(column: np.ndarray, **kwargs) -> pd.Series:
    """The report row of ``column`` next to two reference features of std 1 (so the median std is 1)."""
    table = pd.DataFrame({"tested": column, "ref a": NORMAL, "ref b": NORMAL[::-1].copy()})
    return scaling_report(table, **kwargs).loc["tested"]


def first(row: pd.Series) -> str:
    return row["advice"].split(" | ")[0]


# --- measurements agree with numpy / scipy -------------------------------------------------------------------
def test_measurements_match_numpy_and_scipy():
    generator = np.random.default_rng(1)
    data = np.column_stack([generator.normal(3, 2, 500), generator.exponential(size=500), generator.integers(0, 4, 500)])
    data[:7, 0] = np.nan
    data[3, 1] = np.inf
    report = scaling_report(data)
    for j in range(3):
        finite = data[np.isfinite(data[:, j]), j]
        row = report.iloc[j]
        assert row["n"] == len(finite) and row["NaN"] == np.isnan(data[:, j]).sum() and row["inf"] == np.isinf(data[:, j]).sum()
        assert np.isclose(row["mean"], finite.mean()) and np.isclose(row["std"], finite.std())
        assert np.isclose(row["skewness"], stats.skew(finite))
        assert np.isclose(row["median"], np.median(finite))
        assert np.isclose(row["IQR"], np.subtract(*np.percentile(finite, [75, 25])))
        assert row["distinct"] == len(np.unique(finite)) and row["min"] == finite.min() and row["max"] == finite.max()
        assert np.isclose(row["zero share"], (finite == 0).mean())


# --- one test per rule, both sides of its threshold ---------------------------------------------------------
def test_large_offset_rule_at_the_float32_spacing_cut():
    # float32 spacing is 2**-10 (just below 1e-3) in [8192, 16384) and 2**-9 in [16384, 32768).
    below, above = report_of(10_000 + NORMAL), report_of(20_000 + NORMAL)
    assert below["spacing / std"] < sr.OFFSET_SPACING_RATIO < above["spacing / std"]
    assert first(above) == "subtract a reference in float64 before casting, then standardize"
    assert "subtract a reference" not in below["advice"]
    assert "large-offsets" in above["links"]


def test_eight_bit_rule_needs_integers_in_0_255_and_uint8():
    pixels = np.tile(np.arange(256), 8)
    as_uint8 = scaling_report(pd.DataFrame({"a": pixels.astype(np.uint8), "b": pixels[::-1].astype(np.uint8)}))
    assert as_uint8["8-bit integers"].all() and "/255" not in as_uint8["advice"].str.cat()  # a table, not pixels
    images = scaling_report(np.tile(np.arange(256, dtype=np.uint8), (4, 1)).reshape(4, 16, 16), images=True)
    assert first(images.iloc[0]) == "/255"
    as_int16 = scaling_report(pd.DataFrame({"a": np.append(pixels, 256).astype(np.int16), "b": np.append(pixels, 0)}))
    assert not as_int16.loc["a", "8-bit integers"] and as_int16.loc["b", "8-bit integers"]
    assert "/255" not in as_int16["advice"].str.cat()  # integers stored as int16 are not declared pixels
    fractional = pixels.astype(float)
    fractional[5] = 4.5
    assert not scaling_report(fractional[:, None])["8-bit integers"].iloc[0]


def sparse_column(zero_share: float) -> np.ndarray:
    column = np.tile([1.0, 2.0, 3.0, 4.0], N // 4)
    column[: int(round(zero_share * N))] = 0.0
    return column


def test_sparse_rule_at_the_zero_share_cut():
    above, below = report_of(sparse_column(sr.SPARSE_ZERO_SHARE + 0.02)), report_of(sparse_column(sr.SPARSE_ZERO_SHARE - 0.02))
    assert first(above) == "MaxAbsScaler; do not center"
    assert "MaxAbsScaler" not in below["advice"]
    negative = report_of(-sparse_column(sr.SPARSE_ZERO_SHARE + 0.02))  # zeros, but not counts
    assert "MaxAbsScaler" not in negative["advice"]


def gamma_column(shape: float, shift: float = 0.0) -> np.ndarray:
    column = stats.gamma.ppf((np.arange(N) + 0.5) / N, shape)  # skewness 2 / sqrt(shape)
    return column / column.std() + shift


def test_skew_rule_at_the_skewness_cut():
    skewed, mild = report_of(gamma_column(2.5)), report_of(gamma_column(6.0))
    assert skewed["skewness inside cut"] > sr.SKEW_CUT > mild["skewness inside cut"]
    assert first(skewed) == "log, then standardize" and "log" not in mild["advice"]
    negative = report_of(gamma_column(2.5, shift=-5.0))
    assert first(negative) == "a power transform (Yeo-Johnson), then standardize"
    assert first(report_of(-gamma_column(2.5))).startswith("a power transform")  # left skew counts too


ROBUST = f"RobustScaler, then clip to ±{sr.OUTLIER_CUT:g} (if the extremes are errors)"


def test_outlier_share_at_the_robust_cut():
    iqr = np.subtract(*np.percentile(NORMAL, [75, 25]))
    outside, inside = NORMAL.copy(), NORMAL.copy()
    outside[0] = (sr.OUTLIER_CUT + 0.5) * iqr
    inside[0] = (sr.OUTLIER_CUT - 0.5) * iqr
    outside_row, inside_row = report_of(outside), report_of(inside)
    assert outside_row["outlier share"] == pytest.approx(1 / N) and inside_row["outlier share"] == 0
    assert first(outside_row) == first(inside_row) == "none needed"  # one value past 5 IQR is not gross


def test_outlier_rule_at_the_gross_cut():
    iqr = np.subtract(*np.percentile(NORMAL, [75, 25]))
    median = np.median(NORMAL)
    gross, fair = NORMAL.copy(), NORMAL.copy()
    gross[0], fair[0] = median + (sr.GROSS_CUT + 0.5) * iqr, median + (sr.GROSS_CUT - 0.5) * iqr
    gross_row, fair_row = report_of(gross), report_of(fair)
    assert fair_row["extremity"] < sr.GROSS_CUT < gross_row["extremity"]
    assert first(gross_row) == ROBUST and first(fair_row) == "none needed"


@pytest.mark.parametrize("n", [1000, 10_000])
def test_heavy_tails_do_not_trigger_the_outlier_rule_as_n_grows(n):
    probabilities = (np.arange(n) + 0.5) / n  # deterministic quantiles: a Laplace and a Student t(3) column
    table = pd.DataFrame({"laplace": stats.laplace.ppf(probabilities), "t3": stats.t.ppf(probabilities, 3)})
    assert not sr.first_advice(scaling_report(table)).str.startswith("RobustScaler").any()
    # A heavy outlier makes the moment skewness large, but the body is symmetric: outliers, not skew.
    far = NORMAL.copy()
    far[:20] = 800.0
    far_row = report_of(far)
    assert far_row["skewness"] > 5 and abs(far_row["skewness inside cut"]) < sr.SKEW_CUT
    assert first(far_row) == ROBUST


def test_scale_ratio_rule_both_ways():
    for factor, expected in [(sr.SCALE_RATIO * 1.05, "StandardScaler"), (sr.SCALE_RATIO * 0.95, "none needed")]:
        assert first(report_of(factor * NORMAL)) == expected
        assert first(report_of(NORMAL / factor)) == expected
    tiny = report_of(NORMAL / (sr.SCALE_RATIO * 1.05))
    assert "weight decay by cross-validation" in tiny["advice"] and "upscaled-noise" in tiny["links"]
    assert "weight decay" not in report_of(NORMAL / (sr.SCALE_RATIO * 0.95))["advice"]


def test_centering_rule_at_the_cut():
    assert first(report_of(NORMAL + 1.05 * sr.CENTER_CUT)) == "StandardScaler (it is far from centered)"
    assert first(report_of(NORMAL + 0.95 * sr.CENTER_CUT)) == "none needed"


def test_float16_overflow_note_images_at_two_squares():
    largest_fitting = np.sqrt(sr.FLOAT16_MAX / sr.SUM_TERMS)  # about 181
    images_over, images_under = np.zeros((4, 2, 2)), np.zeros((4, 2, 2))
    images_over[0, 0, 0], images_under[0, 0, 0] = largest_fitting * 1.01, largest_fitting * 0.99
    images_over[1, 1, 1] = images_under[1, 1, 1] = 1.0
    over = scaling_report(images_over, images=True).iloc[0]
    under = scaling_report(images_under, images=True).iloc[0]
    assert over["float16 sum of squares overflows"] and not under["float16 sum of squares overflows"]
    assert "float16" in over["advice"] and "float16" not in under["advice"]
    with np.errstate(over="ignore"):  # the note is true in float16
        assert np.isinf(np.float16(images_over[0, 0, 0]) ** 2 + np.float16(images_over[0, 0, 0]) ** 2)


def test_float16_overflow_note_tables_over_n_squares():
    # A table's sum of squares runs over its n rows: n (mean^2 + std^2) against float16's maximum.
    n = 1000
    edge = np.sqrt(sr.FLOAT16_MAX / n)  # about 8.1: a constant-magnitude column of +-edge sums to the maximum
    signs = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    over = scaling_report(pd.DataFrame({"a": 1.02 * edge * signs})).iloc[0]
    under = scaling_report(pd.DataFrame({"a": 0.98 * edge * signs})).iloc[0]
    assert over["float16 sum of squares overflows"] and not under["float16 sum of squares overflows"]
    with np.errstate(over="ignore"):
        assert np.isinf(np.sum(np.float16(1.02 * edge * signs) ** 2, dtype=np.float16))


def test_test_data_outside_the_training_range():
    train = np.column_stack([NORMAL, NORMAL, NORMAL])
    new = np.column_stack([NORMAL[:100] * 0.5, NORMAL[:100] * 0.5, NORMAL[:100] * 0.5])
    new[0, 1] = NORMAL.max() + 1  # 1 of 100 outside: what i.i.d. data give now and then
    new[:10, 2] = NORMAL.max() + 1  # 10 of 100: far beyond 2 / (n + 1)
    report = scaling_report(train, test=new)
    assert report["test outside train range"].tolist() == [0.0, 0.01, 0.1]
    assert np.allclose(report["expected outside share (i.i.d.)"], 2 / (N + 1))
    assert report["outside beyond i.i.d."].tolist() == [False, False, True]
    assert ["min-max output leaves" in advice for advice in report["advice"]] == [False, False, True]
    with pytest.raises(ValueError, match="layout"):
        scaling_report(train, test=new[:, :1])


def test_constant_and_nonfinite_columns_are_reported():
    data = np.column_stack([np.ones(10), NORMAL[:10], np.full(10, np.nan)])
    data[2, 1], data[3, 1] = np.nan, -np.inf
    report = scaling_report(data, names=["one", "some missing", "all missing"])
    assert report.loc["one", "advice"].startswith("constant")
    assert report.loc["some missing", ["n", "NaN", "inf"]].tolist() == [8, 1, 1]
    assert report.loc["some missing", "advice"].startswith("impute or drop the 1 NaN and 1 inf")
    assert "0 finite value(s)" in report.loc["all missing", "advice"]


# --- images -------------------------------------------------------------------------------------------------
def test_rare_pixels_below_the_sigma_floor():
    images = np.zeros((100, 2, 2), dtype=np.uint8)
    images[::2, 0, 0] = 2 * (sr.SIGMA_FLOOR_LEVELS - 1)  # alternating 0 / v: sigma = v / 2, just under the floor
    images[::2, 1, 1] = 2 * (sr.SIGMA_FLOOR_LEVELS + 1)  # just over it
    row = scaling_report(images, images=True).iloc[0]
    assert row["rare pixels"] == 1 and row["rare pixel share"] == 0.5
    assert row["smallest pixel std"] == sr.SIGMA_FLOOR_LEVELS - 1 and row["suggested std floor"] == sr.SIGMA_FLOOR_LEVELS
    assert first(row) == "/255" and "floor each pixel's std at 10" in row["advice"]
    unit = scaling_report(images.astype(np.float64) / 255, images=True).iloc[0]  # images in [0, 1]: a level is 1/255
    assert unit["rare pixels"] == 1 and np.isclose(unit["suggested std floor"], sr.SIGMA_FLOOR_LEVELS / 255)
    wide = scaling_report(images.astype(np.float64) * 300, images=True).iloc[0]  # other float images: 1/255 of the range
    assert np.isclose(wide["suggested std floor"], sr.SIGMA_FLOOR_LEVELS * wide["range"] / 255)


def test_image_channels_and_dtypes():
    generator = np.random.default_rng(0)
    colour = generator.integers(0, 256, (20, 4, 4, 3)).astype(np.uint8)
    report = scaling_report(colour, names=["red", "green", "blue"], images=True)
    assert list(report.index) == ["red", "green", "blue"] and (report["n"] == 20 * 16).all()
    assert (report["advice"].str.split(" | ", regex=False).str[0] == "/255").all()
    sixteen = scaling_report(colour.astype(np.uint16) * 257, images=True)
    assert sixteen["advice"].str.startswith("divide by 65,535").all()


@pytest.mark.parametrize("bad, error, message", [
    (np.zeros((0, 3)), ValueError, "empty"),
    (np.zeros((3, 0)), ValueError, "empty"),
    (np.arange(5.0), ValueError, "reshape"),
    (np.zeros((1, 3)), ValueError, "single row"),
    (np.zeros((2, 2, 2, 2, 2)), ValueError, "shape"),
    (np.zeros((3, 3, 8, 8)), ValueError, "channels"),  # channels first
    (np.zeros((1, 4, 4), dtype=np.uint8), ValueError, "at least 2 images"),
    (np.ones((3, 4, 4), dtype=bool), TypeError, "boolean"),
    (np.array([["a", "b"], ["c", "d"]]), TypeError, "dtype"),
    (np.array([[1, None], [2, 3]], dtype=object), TypeError, "dtype"),
    (np.ones((3, 2), dtype=complex), TypeError, "complex"),
    (pd.DataFrame({"size": [1.0, 2.0], "colour": ["red", "blue"]}), TypeError, "colour"),
    (pd.Series([1.0, 2.0]), ValueError, "Series"),
])
def test_bad_input_gets_a_clear_error(bad, error, message):
    with pytest.raises(error, match=message):
        scaling_report(bad, images=np.ndim(bad) in (3, 4) and not isinstance(bad, pd.DataFrame))


def test_bad_names():
    with pytest.raises(ValueError, match="names"):
        scaling_report(np.zeros((3, 2)), names=["a"])
    with pytest.raises(ValueError, match="names"):
        scaling_report(np.zeros((3, 2)), names=["a", "a"])


# --- the reasons: labels that exist, links on the book's site -----------------------------------------------
def label_headings(path: Path) -> dict[str, str]:
    """Label -> the heading right after ``(label)=`` in a chapter's markdown cells."""
    found = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for label, heading in re.findall(r"^\(([\w-]+)\)=\n#+ (.+)$", cell.source, flags=re.M):
                found[label] = heading.strip()
    return found


@pytest.mark.parametrize("label", sorted(sr.SECTIONS))
def test_every_reason_label_exists_in_its_chapter_above_its_title(label):
    page, title = sr.SECTIONS[label]
    path = ROOT / f"{page}.ipynb"
    assert path.is_file(), f"{label}: {page} is not a chapter file (renamed? update SECTIONS)"
    headings = label_headings(path)
    assert label in headings, f"label {label!r} is not defined in {page} (moved? update SECTIONS)"
    assert headings[label] == title


def test_links_point_to_the_site_and_toc():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert sr.SITE_URL == config["html"]["baseurl"]
    toc = (ROOT / "_toc.yml").read_text()
    for page, _ in sr.SECTIONS.values():
        assert f"file: {page}\n" in toc
    assert sr.section_url("large-offsets") == f"{sr.SITE_URL}{sr.SECTIONS['large-offsets'][0]}.html#large-offsets"


def test_every_label_the_rules_use_is_mapped():
    source = Path(sr.__file__).read_text()
    used = set(re.findall(r'Advice\([^()]*(?:\([^()]*\)[^()]*)*,\s*"([\w-]+)"\)', source, flags=re.S))
    assert used and used <= set(sr.SECTIONS), used - set(sr.SECTIONS)


# --- command line -------------------------------------------------------------------------------------------
def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "utils.scaling_report", *arguments], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_cli_prints_the_report(tmp_path):
    table = pd.DataFrame({"id": np.arange(N), "time": 1.7e9 + np.arange(N) + np.arange(N) % 3, "size": NORMAL * 1e4, "ok": NORMAL,
                          "a": NORMAL[::-1], "b": -NORMAL})
    table.to_csv(tmp_path / "table.csv", index=False)
    table.iloc[:50].assign(ok=NORMAL[:50] + 10).to_csv(tmp_path / "new.csv", index=False)
    done = run_cli(str(tmp_path / "table.csv"), "--drop", "id", "--test", str(tmp_path / "new.csv"))
    assert done.returncode == 0, done.stderr
    assert "time: subtract a reference in float64 before casting" in done.stdout
    assert "size: StandardScaler" in done.stdout and "test outside train range" in done.stdout
    assert sr.section_url("large-offsets") in done.stdout and "measuring 5 columns" in done.stderr


def test_cli_bad_input_is_an_error_message_not_a_traceback(tmp_path):
    pd.DataFrame({"size": [1.0, 2.0, 3.0], "colour": ["red", "blue", "red"]}).to_csv(tmp_path / "mixed.csv", index=False)
    (tmp_path / "empty.csv").write_text("")
    for arguments, message in [((str(tmp_path / "mixed.csv"),), "colour"), ((str(tmp_path / "empty.csv"),), "error"),
                               ((str(tmp_path / "missing.csv"),), "error")]:
        done = run_cli(*arguments)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert run_cli(str(tmp_path / "mixed.csv"), "--drop", "colour").returncode == 0


def test_pandas_missing_values_are_counted_as_nan():
    table = pd.DataFrame({"count": pd.array([1, None, 3, 4], dtype="Int64"), "size": [1.0, 2.0, np.nan, 4.0]})
    report = scaling_report(table)
    assert report["NaN"].tolist() == [1, 1] and report["n"].tolist() == [3, 3]


# --- referee's crafted tables (issue 24b) ---------------------------------------------------------------------
@pytest.mark.parametrize("ones", [0.8, 0.9, 0.95])
def test_binary_column_never_gets_a_log(ones):
    column = (np.arange(N) < ones * N).astype(float)
    row = report_of(column)
    assert "log" not in row["advice"] and np.isfinite(row["outlier share"])


def test_skewed_count_with_zeros_gets_log1p():
    column = np.floor(gamma_column(1.0) * 3)  # a right-skewed count, about 30 % zeros
    row = report_of(column)
    assert 0.2 < row["zero share"] < sr.SPARSE_ZERO_SHARE and row["skewness inside cut"] > sr.SKEW_CUT
    assert first(row) == "log1p, then standardize"
    assert first(report_of(gamma_column(2.5) + 0.5)) == "log, then standardize"  # min > 0


def test_negative_skew_with_nonnegative_values_gets_yeo_johnson():
    column = 10 - gamma_column(2.5)
    assert column.min() >= 0
    row = report_of(column)
    assert row["skewness inside cut"] < -sr.SKEW_CUT
    assert first(row) == "a power transform (Yeo-Johnson), then standardize"


def test_test_columns_are_matched_by_name_and_one_row_is_enough():
    train = pd.DataFrame({"a": NORMAL, "b": 100 + NORMAL})
    new = pd.DataFrame({"b": [100.0], "a": [0.0]})  # swapped order, one row
    report = scaling_report(train, test=new)
    assert report["test outside train range"].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match=r"missing \['b'\], extra \['c'\]"):
        scaling_report(train, test=pd.DataFrame({"a": [0.0], "c": [1.0]}))


@pytest.mark.parametrize("table", [
    pd.DataFrame({"a": 3000 * NORMAL, "b": 3000 * NORMAL[::-1]}),
    pd.DataFrame({"a": 3000 * NORMAL}),
    pd.DataFrame({"a": 1e-4 * NORMAL}),
])
def test_absolute_scale_rule(table):
    assert (sr.first_advice(scaling_report(table)) == "StandardScaler (its scale is far from 1)").all()


def test_absolute_scale_rule_at_its_edges():
    low, high = sr.ABSOLUTE_SCALE
    assert sr.first_advice(scaling_report(pd.DataFrame({"a": 1.05 * low * NORMAL}))).iloc[0] == "none needed"
    assert sr.first_advice(scaling_report(pd.DataFrame({"a": 0.95 * low * NORMAL}))).iloc[0].startswith("StandardScaler")
    assert sr.first_advice(scaling_report(pd.DataFrame({"a": 0.95 * high * NORMAL}))).iloc[0] == "none needed"
    assert sr.first_advice(scaling_report(pd.DataFrame({"a": 1.05 * high * NORMAL}))).iloc[0].startswith("StandardScaler")


def test_id_and_categorical_notes():
    assert "an ID?" in report_of(np.arange(N, dtype=float))["advice"]
    assert "an ID?" not in report_of(np.arange(N, dtype=float) ** 2)["advice"]  # uneven
    codes = np.tile(np.arange(5.0), N // 5)
    assert "categorical?" in report_of(codes)["advice"]
    assert "categorical?" not in report_of(np.tile(np.arange(11.0), N // 11 + 1)[:N])["advice"]
    assert "categorical?" not in report_of(codes + 0.5)["advice"]  # not integers


def test_ties_report_an_outlier_share_not_nan():
    column = np.zeros(N)
    column[:10] = 50.0
    row = report_of(column)
    assert row["IQR"] == 0 and row["outlier share"] == pytest.approx(10 / N)
    assert "IQR is 0" in row["advice"] and "RobustScaler" not in row["advice"]


# --- review 9 (must-fix 1-9 and should-fix): each test failed before its fix ---------------------------------
@pytest.mark.parametrize("shape", [(200, 48, 3), (200, 48, 7), (200, 48, 3, 1)])
def test_three_and_four_d_arrays_need_images_true(shape):
    series = np.random.default_rng(0).normal(size=shape)  # e.g. (N, T, F): temperature, pressure, humidity
    with pytest.raises(ValueError, match=r"images=True.*\(N, T, F\)"):
        scaling_report(series)
    with pytest.raises(ValueError, match="images=True needs"):
        scaling_report(np.zeros((5, 3)), images=True)


@pytest.mark.parametrize("dtype", [np.uint16, np.int32])
def test_twelve_bit_images_divide_by_4095_not_the_dtype_maximum(dtype):
    images = np.tile(np.arange(4096), 4).reshape(16, 32, 32).astype(dtype)
    row = scaling_report(images, images=True).iloc[0]
    assert first(row).startswith("divide by 4,095 (12-bit values")
    scaled_std = row["std"] / 4095
    assert sr.ABSOLUTE_SCALE[0] <= scaled_std <= sr.ABSOLUTE_SCALE[1]  # the module's own rule holds after it
    full = scaling_report(np.append(images.ravel()[:-1], 65535).reshape(images.shape).astype(np.uint16), images=True)
    assert first(full.iloc[0]).startswith("divide by 65,535 (the dtype's maximum")


def test_log_advice_only_where_the_log_removes_the_skew():
    offset = 1000 + gamma_column(1.0)  # 1000 + Exp(1): skewed, but log(x) is as skewed as x
    row = report_of(offset)
    assert row["skewness inside cut"] > sr.SKEW_CUT and abs(row["skewness after log"]) > sr.SKEW_CUT
    assert first(row) == "a power transform (Yeo-Johnson), then standardize"
    small = 0.05 * gamma_column(1.0)  # values in [0, 0.4]: log1p is almost linear there
    small[0] = 0.0
    assert first(report_of(small)).startswith("a power transform")
    logged = report_of(gamma_column(2.5) + 0.5)
    assert first(logged) == "log, then standardize" and abs(logged["skewness after log"]) < sr.SKEW_CUT
    assert np.isclose(logged["skewness after log"], stats.skew(np.log(gamma_column(2.5) + 0.5)))


def test_sparse_column_with_a_gross_outlier_is_clipped_before_maxabs():
    column = sparse_column(0.91)
    column[0] = 1e4
    row = report_of(column)
    assert row["extremity"] > sr.GROSS_CUT
    assert first(row) == "clip the extremes (if they are errors), then MaxAbsScaler; do not center"
    assert first(report_of(sparse_column(0.91))) == "MaxAbsScaler; do not center"  # counts up to 4: no outlier


def test_new_values_at_or_below_zero_are_flagged_for_log_advice():
    train = pd.DataFrame({"x": gamma_column(2.5) + 0.5, "ref": NORMAL})
    advice = scaling_report(train, test=pd.DataFrame({"x": [0.0, 1.0], "ref": [0.0, 0.0]})).loc["x", "advice"]
    assert advice.startswith("log, then standardize") and "new data reach 0" in advice
    assert "clip new values at the training minimum" in advice
    safe = scaling_report(train, test=pd.DataFrame({"x": [1.0, 2.0], "ref": [0.0, 0.0]})).loc["x", "advice"]
    assert "new data reach" not in safe and "clip new values at the training minimum" in safe


def test_ids_are_dropped_first_and_dates_named():
    row = report_of(np.arange(N, dtype=float) + 730_000)  # also a daily date stored as an ordinal
    assert first(row).startswith("an ID? drop it") and "date or sequence index" in first(row)


def test_test_array_with_a_dataframe_is_refused():
    train = pd.DataFrame({"a": NORMAL, "b": 100 + NORMAL})
    with pytest.raises(TypeError, match="DataFrame with the same column names"):
        scaling_report(train, test=np.column_stack([100 + NORMAL, NORMAL]))


def test_bounded_and_binary_columns_are_left_alone():
    bounded = stats.beta.ppf((np.arange(N) + 0.5) / N, 5, 2)  # in [0, 1], mean far from 0 in std units
    assert first(report_of(bounded)) == "none needed (bounded in [0, 1]; min-max or none)"
    binary = (np.arange(N) % 10 == 0).astype(float)  # 90 % zeros
    row = report_of(binary)
    assert first(row) == "none needed (binary)" and "pure noise" not in row["advice"]


def test_advised_transformer_applies_each_kind_fitted_on_training_data():
    from sklearn.preprocessing import PowerTransformer, RobustScaler, StandardScaler

    skewed = gamma_column(2.5) + 0.5
    table = pd.DataFrame({"log": skewed, "yeo": 1000 + gamma_column(1.0), "robust": NORMAL, "plain": 3000 * NORMAL,
                          "none": NORMAL[::-1], "id": np.arange(N, dtype=float)})
    advice = pd.Series({"log": "log, then standardize", "yeo": "a power transform (Yeo-Johnson), then standardize",
                        "robust": ROBUST, "plain": "StandardScaler", "none": "none needed", "id": "an ID? drop it"})
    fitted = sr.advised_transformer(advice).fit(table)
    new = table.iloc[:5].assign(log=[0.0, 1.0, 2.0, 3.0, 4.0], robust=[100.0, 0.0, 0.0, 0.0, 0.0])
    out = fitted.transform(new)
    assert out.shape == (5, 5) and np.isfinite(out).all()  # the ID dropped; the log clipped at the training minimum
    logged = np.log(np.maximum(new["log"], skewed.min()))
    assert np.allclose(out[:, 0], (logged - np.log(skewed).mean()) / np.log(skewed).std())
    assert np.allclose(out[:, 1], PowerTransformer().fit(table[["yeo"]]).transform(new[["yeo"]])[:, 0])
    assert out[0, 2] == sr.OUTLIER_CUT and np.allclose(out[1:, 2], RobustScaler().fit(table[["robust"]]).transform(new[["robust"]])[1:, 0])
    assert np.allclose(out[:, 3], StandardScaler().fit(table[["plain"]]).transform(new[["plain"]])[:, 0])
    assert np.allclose(out[:, 4], new["none"])
    with pytest.raises(ValueError, match="'x'.*impute"):
        sr.advised_transformer(pd.Series({"x": "impute or drop the 1 NaN"}))


def test_date_columns_get_a_seconds_hint(tmp_path):
    table = pd.DataFrame({"day": ["2024-01-01", "2024-01-02", "2024-01-05"], "size": [1.0, 2.0, 4.0]})
    with pytest.raises(TypeError, match=r"\['day'\] look like dates: convert them to seconds"):
        scaling_report(table)
    with pytest.raises(TypeError, match="look like dates"):
        scaling_report(table.assign(day=pd.to_datetime(table["day"])))
    with pytest.raises(TypeError) as refused:
        scaling_report(pd.DataFrame({"colour": ["red", "blue"], "size": [1.0, 2.0]}))
    assert "dates" not in str(refused.value)
    table.to_csv(tmp_path / "dated.csv", index=False)
    done = run_cli(str(tmp_path / "dated.csv"))
    assert done.returncode == 2 and "seconds since a reference" in done.stderr
