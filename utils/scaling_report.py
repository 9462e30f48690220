"""The book's checklist as a function: measure each feature of the reader's data and give the advice.

``scaling_report(data)`` returns one row per feature (a table's column, or an image array's colour
channel) with measured properties, the advice the book's measurements support, and *why*: the
title and web address of the section that measures it. Every threshold is a module constant below,
named once; the chapter "In practice" quotes them.

From a shell: ``python -m utils.scaling_report table.csv [--test new.csv] [--drop id]``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

# --- Thresholds: the book's own, each from the measurement that motivates it -------------------------
# The rules are tried in this order, and the first that fits gives the main advice (see ``advise``):
# non-finite values, constant, ID, large offset, 8-bit pixels, other integer pixels (measured bit depth),
# sparse counts (clipped first if gross outliers), skewed body (log if it removes the skew, else
# Yeo-Johnson), gross outliers, binary, mixed units, absolute scale, bounded in [0, 1], far from
# centered, none needed; then notes: categorical codes, tiny spread (noise?), rare pixels, float16,
# log on new data, new data outside the training range beyond what i.i.d. data give.
# Each constant says whether it is MEASURED (a chapter's experiment sets or checks it) or a CONVENTION
# (a common rule of thumb that no chapter of this book measures; change it freely).
# Robust outliers (CONVENTION: no chapter measures a detection cut): |x - median| / IQR above this
# (1.349 std when IQR == 0, as for a normal) counts in the outlier share. The sensitivity chapter
# (outliers-min-max) clips at ±5 IQR once, after robust scaling, and shows what that recovers.
OUTLIER_CUT = 5.0
# Gross outliers (CONVENTION): the outlier rule fires only when the most extreme value lies beyond this
# many robust units (the IQR; for a tied column, the median |x - median| of its untied values). One
# value past OUTLIER_CUT is routine in a heavy tail once n is large (a Laplace column at n = 10,000);
# twenty units is an error or a different process, and the advice says to clip only if it is an error.
GROSS_CUT = 20.0
# Skewness (CONVENTION, the usual "highly skewed" rule of thumb) of the values inside the outlier cut
# above +SKEW_CUT: a right-skewed body (a log helps it; a left skew gets Yeo-Johnson), which no affine
# scaler changes (chapter 1, words-skewed-feature: mean area, skewness 1.6, kept it under every scaler).
SKEW_CUT = 1.0
# Share of zeros (CONVENTION: the cut itself is not measured) above which a non-negative feature counts
# as sparse: centering turns every one of those zeros into a non-zero value (an identity, shown in
# chapter "In practice", practice-report).
SPARSE_ZERO_SHARE = 0.5
# A feature's standard deviation (CONVENTION: the factor is not measured) more than this many times
# larger or smaller than the median feature's: the loss's curvature along it differs by the square of that (chapter 4, ch-convergence:
# the condition number of the wine pair; sensitivity chapter, tiny-range-feature).
SCALE_RATIO = 10.0
# |mean| above this many standard deviations (CONVENTION for the cut; the mechanism is measured): the mean's eigenvalue of E[x x^T] exceeds the variance's
# (chapter 4, convergence-centering: E[x x^T] = Sigma + mu mu^T).
CENTER_CUT = 1.0
# float32 grid spacing (CONVENTION for the cut: no chapter measures a threshold) at the feature's largest
# magnitude above this share of its standard deviation: casting to float32 before centering moves
# standardized values by more than 1e-3, the order of bfloat16 arithmetic's own error (chapter 2,
# bfloat16-arithmetic). Chapter 2 (large-offsets) measures one case far above it: a Unix timestamp over
# 600 s has a ratio of 0.7, and 600 seconds became a handful of inputs.
OFFSET_SPACING_RATIO = 1e-3
# float16's largest finite number (a fact of the format). 255**2 just fits, so a sum of two squared raw pixels overflows
# (chapter 2, float16-range). An image channel overflows when SUM_TERMS of its largest squares do (a sum
# over a sample's pixels); a table's column when its n largest squares do (a variance summed over rows).
FLOAT16_MAX = float(np.finfo(np.float16).max)
SUM_TERMS = 2
# The floor (MEASURED) on a per-pixel standard deviation, in grey levels (1/255 for images in [0, 1], 1/255 of the
# channel's range for other non-8-bit images): with sigma >= 10 levels, single-pixel flips fell from 100 % to 32-42 % of digits at
# unchanged accuracy (chapter "Is a trained network blind?", blind-rare-pixels).
SIGMA_FLOOR_LEVELS = 10.0
# Absolute scale (CONVENTION: "inputs of order 1"): a standard deviation outside this interval, or a
# |mean| above its upper end, gets StandardScaler even when every feature shares that scale (a single
# column, or two features of std 3000): a ReLU network's default initialization assumes inputs of
# order 1 (chapter 2, relu-start: raw 0-255 pixels against /255).
ABSOLUTE_SCALE = (0.1, 10.0)
# New data outside the training range (CONVENTION): flagged when a binomial test against the i.i.d.
# share 2 / (n_train + 1) gives p below this (more values outside than exchangeable data would put there).
OUTSIDE_P = 1e-3
# At most this many distinct integer values (and more than 2): perhaps categorical codes (CONVENTION).
CATEGORY_MAX_DISTINCT = 10

# --- Where each reason is measured: MyST label -> (page, section title). ONE mapping. -------------------
# tests/test_scaling_report.py checks that every label is defined in that chapter file, right above a
# heading with that title, so renaming a chapter breaks a test instead of a link.
SITE_URL = "https://scaling-vs-normalization.github.io/book/"
SECTIONS: dict[str, tuple[str, str]] = {
    "practice-report": ("chapters/09_in_practice", "A scaling report for your own data"),
    "large-offsets": ("chapters/02_pixels", "Large offsets"),
    "relu-start": ("chapters/02_pixels", "What `/255` is actually good for"),
    "ch-pixels": ("chapters/02_pixels", "The 0–255 pixel example: information, resolution and number formats"),
    "float16-range": ("chapters/02_pixels", "Range: raw statistics overflow float16"),
    "blind-rare-pixels": ("chapters/06_blind", "Rare pixels and the σ floor"),
    "words-skewed-feature": ("chapters/01_words", "A skewed feature from a real data set"),
    "words-new-data": ("chapters/01_words", "Applying a fitted transform to new data"),
    "outliers-min-max": ("chapters/07_lost", "Outliers squeeze min-max scaling"),
    "ch-convergence": ("chapters/04_convergence", "Convergence: what scaling does to gradient descent"),
    "upscaled-noise": ("chapters/07_lost", "Upscaling a pure-noise feature"),
    "convergence-centering": ("chapters/04_convergence", "Centering, and why it matters more in high dimension"),
}


def section_url(label: str) -> str:
    """Web address of the section with MyST label ``label`` on the book's site."""
    page, _ = SECTIONS[label]
    return f"{SITE_URL}{page}.html#{label}"


class Advice(NamedTuple):
    text: str
    label: str  # a key of SECTIONS


# --- Input checks -------------------------------------------------------------------------------------
def _looks_like_dates(column: pd.Series) -> bool:
    """True for datetime columns, and for text columns whose first values all parse as dates."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    sample = column.dropna().astype(str).head(20)
    if sample.empty or not sample.str.contains(r"\d").all():
        return False
    with warnings.catch_warnings():  # pandas warns when it has to guess the format
        warnings.simplefilter("ignore")
        return bool(pd.to_datetime(sample, errors="coerce").notna().all())


def _as_features(data: object, names: Sequence[str] | None, what: str, min_rows: int = 2,
                 images: bool = False) -> tuple[np.ndarray, list[str], bool, bool]:
    """(values (n, features) float64, names, is_image, is_8bit_dtype) with every input check."""
    if images and (isinstance(data, (pd.DataFrame, pd.Series)) or np.ndim(data) not in (3, 4)):
        raise ValueError(f"{what}: images=True needs an array (N, H, W) or (N, H, W, C), got shape {np.shape(data)}")
    if isinstance(data, pd.Series):
        raise ValueError(f"{what} is a single column (Series): pass a DataFrame, e.g. series.to_frame()")
    if isinstance(data, pd.DataFrame):
        bad = [str(c) for c in data.columns if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]))]
        if bad:
            dates = [str(c) for c in data.columns if str(c) in bad and _looks_like_dates(data[c])]
            hint = (f"; {dates} look like dates: convert them to seconds since a reference, e.g. "
                    "(pd.to_datetime(column) - pd.Timestamp('2000-01-01')).dt.total_seconds()") if dates else ""
            raise TypeError(f"{what} has non-numeric column(s) {bad}: encode or drop them first{hint}")
        uint8 = len(data.columns) > 0 and all(data[c].dtype == np.uint8 for c in data.columns)
        if names is None:
            names = [str(c) for c in data.columns]
        data = data.to_numpy(dtype=np.float64, na_value=np.nan)  # pandas NA counts as NaN
    else:
        array = np.asarray(data)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise TypeError(f"{what} must hold numbers, got dtype {array.dtype}")
        if np.issubdtype(array.dtype, np.complexfloating):
            raise TypeError(f"{what} holds complex numbers: scale the real and imaginary parts as two features")
        uint8 = array.dtype == np.uint8
        if array.ndim in (3, 4):
            if not images:  # never guess from the shape: (N, T, F) time series are 3-D too
                raise ValueError(
                    f"{what} has shape {array.shape}: pass images=True for images (N, H, W) or (N, H, W, C); "
                    "a time series (N, T, F) is not an image: reshape it to a table, e.g. "
                    "data.reshape(-1, data.shape[-1]) for one row per feature")
            return _image_channels(array, names, what)
        if array.ndim != 2:
            hint = " (one feature: data.reshape(-1, 1); one sample: data.reshape(1, -1))" if array.ndim == 1 else ""
            raise ValueError(f"{what} must be a table (n, features) or images (N, H, W) / (N, H, W, C); got shape {array.shape}{hint}")
        data = array.astype(np.float64)
    if data.shape[1] == 0 or data.shape[0] == 0:
        raise ValueError(f"{what} is empty: shape {data.shape}")
    if data.shape[0] < min_rows:
        raise ValueError(f"{what} has a single row: a spread cannot be measured from one sample")
    names = [f"x{j}" for j in range(data.shape[1])] if names is None else [str(n) for n in names]
    if len(names) != data.shape[1] or len(set(names)) != len(names):
        raise ValueError(f"names must be {data.shape[1]} distinct strings, got {len(names)} ({len(set(names))} distinct)")
    return data, names, False, bool(uint8)


def _image_channels(array: np.ndarray, names: Sequence[str] | None, what: str) -> tuple[np.ndarray, list[str], bool, bool]:
    """Images (N, H, W) or (N, H, W, C) -> one column per channel holding every pixel value."""
    if array.ndim == 3:
        array = array[..., None]
    n, height, width, channels = array.shape
    if channels > 4:
        hint = " — channels first? use images.transpose(0, 2, 3, 1)" if array.shape[1] <= 4 else ""
        raise ValueError(f"{what}: expected channels last, (N, H, W, C) with C <= 4; got shape {array.shape}{hint}")
    if min(n, height, width) < 2:
        raise ValueError(f"{what}: need at least 2 images of at least 2 x 2 pixels, got shape {array.shape}")
    if array.dtype == bool:
        raise TypeError(f"{what}: boolean images carry no scale; pass them as uint8 (0/255) or float")
    names = [f"channel {c}" for c in range(channels)] if names is None else [str(name) for name in names]
    if len(names) != channels:
        raise ValueError(f"names must name the {channels} channel(s), got {len(names)}")
    return array.reshape(-1, channels).astype(np.float64), names, True, array.dtype == np.uint8


# --- Measurements (vectorized over features: one sort gives quantiles, outliers and distinct counts) ------
def _at(rows: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``rows[j, index[j]]`` for every feature j (index clipped into the row)."""
    return np.take_along_axis(rows, np.clip(index, 0, rows.shape[1] - 1)[:, None], axis=1)[:, 0]


def _quantile(ordered: np.ndarray, count: np.ndarray, q: float) -> np.ndarray:
    """Linear-interpolated quantile ``q`` (NumPy's default) of each feature's ``count`` sorted finite values."""
    position = q * np.maximum(count - 1, 0)
    low = np.floor(position).astype(int)
    low_value, high_value = _at(ordered, low), _at(ordered, np.ceil(position).astype(int))
    return np.where(count > 0, low_value + (position - low) * (high_value - low_value), np.nan)


def _central_moments(sums: list[np.ndarray], count: np.ndarray, shift: np.ndarray):
    """Mean, std (ddof 0, as StandardScaler) and skewness from power sums of (x - shift)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        first, second, third = (total / count for total in sums)
        variance = np.maximum(second - first**2, 0.0)
        third_central = third - 3 * first * second + 2 * first**3
        skewness = np.where(variance > 0, third_central / variance**1.5, 0.0)
    return shift + first, np.sqrt(variance), np.where(count > 0, skewness, np.nan)


def _skewness_after_log(ordered: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Skewness of log(x) (log1p(x) when the minimum is 0) per feature; NaN where a value is negative."""
    result = np.full(len(ordered), np.nan)
    for use_log1p in (False, True):
        rows = np.flatnonzero((low == 0) if use_log1p else (low > 0))
        if len(rows) == 0:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            logged = np.log1p(ordered[rows]) if use_log1p else np.log(ordered[rows])
            centered = logged - np.nanmean(logged, axis=1, keepdims=True)
            variance = np.nanmean(centered**2, axis=1)
            result[rows] = np.where(variance > 0, np.nanmean(centered**3, axis=1) / variance**1.5, 0.0)
    return result


def measure(values: np.ndarray, image: bool = False) -> pd.DataFrame:
    """The measured columns of the report for a float64 array (n, features); NaN/inf are counted, then left out.

    ``image``: the columns are image channels (float16 sums run over a sample's pixels, not over rows)."""
    finite = np.isfinite(values)
    count = finite.sum(axis=0)
    ordered = np.where(finite, values, np.nan).T.copy()  # (features, n): each feature's values contiguous
    ordered.sort(axis=1)  # NaN sort last, so each feature's finite values come first
    low = np.where(count > 0, ordered[:, 0], np.nan)
    high = np.where(count > 0, _at(ordered, count - 1), np.nan)
    median, q25, q75 = (_quantile(ordered, count, q) for q in (0.5, 0.25, 0.75))
    iqr = q75 - q25
    # Power sums of (x - median): for all values, and for the values inside the outlier cut, which are a
    # contiguous stretch [first_in, end_in) of the sorted row, so only the few outside it are summed again.
    centered = np.nan_to_num(ordered - median[:, None], nan=0.0)
    squared = centered * centered
    powers = (centered, squared, squared * centered)
    totals = [power.sum(axis=1) for power in powers]
    mean, std, skewness = _central_moments(totals, count, median)
    # Ties (IQR == 0, e.g. a mostly-constant column): fall back to 1.349 std, a normal's IQR, so the
    # outlier share is still measured instead of NaN.
    unit = np.where(iqr > 0, iqr, 1.349 * std)
    spread = unit > 0
    first_in = np.zeros(len(count), dtype=int)
    end_in = count.copy()
    for j in np.flatnonzero(spread):
        row = ordered[j, : count[j]]
        first_in[j] = np.searchsorted(row, median[j] - OUTLIER_CUT * unit[j], side="left")
        end_in[j] = np.searchsorted(row, median[j] + OUTLIER_CUT * unit[j], side="right")
    inside = [total.copy() for total in totals]
    for j in np.flatnonzero((first_in > 0) | (end_in < count)):
        for total, power in zip(inside, powers):
            total[j] -= power[j, : first_in[j]].sum() + power[j, end_in[j] : count[j]].sum()
    _, _, body_skewness = _central_moments(inside, end_in - first_in, median)
    # Extremity: the farthest value in robust units (the IQR; for a tied column, whose IQR is 0, the
    # median distance of its untied values, e.g. the typical non-zero count of a sparse column).
    robust_unit = iqr.copy()
    for j in np.flatnonzero((iqr == 0) & (count > 0)):
        distance = np.abs(ordered[j, : count[j]] - median[j])
        untied = distance[distance > 0]
        robust_unit[j] = np.median(untied) if len(untied) else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        extremity = np.maximum(high - median, median - low) / robust_unit
    with np.errstate(invalid="ignore", divide="ignore"):
        outlier_share = np.where(spread, (count - (end_in - first_in)) / count, np.nan)
        zero_share = (values == 0).sum(axis=0) / count
    # NaN compare unequal to everything, so each of the n - count NaN at a row's end adds one step.
    steps = (ordered[:, 1:] != ordered[:, :-1]).sum(axis=1)
    distinct = np.where(count > 0, steps - (len(values) - count) + 1, 0)
    with np.errstate(invalid="ignore"):
        integer = (count > 0) & np.all(~np.isfinite(ordered) | (ordered == np.round(ordered)), axis=1)
    eight_bit = integer & (low >= 0) & (high <= 255)
    # An ID: every value distinct, integers, evenly spaced (e.g. 1, 2, ..., n).
    id_like = integer & (count > 2) & (distinct == count)
    for j in np.flatnonzero(id_like):
        gaps = np.diff(ordered[j, : count[j]])
        id_like[j] = bool(np.all(gaps == gaps[0]))
    magnitude = np.nan_to_num(np.maximum(np.abs(low), np.abs(high)), nan=0.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        spacing = np.spacing(magnitude.astype(np.float32)).astype(np.float64)
        spacing = np.where(magnitude > float(np.finfo(np.float32).max), np.inf, spacing)
        spacing_ratio = np.where(std > 0, spacing / std, np.nan)
        # A pixel sum runs over SUM_TERMS of the largest values; a table's variance over its n rows.
        overflow = (SUM_TERMS * magnitude**2 if image else count * (mean**2 + std**2)) > FLOAT16_MAX
        spreads = std[(count > 0) & (std > 0)]
        reference = np.median(spreads) if len(spreads) else np.nan
        ratio = std / reference
    return pd.DataFrame({
        "n": count, "NaN": np.isnan(values).sum(axis=0), "inf": np.isinf(values).sum(axis=0),
        "min": low, "max": high, "range": high - low, "mean": mean, "median": median, "IQR": iqr, "std": std,
        "std / median feature's": ratio, "skewness": skewness, "skewness inside cut": body_skewness,
        "outlier share": outlier_share, "extremity": extremity, "skewness after log": _skewness_after_log(ordered, low),
        "zero share": zero_share, "distinct": distinct, "integers": integer,
        "ID-like": id_like, "8-bit integers": eight_bit,
        "float32 spacing": spacing, "spacing / std": spacing_ratio, "float16 sum of squares overflows": overflow,
    })


def _pixel_sigmas(images: np.ndarray) -> np.ndarray:
    """Per-pixel standard deviation over the images, (H * W, C), ignoring NaN and inf."""
    array = images if images.ndim == 4 else images[..., None]
    flat = array.reshape(len(array), -1).astype(np.float64)
    flat[~np.isfinite(flat)] = np.nan
    with warnings.catch_warnings():  # an all-NaN pixel has no spread: reported as 0, not warned about
        warnings.simplefilter("ignore", RuntimeWarning)
        sigma = np.nan_to_num(np.nanstd(flat, axis=0), nan=0.0)
    return sigma.reshape(-1, array.shape[-1])


# --- The rules --------------------------------------------------------------------------------------------
def _bit_depth_advice(row: pd.Series, dtype: np.dtype) -> Advice:
    """Integer images: divide by the measured bit depth's maximum, not the dtype's (12-bit data in uint16)."""
    bits = max(int(np.ceil(np.log2(max(row["max"], 1) + 1))), 1)
    divisor, dtype_max = 2**bits - 1, np.iinfo(dtype).max
    if row["min"] < 0:  # signed images: no bit-depth convention to rely on
        return Advice("standardize per channel with training statistics", "ch-pixels")
    if divisor >= dtype_max:
        return Advice(f"divide by {dtype_max:,} (the dtype's maximum, which the data reach)", "ch-pixels")
    return Advice(f"divide by {divisor:,} ({bits}-bit values: the maximum is {row['max']:,.0f}), not by the dtype's "
                  f"{dtype_max:,}; or standardize per channel with training statistics", "ch-pixels")


def _log_advice(row: pd.Series) -> Advice:
    """A log where it removes the skew (|skewness after log| < SKEW_CUT), else Yeo-Johnson."""
    if abs(row["skewness after log"]) < SKEW_CUT:
        text = "log, then standardize" if row["min"] > 0 else "log1p, then standardize"
        return Advice(text, "words-skewed-feature")
    return Advice("a power transform (Yeo-Johnson), then standardize", "words-skewed-feature")


def advise(row: pd.Series, image_dtype: np.dtype | None = None, uint8: bool = False) -> list[Advice]:
    """The book's advice for one measured row, most important first (then notes that always apply)."""
    advice: list[Advice] = []
    if row["NaN"] or row["inf"]:
        advice.append(Advice(f"impute or drop the {row['NaN']} NaN and {row['inf']} inf values first (measured without them)",
                             "practice-report"))
    if row["n"] < 2:
        return advice + [Advice(f"{row['n']} finite value(s): nothing to measure", "practice-report")]
    if row["std"] == 0:
        return advice + [Advice("constant: drop it (a scaler would divide by zero)", "practice-report")]
    ratio = row["std / median feature's"]
    gross = row["extremity"] > GROSS_CUT
    sparse = row["zero share"] > SPARSE_ZERO_SHARE and row["min"] >= 0
    bounded = row["min"] >= 0 and row["max"] <= 1
    if image_dtype is None and row["ID-like"]:  # an ID first: scaling it would only dress up noise
        advice.append(Advice("an ID? drop it (distinct, evenly spaced integers); if it is a date or sequence "
                             "index, keep it as elapsed time from a reference", "practice-report"))
    elif row["spacing / std"] > OFFSET_SPACING_RATIO:
        advice.append(Advice("subtract a reference in float64 before casting, then standardize", "large-offsets"))
    elif row["8-bit integers"] and image_dtype is not None:  # /255 is for pixels, not for a uint8 table of ages
        advice.append(Advice("/255", "relu-start"))
    elif image_dtype is not None and np.issubdtype(image_dtype, np.integer):
        advice.append(_bit_depth_advice(row, image_dtype))
    elif sparse and row["distinct"] > 2 and gross:  # MaxAbs divides by the largest value: an outlier squeezes the rest
        advice.append(Advice(f"clip the extremes (if they are errors), then MaxAbsScaler; do not center", "outliers-min-max"))
    elif sparse and row["distinct"] > 2:  # a binary 0/1 column is already in [0, 1]
        advice.append(Advice("MaxAbsScaler; do not center", "practice-report"))
    elif row["distinct"] > 2 and row["skewness inside cut"] > SKEW_CUT and row["min"] >= 0:
        # Right skew: a log (log1p when there are zeros), if it removes the skew. A binary column is
        # skipped: its skewness only says which value is rarer, and a log of 0/1 is -inf/0.
        advice.append(_log_advice(row))
    elif row["distinct"] > 2 and abs(row["skewness inside cut"]) > SKEW_CUT:
        # Left skew (a log makes it worse) or negative values (no log): Yeo-Johnson handles both.
        advice.append(Advice("a power transform (Yeo-Johnson), then standardize", "words-skewed-feature"))
    elif gross and row["IQR"] > 0:  # RobustScaler divides by the IQR
        advice.append(Advice(f"RobustScaler, then clip to ±{OUTLIER_CUT:g} (if the extremes are errors)", "outliers-min-max"))
    elif row["distinct"] <= 2 and bounded:
        advice.append(Advice("none needed (binary)", "practice-report"))
    elif not 1 / SCALE_RATIO <= ratio <= SCALE_RATIO:
        advice.append(Advice("StandardScaler", "ch-convergence"))
    elif not ABSOLUTE_SCALE[0] <= row["std"] <= ABSOLUTE_SCALE[1] or abs(row["mean"]) > ABSOLUTE_SCALE[1]:
        advice.append(Advice("StandardScaler (its scale is far from 1)", "relu-start"))
    elif bounded:  # the checklist's "bounded by nature": min-max or none
        advice.append(Advice("none needed (bounded in [0, 1]; min-max or none)", "practice-report"))
    elif abs(row["mean"]) > CENTER_CUT * row["std"]:
        advice.append(Advice("StandardScaler (it is far from centered)", "convergence-centering"))
    else:
        advice.append(Advice("none needed", "practice-report"))
    # Notes that hold whatever the first advice was.
    if (image_dtype is None and row["integers"] and 2 < row["distinct"] <= CATEGORY_MAX_DISTINCT
            and not row["ID-like"] and not sparse):  # sparse counts are counts
        advice.append(Advice(f"categorical? one-hot encode ({row['distinct']} distinct integers)", "practice-report"))
    if row["IQR"] == 0 and row["outlier share"] > 0:
        advice.append(Advice(f"{row['outlier share']:.1%} of values lie beyond ±{OUTLIER_CUT:g} x 1.349 std (IQR is 0)",
                             "outliers-min-max"))
    if ratio < 1 / SCALE_RATIO and row["distinct"] > 2:  # a rare binary flag is not a tiny-range measurement
        advice.append(Advice("if it may be pure noise, choose weight decay by cross-validation after scaling", "upscaled-noise"))
    if row.get("rare pixels", 0) > 0:
        advice.append(Advice(f"if you standardize per pixel, floor each pixel's std at {row['suggested std floor']:.3g}",
                             "blind-rare-pixels"))
    if row["float16 sum of squares overflows"]:
        advice.append(Advice("scale before any float16 step (its sums of squares overflow)", "float16-range"))
    main = next((piece.text for piece in advice if not piece.text.startswith("impute")), "")
    if main.startswith(("log,", "log1p")):
        unsafe = 0.0 if main.startswith("log,") else -1.0  # log(0) = -inf, log1p(-1) = -inf; below: NaN
        if row.get("test min", np.nan) <= unsafe:  # NaN (no test data) compares False
            advice.append(Advice(f"new data reach {row['test min']:.3g}: the log is -inf or NaN there", "words-new-data"))
        advice.append(Advice(f"at deployment, clip new values at the training minimum ({row['min']:.3g}) before the log",
                             "words-new-data"))
    if row.get("outside beyond i.i.d.", False):
        advice.append(Advice(f"{row['test outside train range']:.1%} of new values leave the training range (i.i.d. data: "
                             f"{row['expected outside share (i.i.d.)']:.1%}): min-max output leaves [0, 1]", "words-new-data"))
    return advice


def scaling_report(data: object, names: Sequence[str] | None = None, test: object = None,
                   images: bool = False) -> pd.DataFrame:
    """One row per feature (table) or channel (images (N, H, W) or (N, H, W, C)): measurements, advice, why.

    Run it on the training split only (the advice is then fitted there, as a ``Pipeline`` would).
    ``data``: a DataFrame or array (n, features), or with ``images=True`` an image array; a 3-D or
    4-D array without ``images=True`` is an error (it may be a time series); ``names`` overrides the feature names;
    ``test``: new data of the same layout, for the share of values outside the training range.
    The ``advice`` column is most important first; ``why`` names the book section that measures each
    piece, ``links`` gives their addresses.
    """
    values, names, image, uint8 = _as_features(data, names, "data", images=images)
    report = measure(values, image=image)
    report.index = pd.Index(names, name="channel" if image else "feature")
    if image:
        images = np.asarray(data)
        sigma = _pixel_sigmas(images)
        # One grey level: 1 for 8-bit values, 1/255 for images already in [0, 1], else 1/255 of the range.
        unit_interval = (report["min"] >= 0) & (report["max"] <= 1)
        level = np.where(report["8-bit integers"], 1.0, np.where(unit_interval, 1 / 255, report["range"].to_numpy() / 255))
        floor = SIGMA_FLOOR_LEVELS * level
        rare = (sigma > 0) & (sigma < floor[None, :])
        varying = (sigma > 0).sum(axis=0)
        report["rare pixels"] = rare.sum(axis=0)
        report["rare pixel share"] = np.where(varying > 0, rare.sum(axis=0) / np.maximum(varying, 1), 0.0)
        report["smallest pixel std"] = np.where(varying > 0, np.where(sigma > 0, sigma, np.inf).min(axis=0), 0.0)
        report["suggested std floor"] = floor
    if test is not None:
        if isinstance(data, pd.DataFrame) and isinstance(test, pd.DataFrame):
            # Match columns by name, not position; then use the training order.
            missing = [str(c) for c in data.columns if c not in test.columns]
            extra = [str(c) for c in test.columns if c not in data.columns]
            if missing or extra:
                raise ValueError(f"test columns differ from data's: missing {missing}, extra {extra}")
            test = test[list(data.columns)]
        elif isinstance(data, pd.DataFrame):  # an array would be matched by position, silently
            raise TypeError("data is a DataFrame: pass test as a DataFrame with the same column names")
        new, _, new_image, _ = _as_features(test, None, "test", min_rows=1, images=image)  # one new row is fine
        if new.shape[1] != values.shape[1] or new_image != image:
            raise ValueError(f"test must have the layout of data: {values.shape[1]} features/channels, got {new.shape[1]}")
        finite = np.isfinite(new)
        outside = finite & ((new < report["min"].to_numpy()) | (new > report["max"].to_numpy()))
        tested = np.maximum(finite.sum(axis=0), 1)
        report["test outside train range"] = outside.sum(axis=0) / tested
        # Under i.i.d. data a new value falls outside the range of n training values with probability
        # 2 / (n + 1) (it is the smallest or largest of n + 1 exchangeable values): only an excess is news.
        expected = 2 / (report["n"].to_numpy() + 1)
        report["expected outside share (i.i.d.)"] = expected
        report["outside beyond i.i.d."] = stats.binom.sf(outside.sum(axis=0) - 1, tested, expected) < OUTSIDE_P
        with warnings.catch_warnings():  # an all-NaN test column has no minimum
            warnings.simplefilter("ignore", RuntimeWarning)
            report["test min"] = np.nanmin(np.where(finite, new, np.nan), axis=0)
    image_dtype = np.asarray(data).dtype if image else None
    pieces = [advise(row, image_dtype, uint8) for _, row in report.iterrows()]
    report["advice"] = [" | ".join(piece.text for piece in advice) for advice in pieces]
    report["why"] = [" | ".join(SECTIONS[piece.label][1] for piece in advice) for advice in pieces]
    report["links"] = [" ".join(section_url(piece.label) for piece in advice) for advice in pieces]
    return report


def first_advice(report: pd.DataFrame) -> pd.Series:
    """The most important piece of advice per feature (the text before the first " | ")."""
    return report["advice"].str.split(" | ", regex=False).str[0]


# --- Following the advice: one scikit-learn transformer, fitted on the training split ---------------------
class _ClipBelowTrainingMinimum:
    """Clip new values at the training minimum (so a log stays finite on new data); sklearn-compatible."""

    def fit(self, x: np.ndarray, y: object = None) -> "_ClipBelowTrainingMinimum":
        self.minimum_ = np.nanmin(np.asarray(x, dtype=np.float64), axis=0)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(np.asarray(x, dtype=np.float64), self.minimum_)

    def fit_transform(self, x: np.ndarray, y: object = None) -> np.ndarray:
        return self.fit(x).transform(x)

    def get_params(self, deep: bool = True) -> dict:
        return {}

    def set_params(self, **params: object) -> "_ClipBelowTrainingMinimum":
        return self


def advised_transformer(advice: pd.Series):
    """A ``ColumnTransformer`` that applies each feature's first advice (``first_advice(report)``).

    Fit it on the training split, as the report was. Advice it cannot apply on its own (impute, clip
    gross extremes) raises a ValueError naming the feature, rather than being skipped silently.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler, PowerTransformer, RobustScaler, StandardScaler

    def step(text: str, feature: str):
        if text.startswith("log,"):
            return make_pipeline(_ClipBelowTrainingMinimum(), FunctionTransformer(np.log), StandardScaler())
        if text.startswith("log1p"):
            return make_pipeline(_ClipBelowTrainingMinimum(), FunctionTransformer(np.log1p), StandardScaler())
        if text.startswith("a power transform (Yeo-Johnson)"):
            return PowerTransformer(method="yeo-johnson")  # standardizes after the transform
        if text.startswith("RobustScaler, then clip"):
            return make_pipeline(RobustScaler(), FunctionTransformer(np.clip, kw_args={"a_min": -OUTLIER_CUT, "a_max": OUTLIER_CUT}))
        if text.startswith(("StandardScaler", "subtract a reference")):  # scikit-learn computes in float64
            return StandardScaler()
        if text.startswith("MaxAbsScaler"):
            return MaxAbsScaler()
        if text.startswith("none needed"):
            return "passthrough"
        if text.startswith(("an ID?", "constant")):
            return "drop"
        raise ValueError(f"advice for {feature!r} is not applied automatically: {text!r}")

    # One step per kind of advice (in order of first appearance), over all its features: fewer, faster fits.
    kinds: dict[str, tuple[str, list]] = {}
    for feature, text in advice.items():
        name = step(text, str(feature))  # raises on advice it cannot apply
        kind = name if isinstance(name, str) else text.split(" (")[0].split(",")[0]
        kinds.setdefault(kind, (text, []))[1].append(feature)
    return ColumnTransformer([(kind, step(text, str(features[0])), features) for kind, (text, features) in kinds.items()])


# --- Command line -------------------------------------------------------------------------------------------
SHOWN = ["n", "NaN", "inf", "range", "std", "std / median feature's", "skewness", "outlier share", "extremity", "zero share",
         "distinct", "spacing / std"]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m utils.scaling_report table.csv``: print the report as a plain table; 2 on bad input."""
    parser = argparse.ArgumentParser(prog="python -m utils.scaling_report", description=main.__doc__)
    parser.add_argument("table", help="CSV file with a header row, one column per feature")
    parser.add_argument("--test", help="CSV of new data with the same columns (share outside the training range)")
    parser.add_argument("--drop", action="append", default=[], help="a column to leave out (repeatable), e.g. an id")
    arguments = parser.parse_args(argv)
    try:
        print(f"reading {arguments.table} ...", file=sys.stderr, flush=True)
        table = pd.read_csv(arguments.table).drop(columns=arguments.drop)
        test = pd.read_csv(arguments.test).drop(columns=arguments.drop) if arguments.test else None
        print(f"measuring {table.shape[1]} columns of {table.shape[0]:,} rows ...", file=sys.stderr, flush=True)
        report = scaling_report(table, test=test)
    except (OSError, ValueError, TypeError, KeyError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    shown = SHOWN + (["test outside train range", "expected outside share (i.i.d.)"] if test is not None else [])
    with pd.option_context("display.width", 200, "display.max_columns", None, "display.max_rows", None):
        print(report[shown].to_string(float_format=lambda value: f"{value:.3g}"))
    print()
    for feature, row in report.iterrows():
        print(f"{feature}: {row['advice']}")
        for title, link in zip(row["why"].split(" | "), row["links"].split(" ")):
            print(f"    why: {title} <{link}>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
