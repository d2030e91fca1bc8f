"""Input checks shared by every public function.

Public functions call these on entry; private kernels assume clean float64 /
int64 arrays.  Messages follow scikit-learn's ``check_scalar``: they name the
argument or column and show the offending value, e.g.
``"rate == 1.3, must be <= 1."``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd

__all__ = [
    "check_scalar",
    "check_array",
    "check_quantity",
    "check_frame",
    "check_choice",
    "check_sorted_unique",
    "check_numeric_column",
    "check_time_column",
    "check_label_column",
    "check_int64_range",
    "check_finite_output",
    "first_bad",
    "MAX_SHARES",
]

# Largest share count anywhere in execlab: float64 holds every integer up to 2**53, and the
# cumulative-rounding kernel adds 2**52 to targets below it, so quantities stop at 2**51 with
# room for a lot of rounding on top.  Far above any real order, far below int64's 2**63.
MAX_SHARES = 2**51
# int64 covers [-2**63, 2**63); as a float, 2**63 itself is the first value that does not fit.
_INT64_LIMIT = 2.0**63

# Inferred element types of an object array that mean "text, not numbers".  numpy would happily
# parse "100" into 100.0; we refuse, so a column read as strings (pandas 3's default "str"
# dtype for text) is caught at the boundary instead of being silently converted.
_TEXT_KINDS = {"string", "bytes", "mixed", "mixed-integer"}


def _non_numeric_kind(arr: np.ndarray) -> str | None:
    """Describe why ``arr`` is not numeric (text, bool, dates), or None if it is."""
    kind = arr.dtype.kind
    if kind in "US":
        return f"text (dtype {arr.dtype})"
    if kind == "b":
        return "bool"
    if kind in "mM":
        return f"dates or durations (dtype {arr.dtype})"
    if kind == "O" and arr.size:
        inferred = pd.api.types.infer_dtype(arr.ravel(), skipna=True)
        if inferred in _TEXT_KINDS:
            return f"text ({inferred} values in an object array)"
        if inferred == "boolean":
            return "bool"
    return None


def row_label(index: pd.Index, pos: int) -> object:
    """The label of row ``pos``, as a plain Python value (``3``, not ``np.int64(3)``)."""
    label = index[pos]
    return label.item() if isinstance(label, np.generic) else label


def first_bad(values: np.ndarray, mask: np.ndarray) -> tuple[int, object]:
    """Return (position, value) of the first True in ``mask``."""
    pos = int(np.flatnonzero(np.ravel(mask))[0])
    return pos, np.ravel(values)[pos]


def check_scalar(
    x: object,
    name: str,
    *,
    min_val: float | None = None,
    max_val: float | None = None,
    include_min: bool = True,
    include_max: bool = True,
    integer: bool = False,
) -> float | int:
    """Validate a real scalar and return it as float (or int if ``integer``).

    Raises
    ------
    TypeError
        If ``x`` is not a real number (or not an integer when ``integer``).
    ValueError
        If ``x`` is NaN/inf or outside the allowed range.
    """
    if isinstance(x, bool) or not isinstance(x, (Real, np.number)):
        kind = "an integer" if integer else "a real number"
        raise TypeError(f"{name} must be {kind}, got {type(x).__name__} {x!r}.")
    if integer:
        if isinstance(x, (Integral, np.integer)):
            value: float | int = int(x)
        elif float(x).is_integer():
            value = int(x)
        else:
            raise TypeError(f"{name} == {x!r}, must be an integer.")
        if not -_INT64_LIMIT <= value < _INT64_LIMIT:
            raise ValueError(f"{name} == {x!r}, must be within int64 (-2**63 <= {name} < 2**63).")
    else:
        value = float(x)
    if not np.isfinite(value):
        raise ValueError(f"{name} == {x!r}, must be finite.")
    if min_val is not None:
        if include_min and value < min_val:
            raise ValueError(f"{name} == {x!r}, must be >= {min_val}.")
        if not include_min and value <= min_val:
            raise ValueError(f"{name} == {x!r}, must be > {min_val}.")
    if max_val is not None:
        if include_max and value > max_val:
            raise ValueError(f"{name} == {x!r}, must be <= {max_val}.")
        if not include_max and value >= max_val:
            raise ValueError(f"{name} == {x!r}, must be < {max_val}.")
    return value


def check_array(
    x: object,
    name: str,
    *,
    ndim: int | Sequence[int] | None = None,
    min_val: float | None = None,
    max_val: float | None = None,
    include_min: bool = True,
    include_max: bool = True,
    allow_empty: bool = False,
) -> np.ndarray:
    """Convert ``x`` to a finite float64 array and check its range.

    Raises
    ------
    TypeError
        If ``x`` cannot be read as numbers.
    ValueError
        On NaN/inf, values out of range, a wrong number of dimensions or an
        empty array; the message gives the first offending position and value.
    """
    try:
        if isinstance(x, (pd.Series, pd.Index)) and pd.api.types.is_numeric_dtype(x.dtype) and x.dtype != bool:
            raw = x.to_numpy(dtype=np.float64, na_value=np.nan)  # nullable Int64/Float64: NA -> NaN
        else:
            raw = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric, got {type(x).__name__}: {exc}") from None
    what = _non_numeric_kind(raw)
    dtype = getattr(x, "dtype", None)
    if what is not None and isinstance(dtype, pd.StringDtype):
        what = f"text (dtype {dtype})"
    if what is not None:
        shown = raw.ravel()[:1].tolist()
        example = f" such as {shown[0]!r}" if shown else ""
        raise TypeError(f"{name} must be numeric, got {what}{example}.")
    try:
        arr = raw.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric, got {type(x).__name__}: {exc}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have ndim in {allowed}, got shape {arr.shape}.")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty.")
    bad = ~np.isfinite(arr)
    if bad.any():
        pos, val = first_bad(arr, bad)
        raise ValueError(f"{name}[{pos}] == {val}, must be finite (no NaN or inf).")
    if min_val is not None:
        bad = arr < min_val if include_min else arr <= min_val
        if bad.any():
            pos, val = first_bad(arr, bad)
            op = ">=" if include_min else ">"
            raise ValueError(f"{name}[{pos}] == {val}, must be {op} {min_val}.")
    if max_val is not None:
        bad = arr > max_val if include_max else arr >= max_val
        if bad.any():
            pos, val = first_bad(arr, bad)
            op = "<=" if include_max else "<"
            raise ValueError(f"{name}[{pos}] == {val}, must be {op} {max_val}.")
    return arr


def check_quantity(x: object, name: str = "quantity", lot: int = 1) -> np.ndarray:
    """Whole-share, non-negative order quantities as a 1-D int64 array.

    Raises
    ------
    TypeError
        If the quantities are not numbers (text, bool, dates).
    ValueError
        On NaN/inf, negative or fractional quantities, or more than 2**51
        shares (beyond which float64 no longer holds every integer).
    """
    arr = check_array(np.atleast_1d(np.asarray(x)) if np.ndim(x) == 0 else x, name, ndim=1, min_val=0)
    frac = arr != np.floor(arr)
    if frac.any():
        pos, val = first_bad(arr, frac)
        raise ValueError(f"{name}[{pos}] == {val}, must be a whole number of shares.")
    return check_int64_range(arr, name, max_val=MAX_SHARES, max_text="2**51")


def check_int64_range(
    values: object,
    name: str,
    *,
    min_val: float | None = None,
    max_val: float | None = None,
    max_text: str | None = None,
) -> np.ndarray:
    """Cast ``values`` to int64, refusing anything the cast would wrap or truncate to garbage.

    numpy's ``astype(np.int64)`` turns NaN, inf and values beyond +-2**63 into
    arbitrary integers (often -2**63) without a warning; every float -> int64
    cast in execlab goes through here instead.  Values are truncated toward
    zero, as ``astype`` does.

    Parameters
    ----------
    values : array_like of numbers
        Floats or integers (any integer dtype, including uint64).
    name : str
        Argument or column named in the message.
    min_val, max_val : float, optional
        A tighter range than int64's, e.g. ``max_val=MAX_SHARES``.
    max_text : str, optional
        How to write ``max_val`` in the message (``"2**51"``).

    Returns
    -------
    ndarray of int64

    Raises
    ------
    ValueError
        On NaN, inf or a value outside the range; the message gives the
        position and the value.

    Examples
    --------
    >>> check_int64_range([1.0, 2.0], "shares")
    array([1, 2])
    >>> check_int64_range([1.0, 1e19], "shares")
    Traceback (most recent call last):
    ...
    ValueError: shares[1] == 1e+19, must be < 2**63 (int64).
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and arr.dtype.itemsize >= 8:
            bad = arr > np.uint64(2**63 - 1)
            if bad.any():
                pos, val = first_bad(arr, bad)
                raise ValueError(f"{name}[{pos}] == {val}, must be < 2**63 (int64).")
        out = arr.astype(np.int64, copy=False)
        ref = out
    else:
        ref = arr.astype(np.float64, copy=False)
        bad = ~np.isfinite(ref)
        if bad.any():
            pos, val = first_bad(ref, bad)
            raise ValueError(f"{name}[{pos}] == {val}, must be finite (no NaN or inf).")
        bad = (ref >= _INT64_LIMIT) | (ref < -_INT64_LIMIT)
        if bad.any():
            pos, val = first_bad(ref, bad)
            side = "< 2**63" if val > 0 else ">= -2**63"
            raise ValueError(f"{name}[{pos}] == {val}, must be {side} (int64).")
        out = None
    if min_val is not None and (ref < min_val).any():
        pos, val = first_bad(ref, ref < min_val)
        raise ValueError(f"{name}[{pos}] == {val}, must be >= {min_val}.")
    if max_val is not None and (ref > max_val).any():
        pos, val = first_bad(ref, ref > max_val)
        raise ValueError(f"{name}[{pos}] == {val}, must be <= {max_text or max_val}.")
    return out if out is not None else ref.astype(np.int64)


def check_finite_output(values: object, name: str, inputs: str = "the inputs") -> np.ndarray:
    """A model output that must be finite: NaN or inf here is an error, never a result.

    Used where valid, finite inputs can still overflow float64 inside a
    model (an extreme volatility squared, a huge quantity squared).

    Raises
    ------
    ValueError
        Naming the output, the position, the value and what to check.

    Examples
    --------
    >>> check_finite_output([1.0, float("inf")], "expected_cost", "sigma and quantity")
    Traceback (most recent call last):
    ...
    ValueError: expected_cost[1] == inf, is not finite: sigma and quantity overflow float64; rescale them.
    """
    arr = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        pos, val = first_bad(arr, bad)
        raise ValueError(f"{name}[{pos}] == {val}, is not finite: {inputs} overflow float64; rescale them.")
    return arr


def check_frame(
    df: object,
    name: str,
    columns: Iterable[str],
    *,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Check that ``df`` is a non-empty DataFrame holding ``columns``."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}; it has {list(map(str, df.columns))}."
        )
    if len(df) == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (0 rows).")
    return df


def check_numeric_column(
    df: pd.DataFrame,
    column: str,
    name: str,
    *,
    min_val: float | None = None,
    include_min: bool = True,
    allow_nan: bool = False,
) -> np.ndarray:
    """A finite float64 column of ``df``, with the row label of the first bad value.

    Text columns (pandas 3's ``str`` dtype, or object columns holding
    strings) are refused with a ``TypeError`` rather than parsed.  With
    ``allow_nan`` missing values pass through as NaN (inf never does).
    """
    col = df[column]
    what = None if pd.api.types.is_numeric_dtype(col.dtype) else _non_numeric_kind(np.asarray(col))
    if what is not None and isinstance(col.dtype, pd.StringDtype):
        what = f"text (dtype {col.dtype})"
    if what is not None and what != "bool":
        shown = col.iloc[:1].tolist()
        example = f" such as {shown[0]!r}" if shown else ""
        raise TypeError(f"{name} column {column!r} must be numeric, got {what}{example}.")
    try:
        arr = pd.to_numeric(col, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} column {column!r} must be numeric: {exc}") from None
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if min_val is not None:
        bad |= (arr < min_val) if include_min else (arr <= min_val)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        op = ">=" if include_min else ">"
        rng = f" and {op} {min_val}" if min_val is not None else ""
        missing = " (or missing)" if allow_nan else ""
        raise ValueError(
            f"{name} column {column!r} has {arr[pos]} at row {row_label(df.index, pos)!r}; "
            f"values must be finite{rng}{missing}."
        )
    return arr


def check_time_column(df: pd.DataFrame, column: str, name: str, tz: str | None = None) -> pd.DatetimeIndex:
    """A timezone-aware datetime column as a nanosecond DatetimeIndex (converted to ``tz``).

    Raises
    ------
    TypeError
        If the column does not hold datetimes (e.g. strings).
    ValueError
        If it is timezone-naive or holds a missing time (NaT); the message
        names the column and the row.
    """
    col = df[column]
    if not (isinstance(col.dtype, pd.DatetimeTZDtype) or np.issubdtype(np.asarray(col).dtype, np.datetime64)):
        shown = col.iloc[:1].tolist()
        example = f" such as {shown[0]!r}" if shown else ""
        raise TypeError(
            f"{name} column {column!r} must hold datetimes, got dtype {col.dtype}{example}; "
            "convert it with pd.to_datetime."
        )
    t = pd.DatetimeIndex(col)
    if t.tz is None:
        raise ValueError(
            f"{name} column {column!r} is timezone-naive; localize it "
            "(e.g. .dt.tz_localize('America/New_York'))."
        )
    nat = t.isna()
    if nat.any():
        pos = int(np.flatnonzero(nat)[0])
        raise ValueError(f"{name} column {column!r} has NaT at row {row_label(df.index, pos)!r}; every row needs a time.")
    if tz is not None:
        t = t.tz_convert(tz)
    return t.as_unit("ns")


def check_label_column(df: pd.DataFrame, column: str, name: str) -> np.ndarray:
    """A label column (e.g. ticker) without missing values, as an array."""
    col = df[column]
    missing = col.isna().to_numpy()
    if missing.any():
        pos = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"{name} column {column!r} has {col.iloc[pos]!r} at row {row_label(df.index, pos)!r}; labels must not be missing."
        )
    return col.to_numpy()


def check_choice(value: object, name: str, options: Iterable[str]) -> str:
    """Check a string option against the allowed ``options``."""
    opts = list(options)
    if not isinstance(value, str) or value not in opts:
        raise ValueError(f"{name} == {value!r}, must be one of {opts}.")
    return value


def check_sorted_unique(times: pd.Series | np.ndarray, name: str, *, strict: bool = True) -> None:
    """Times must increase (strictly, unless ``strict=False``)."""
    if isinstance(times, (pd.Series, pd.Index)) and (
        isinstance(times.dtype, pd.DatetimeTZDtype) or np.issubdtype(times.dtype, np.datetime64)
    ):
        shown = times
        arr = pd.DatetimeIndex(times).asi8
    else:
        arr = np.asarray(times)
        shown = arr
        if np.issubdtype(arr.dtype, np.datetime64):
            arr = arr.astype("datetime64[ns]").astype(np.int64)
    if arr.size < 2:
        return
    zero = arr[1:] - arr[:-1]
    bad = zero <= 0 if strict else zero < 0
    if np.any(bad):
        pos = int(np.flatnonzero(bad)[0]) + 1
        shown = np.asarray(shown)
        what = "unsorted or duplicate" if strict else "unsorted"
        raise ValueError(
            f"{name} has {what} timestamps: {shown[pos - 1]} then {shown[pos]} at position {pos}."
        )


def check_timedelta(x: object, name: str, *, example: str = "'1min'") -> pd.Timedelta:
    """A positive time span (``'5min'``, a Timedelta, ...) as a ``pd.Timedelta``.

    Raises
    ------
    ValueError
        If ``x`` cannot be read as a time span or is not positive.
    """
    try:
        td = pd.Timedelta(x)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} == {x!r}, must be a time span such as {example}.") from None
    if pd.isna(td) or td <= pd.Timedelta(0):
        raise ValueError(f"{name} == {x!r}, must be positive.")
    return td
