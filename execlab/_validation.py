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
    "first_bad",
]


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
        arr = np.asarray(x, dtype=np.float64)
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
    """Whole-share, non-negative order quantities as a 1-D int64 array."""
    arr = check_array(np.atleast_1d(np.asarray(x)) if np.ndim(x) == 0 else x, name, ndim=1, min_val=0)
    frac = arr != np.floor(arr)
    if frac.any():
        pos, val = first_bad(arr, frac)
        raise ValueError(f"{name}[{pos}] == {val}, must be a whole number of shares.")
    if (arr > 2**51).any():
        pos, val = first_bad(arr, arr > 2**51)
        raise ValueError(f"{name}[{pos}] == {val}, must be <= 2**51.")
    return arr.astype(np.int64)


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
) -> np.ndarray:
    """A finite float64 column of ``df``, with the row label of the first bad value."""
    try:
        arr = pd.to_numeric(df[column], errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} column {column!r} must be numeric: {exc}") from None
    bad = ~np.isfinite(arr)
    if min_val is not None:
        bad |= (arr < min_val) if include_min else (arr <= min_val)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        op = ">=" if include_min else ">"
        rng = f" and {op} {min_val}" if min_val is not None else ""
        raise ValueError(
            f"{name} column {column!r} has {arr[pos]} at row {df.index[pos]!r}; "
            f"values must be finite{rng}."
        )
    return arr


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
