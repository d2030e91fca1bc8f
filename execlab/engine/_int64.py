"""Share counts as int64, without silent wrap-around.

numpy casts a float of 1e19 to int64 as -9223372036854775808 and adds int64
arrays modulo 2**64, without a warning.  Every place where the engine turns a
number into an int64 share count, or adds share counts into a position, goes
through these checks first, so a count outside the int64 range is a
``ValueError`` naming it instead of a wrong position.
"""

from __future__ import annotations

import numpy as np

__all__ = ["INT64_MAX", "to_int64", "check_grouped_sums"]

INT64_MAX = int(np.iinfo(np.int64).max)
_LO, _HI = -(2.0**63), 2.0**63  # float64 x converts exactly iff _LO <= x < _HI (and x is whole)
_SAFE = 2.0**62  # a float bound below this cannot hide an int64 overflow (float error is far smaller)


def _show(v: object) -> str:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str):
        return repr(v)
    return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)


def to_int64(values: object, name: str, *, labels: object = None, index_name: str = "position") -> np.ndarray:
    """Whole numbers as int64, after checking each is finite, whole and inside the int64 range.

    Parameters
    ----------
    values : array_like
        Integers (any width, or Python ints of any size) or floats.
    name : str
        What the values are, for the error message (``"positions: shares"``).
    labels : array_like, optional
        A label per value (ticker, row) named in the error.
    index_name : str, default "position"
        Without ``labels``, the error names the value's ``index_name`` and
        index (``"row 3"``).

    Raises
    ------
    ValueError
        A value that is NaN, infinite, fractional or outside
        [-2**63, 2**63 - 1].

    Examples
    --------
    >>> to_int64([1.0, 2], "shares").tolist()
    [1, 2]
    >>> to_int64([1e19], "shares")
    Traceback (most recent call last):
    ...
    ValueError: shares == 1e+19 at position 0, outside the int64 range of a share count (|shares| <= 9,223,372,036,854,775,807).
    """
    try:
        arr = np.asarray(values)
    except (OverflowError, ValueError):
        arr = np.asarray(values, dtype=object)
    if arr.dtype.kind not in "iufO":
        flat = arr.ravel()
        _raise(name, index_name, flat[0].item() if len(flat) else None, 0, labels, "must be a whole number")
    if arr.dtype.kind == "i" and arr.dtype.itemsize <= 8:
        return arr.astype(np.int64)
    if arr.dtype.kind in "iu" or arr.dtype == object:
        flat = arr.ravel()
        out = np.empty(flat.shape, np.int64)
        for i, v in enumerate(flat.tolist()):  # Python ints of any size: compare exactly
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not (np.isfinite(v) and v == int(v))):
                _raise(name, index_name, v, i, labels, "must be a whole number")
            iv = int(v)
            if not -(INT64_MAX + 1) <= iv <= INT64_MAX or (isinstance(v, float) and not _LO <= v < _HI):
                _raise(name, index_name, v, i, labels, None)
            out[i] = iv
        return out.reshape(arr.shape)
    f = arr.astype(np.float64)
    bad = ~np.isfinite(f) | (f != np.round(f))
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        _raise(name, index_name, f.ravel()[i].item(), i, labels, "must be a whole number")
    out_of = (f < _LO) | (f >= _HI)
    if out_of.any():
        i = int(np.flatnonzero(out_of.ravel())[0])
        _raise(name, index_name, f.ravel()[i].item(), i, labels, None)
    return f.astype(np.int64)


def _raise(name: str, index_name: str, v: object, i: int, labels: object, why: str | None) -> None:
    where = f" for {_show(np.asarray(labels, dtype=object).ravel()[i])}" if labels is not None else f" at {index_name} {i}"
    if why is None:
        why = f"outside the int64 range of a share count (|{name.split(': ')[-1]}| <= {INT64_MAX:,})"
    raise ValueError(f"{name} == {_show(v)}{where}, {why}.")


def check_grouped_sums(start: np.ndarray, deltas: np.ndarray, group: np.ndarray, name: str,
                       labels: object = None) -> None:
    """Check that running sums ``start[g] + cumsum(deltas within g)`` stay inside int64.

    ``group`` gives each delta's group (in the order they are summed) and
    ``start`` each group's opening value (both int64).  Raises a
    ``ValueError`` naming the group (``labels[g]``) if a running sum leaves
    [-2**63, 2**63 - 1].  The check is a float bound on ``|start| +
    cumsum |delta|``, exact (Python integers) only for groups near the limit,
    so it costs one pass of array sums in practice.
    """
    start = np.asarray(start, dtype=np.int64)
    deltas = np.asarray(deltas, dtype=np.int64)
    group = np.asarray(group, dtype=np.int64)
    if len(deltas) == 0:
        return
    bound = np.abs(start.astype(np.float64))
    np.add.at(bound, group, np.abs(deltas.astype(np.float64)))
    risky = np.flatnonzero(bound >= _SAFE)
    for g in risky:  # exact running sums, only for groups that could overflow
        run = int(start[g])
        for v in deltas[group == g].tolist():
            run += v
            if not -(INT64_MAX + 1) <= run <= INT64_MAX:
                who = _show(np.asarray(labels, dtype=object)[g]) if labels is not None else str(g)
                raise ValueError(f"{name} of {who} would reach {run:,} shares, outside the int64 range of a share "
                                 f"count (|shares| <= {INT64_MAX:,}); nothing was changed.")
