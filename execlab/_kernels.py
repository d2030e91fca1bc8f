"""Array kernels shared by the pipeline: grouped cumulative sums, one-pass cumulative rounding.

Kernels take clean arrays (int64 shares, float64 fractions) and do no input
checking: the public functions that call them validate on entry
(:mod:`execlab._validation`).  Each is a whole-array numpy pass, with no
Python loop over orders or fills; cumulative rounding also has a compiled
one-pass loop, used when numba is installed, with identical results
(:mod:`execlab._compiled`).
"""

from __future__ import annotations

import numpy as np

from ._compiled import jit

__all__ = ["round_cumulative", "run_starts", "group_cumsum", "group_exclusive_cumsum", "cap_recurrence", "average_cost_path", "interval_sum"]


# Adding 2**52 to a float in [0, 2**52) rounds it to the nearest integer (ties to even, which
# is monotone) and leaves that integer in the low mantissa bits, so the bit patterns, read as
# int64, difference to exact integer child sizes: rounding, casting and differencing in one pass.
_MAGIC = 2.0**52
_MAGIC_BITS = np.array(_MAGIC).view(np.int64)
# Cells per block: the float scratch (~0.8 MB, 256 orders x 390 bins) stays in cache, so only
# the int64 result travels to memory; short schedules take more orders per block, so the
# per-block cost of a few numpy calls does not dominate at 10 bins.
_BLOCK_CELLS = 256 * 390
_BLOCK_ROWS = 256  # the least: kept for callers that tune it


def round_cumulative(quantity: np.ndarray, cum_fraction: np.ndarray, lot: int) -> np.ndarray:
    """Integer child quantities from cumulative target fractions.

    ``cum_fraction`` has shape (orders, bins) or (bins,), non-decreasing along
    bins, ending at 1.  Returns int64 (orders, bins) summing to ``quantity``.

    Parameters
    ----------
    quantity : ndarray of int64, shape (orders,)
        Parent quantities in shares, >= 0 and below 2**52.
    cum_fraction : ndarray of float64, shape (bins,) or (orders, bins)
        Cumulative share of each parent order to have traded by the end of
        each bin; 1-D is shared by all orders.
    lot : int
        Round lot in shares, >= 1.

    Returns
    -------
    ndarray of int64, shape (orders, bins)
        Child quantities (shares).

    Notes
    -----
    The cumulative target :math:`C_{ij} = q_i c_{ij}` is rounded to lots and
    differenced.  Whole-lot orders round to the nearest lot (an exact half
    goes to even with ``lot == 1``, up with larger lots); orders with an odd-lot remainder round *down*, so the cumulative never
    passes ``q``, and the remainder lands in the first bin where the
    cumulative fraction reaches 1 (the last bin, unless a profile ends with
    empty bins).  Either rounding is
    monotone, so children are never negative, and each differs from its ideal
    :math:`q_i (c_{ij} - c_{i,j-1})` by less than one lot (at most one lot
    for nearest rounding at exact ties).

    There are two paths with identical results, bit for bit: a compiled
    loop that writes each child once (numba, the optional ``fast`` extra;
    see :mod:`execlab._compiled`), and the numpy reference
    :func:`_round_cumulative_numpy`, used without numba, with
    ``EXECLAB_NO_NUMBA=1``, and for inputs outside the compiled loop's types
    (quantities not int64, fractions not float64) or shapes (fewer profile
    rows than orders, no bins; the numpy path raises on those).  Both do the same IEEE
    float64 operations in the same order, round with the same :math:`2^{52}`
    addition, and difference the same bit patterns.

    Guarantees, for inputs as described above:

    * rows sum exactly to ``quantity`` (the last cumulative value is set to
      :math:`q_i` itself, not rounded);
    * no child is negative;
    * every child is a whole number of lots, except, for an order that is not
      a whole number of lots, the first bin where the cumulative fraction
      reaches 1, which takes the odd-lot remainder (no child after it);
    * the result does not depend on the block size.

    Examples
    --------
    >>> import numpy as np
    >>> round_cumulative(np.array([1000, 10]), np.array([0.25, 0.5, 0.75, 1.0]), 1)
    array([[250, 250, 250, 250],
           [  2,   3,   3,   2]])
    >>> round_cumulative(np.array([1050]), np.array([0.5, 1.0]), 100)
    array([[500, 550]])
    """
    kernel = jit(_round_cumulative_loop)
    c = np.atleast_2d(cum_fraction)
    n_orders = quantity.size
    # The compiled loop reads row i (or row 0 if shared) unchecked: anything it cannot index, or
    # types it was not written for, goes to the numpy path, which raises or computes as before.
    if (
        kernel is None
        or quantity.dtype != np.int64
        or quantity.ndim != 1
        or c.dtype != np.float64
        or c.ndim != 2
        or c.shape[1] == 0
        or (n_orders > 0 and c.shape[0] < (n_orders if c.shape[0] > 1 else 1))
        or not isinstance(lot, (int, np.integer))
    ):
        return _round_cumulative_numpy(quantity, cum_fraction, lot)
    out = np.empty((n_orders, c.shape[1]), dtype=np.int64)
    kernel(np.ascontiguousarray(quantity), np.ascontiguousarray(c), int(lot), c.shape[0] > 1, out)
    return out


def _round_cumulative_loop(quantity: np.ndarray, c: np.ndarray, lot: int, per_order: bool, out: np.ndarray) -> None:
    """One pass of :func:`round_cumulative` into ``out``, order by order (compiled; see :mod:`execlab._compiled`).

    The same float64 operations as :func:`_round_cumulative_numpy`, in the same
    order, so the two agree bit for bit: ``q_i * c_ij``; for ``lot > 1``
    ``floor(t / lot + h) * lot`` with ``h`` 0.5, or 0.0 for an odd-lot order
    (added all the same, as numpy does: it turns -0.0 into 0.0), and ``q_i``
    itself where an odd-lot order's fraction reaches 1; ``q_i`` in the last bin;
    then ``+ 2**52`` and the difference of the bit patterns read as int64.
    Only the row being built is float scratch (a few kB, in cache); each child
    is written once.

    Parameters
    ----------
    quantity : ndarray of int64, shape (orders,)
    c : ndarray of float64, shape (1, bins) or (rows >= orders, bins)
        Cumulative fractions, C-contiguous; row 0 is shared unless ``per_order``.
    lot : int
    per_order : bool
        Whether order ``i`` reads row ``i`` of ``c``.
    out : ndarray of int64, shape (orders, bins)
        Written in full.
    """
    n_orders, n_bins = out.shape
    magic = 2.0**52
    row = np.empty(n_bins)
    # The bit patterns of (t + 2**52): the numpy path's int64 view, not rint, whose results differ
    # outside [0, 2**52) (a cumulative target below -0.25 shares, say).
    row_bits = row.view(np.int64)
    row[0] = magic
    magic_bits = row_bits[0]
    for i in range(n_orders):
        q = np.float64(quantity[i])
        r = i if per_order else 0
        if lot > 1:
            odd = quantity[i] % lot != 0
            half = 0.0 if odd else 0.5
            for j in range(n_bins):
                t = np.floor(q * c[r, j] / lot + half) * lot
                if odd and c[r, j] >= 1.0:
                    t = q
                row[j] = t + magic
        else:
            for j in range(n_bins):
                row[j] = q * c[r, j] + magic
        row[n_bins - 1] = q + magic  # exact row sums
        out[i, 0] = row_bits[0] - magic_bits
        for j in range(1, n_bins):
            out[i, j] = row_bits[j] - row_bits[j - 1]


def _round_cumulative_numpy(quantity: np.ndarray, cum_fraction: np.ndarray, lot: int) -> np.ndarray:
    """:func:`round_cumulative` in numpy: the reference, and the path without numba.

    Three whole-block passes per cell (multiply, round by the :math:`2^{52}`
    addition, difference the bit patterns) over blocks of at least 256 orders,
    never a loop over single orders.  Same parameters and result as
    :func:`round_cumulative`.
    """
    c = np.atleast_2d(cum_fraction)
    n_orders, n_bins = quantity.size, c.shape[1]
    per_order = c.shape[0] > 1
    q1 = quantity.astype(np.float64)
    q = q1[:, None]
    out = np.empty((n_orders, n_bins), dtype=np.int64)
    rows = max(_BLOCK_ROWS, _BLOCK_CELLS // max(n_bins, 1))
    scratch = np.empty((min(rows, max(n_orders, 1)), n_bins))
    iscratch = scratch.view(np.int64)
    odd = (quantity % lot != 0)[:, None] if lot > 1 else None
    for start in range(0, n_orders, rows):
        stop = min(start + rows, n_orders)
        t = scratch[: stop - start]
        # einsum's outer-product loop is about twice as fast here as a broadcast multiply,
        # and each cell is still the one correctly rounded product q_i * c_ij (no sums).
        if per_order:
            np.einsum("i,ij->ij", q1[start:stop], c[start:stop], out=t)
        else:
            np.einsum("i,j->ij", q1[start:stop], c[0], out=t)
        if lot > 1:
            t /= lot
            # Odd-lot orders: floor (so cumulative <= q); others: nearest lot.
            np.floor(t + np.where(odd[start:stop], 0.0, 0.5), out=t)
            t *= lot
            # Once the target is complete the order is done: an odd-lot remainder goes in the first
            # bin where the cumulative fraction reaches 1, not in later bins a profile leaves empty.
            full = (c[start:stop] if per_order else c[:1]) >= 1.0
            np.copyto(t, q[start:stop], where=full & odd[start:stop])
        t[:, -1] = q[start:stop, 0]  # exact row sums
        t += _MAGIC
        it = iscratch[: stop - start]
        flat_i, flat_out = it.reshape(-1), out[start:stop].reshape(-1)
        np.subtract(flat_i[1:], flat_i[:-1], out=flat_out[1:])
        out[start:stop, 0] = it[:, 0] - _MAGIC_BITS  # overwrite the row-boundary differences
    return out


def group_exclusive_cumsum(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Sum of the earlier values within each run of equal ``group`` (runs contiguous).

    Parameters
    ----------
    values : ndarray, shape (n,)
        Values to accumulate (e.g. shares per fill).
    group : ndarray, shape (n,)
        Group label of each value; equal labels must be contiguous (sorted by
        group), each run being one group.

    Returns
    -------
    ndarray, shape (n,)
        For each position, the sum of the values before it in its run (0 at
        the start of each run), in the dtype of ``values``.  Exact for
        integer input.

    Examples
    --------
    >>> import numpy as np
    >>> group_exclusive_cumsum(np.array([5, 3, 2, 7, 1]), np.array([0, 0, 0, 4, 4]))
    array([0, 5, 8, 0, 7])
    """
    if len(values) == 0:
        return values.copy()
    excl = np.cumsum(values) - values
    start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    base = np.repeat(excl[start], np.diff(np.r_[start, len(values)]))
    return excl - base


def run_starts(values: np.ndarray) -> np.ndarray:
    """Positions where a run of equal values starts (NaN != NaN: each NaN is a run of its own).

    Parameters
    ----------
    values : ndarray, shape (n,)
        Any numpy dtype that ``!=`` compares element by element.

    Returns
    -------
    ndarray of int64, shape (runs,)
        The first position of each run, starting with 0 (empty for an empty input).

    Examples
    --------
    >>> run_starts(np.array([7, 7, 3, 3, 3, 7])).tolist()
    [0, 2, 5]
    """
    n = len(values)
    if n == 0:
        return np.zeros(0, np.int64)
    # Chunk by chunk: no n-long temporary (millions of fills would each touch a fresh page of it), one small buffer.
    starts = [np.zeros(1, np.int64)]
    change = np.empty(min(n - 1, _RUN_CHUNK), bool)
    for lo in range(0, n - 1, _RUN_CHUNK):
        hi = min(n - 1, lo + _RUN_CHUNK)
        c = change[:hi - lo]
        np.not_equal(values[lo + 1:hi + 1], values[lo:hi], out=c)
        starts.append(np.flatnonzero(c) + (lo + 1))
    return np.concatenate(starts)


_RUN_CHUNK = 1 << 15


def group_cumsum(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Inclusive cumulative sum within runs of equal ``group`` (int64, exact).

    Parameters
    ----------
    values : array_like of int, shape (n,)
        Values to accumulate, converted to int64 (e.g. shares per fill).
    group : ndarray, shape (n,)
        Group label of each value; equal labels must be contiguous (sorted by
        group), each run being one group.

    Returns
    -------
    ndarray of int64, shape (n,)
        For each position, the sum of the values up to and including it in
        its run.

    Examples
    --------
    >>> import numpy as np
    >>> group_cumsum(np.array([5, 3, 2, 7, 1]), np.array([0, 0, 0, 4, 4]))
    array([ 5,  8, 10,  7,  8])
    """
    values = np.asarray(values, dtype=np.int64)
    if len(values) == 0:
        return values.copy()
    cum = np.cumsum(values)
    start = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    base = np.repeat(cum[start] - values[start], np.diff(np.r_[start, len(values)]))
    return cum - base


def cap_recurrence(
    n: int,
    order_code: np.ndarray,
    rel_pos: np.ndarray,
    rel_bar: np.ndarray,
    rel_shares: np.ndarray,
    cap: np.ndarray,
    is_day_last: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill released shares bar by bar under a participation cap shared per ticker.

    Orders are in ticker-sorted positions (``order_code`` non-decreasing).
    ``rel_*`` lists released shares per (position, bar), sorted by bar.
    ``cap`` is (tickers, bars): the most shares all orders of a ticker may
    fill in that bar.  Returns fills as (position, bar, shares).
    """
    n_bars = cap.shape[1]
    bounds = np.searchsorted(rel_bar, np.arange(n_bars + 1), side="left")
    backlog = np.zeros(n, dtype=np.int64)
    pending = 0
    out_pos, out_bar, out_sh = [], [], []
    n_tickers = cap.shape[0]
    # Only bars from the first release to the close of the last session with a release can fill.
    first = int(rel_bar[0]) if len(rel_bar) else n_bars
    stop = int(np.flatnonzero(is_day_last[int(rel_bar[-1]):])[0]) + int(rel_bar[-1]) + 1 if len(rel_bar) else n_bars
    for t in range(first, stop):
        lo, hi = bounds[t], bounds[t + 1]
        if hi > lo:
            # add.at: several bins of one order may land in the same bar
            np.add.at(backlog, rel_pos[lo:hi], rel_shares[lo:hi])
            pending += int(rel_shares[lo:hi].sum())
        if pending > 0:
            pos = np.flatnonzero(backlog)
            d = backlog[pos]
            code = order_code[pos]
            demand = np.bincount(code, weights=d, minlength=n_tickers)
            c = cap[:, t]
            constrained = demand > c
            if constrained.any():
                # Pro rata within each ticker by cumulative rounding: each order gets
                # the floor or ceiling of its share d_i * C / D and the ticker's fills
                # sum to exactly C.  Cumulative sums are restarted per ticker.
                cum = np.cumsum(d)
                before = np.cumsum(demand) - demand
                within = (cum - before[code]).astype(np.float64)
                scaled = np.floor(within * c[code] / demand[code] + 0.5)
                alloc = np.where(constrained[code], scaled, within).astype(np.int64)
                prev = np.empty_like(alloc)
                prev[0] = 0
                prev[1:] = alloc[:-1]
                prev[np.r_[True, code[1:] != code[:-1]]] = 0
                fill = np.clip(alloc - prev, 0, d)
            else:
                fill = d
            hit = fill > 0
            if hit.any():
                out_pos.append(pos[hit])
                out_bar.append(np.full(int(hit.sum()), t, dtype=np.int64))
                out_sh.append(fill[hit])
                backlog[pos] -= fill
                pending -= int(fill.sum())
        if is_day_last[t] and pending > 0:
            # Session close: whatever is left is unfilled; nothing carries overnight.
            backlog[:] = 0
            pending = 0
    if out_pos:
        return np.concatenate(out_pos), np.concatenate(out_bar), np.concatenate(out_sh)
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty.copy(), empty.copy()


def _affine_scan(m: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Solve x_k = m_k x_{k-1} + a_k (x_{-1} = 0) for all k by a Hillis-Steele scan.

    Composition of affine maps is associative, so log2(n) whole-array steps
    replace the sequential loop.  ``m`` must be finite; here 0 <= m <= 1.
    """
    m = m.astype(np.float64).copy()
    a = a.astype(np.float64).copy()
    s = 1
    n = len(m)
    while s < n:
        m_prev = m[:-s].copy()
        a_prev = a[:-s].copy()
        a[s:] = m[s:] * a_prev + a[s:]
        m[s:] = m[s:] * m_prev
        s *= 2
    return a


def average_cost_path(
    group_start: np.ndarray,
    p0: np.ndarray,
    c0: np.ndarray,
    d: np.ndarray,
    price: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions, average costs and realized P&L after each fill.

    Rows are fills sorted by (ticker, time); ``group_start`` marks each
    ticker's first fill, ``p0``/``c0`` (per row, used at group starts) its
    position and average cost before the batch.

    Returns position after, average cost before, average cost after and
    realized P&L of each fill.
    """
    n = len(d)
    # position before each fill: p0 + cumsum of earlier fills of the same ticker
    csum = np.cumsum(d)
    start_idx = np.maximum.accumulate(np.where(group_start, np.arange(n), 0))
    before_group = np.where(start_idx > 0, csum[start_idx - 1], 0)
    pos_after = p0 + (csum - before_group)
    pos_before = pos_after - d
    ab, aa = np.abs(pos_before), np.abs(pos_after)
    same = (np.sign(pos_before) * np.sign(pos_after)) > 0
    increase = (pos_before == 0) | (same & (aa > ab))
    flip = (np.sign(pos_before) * np.sign(pos_after)) < 0
    # B = |P| * average cost evolves as an affine map B' = m B + a
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(increase, 1.0, np.where(flip, 0.0, np.where(ab > 0, aa / np.where(ab > 0, ab, 1), 0.0)))
    a = np.where(increase, np.abs(d) * price, np.where(flip, aa * price, 0.0))
    # Reset each ticker's chain at its first fill with its opening cost basis.
    b0 = np.abs(p0) * c0
    a = np.where(group_start, m * b0 + a, a)
    m = np.where(group_start, 0.0, m)
    basis = _affine_scan(m, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        cost_after = np.where(aa > 0, basis / np.where(aa > 0, aa, 1), 0.0)
    cost_before = np.empty(n)
    cost_before[1:] = cost_after[:-1]
    cost_before[group_start] = c0[group_start]
    # Reductions keep the cost exactly (no float drift from B / |P|).
    reduce_ = ~increase & ~flip
    # propagate exact cost through runs of reductions: take cost at the last non-reduction row
    last_set = np.maximum.accumulate(np.where(~reduce_ | group_start, np.arange(n), 0))
    exact_src = np.where(group_start[last_set] & reduce_[last_set], c0[last_set], cost_after[last_set])
    cost_after = np.where(reduce_ & (aa > 0), exact_src, cost_after)
    cost_before[1:] = cost_after[:-1]
    cost_before[group_start] = c0[group_start]
    closed = np.where(np.sign(d) * np.sign(pos_before) < 0, np.minimum(np.abs(d), ab), 0)
    realized = closed * (price - cost_before) * np.sign(pos_before)
    return pos_after, cost_before, cost_after, realized


def interval_sum(values: np.ndarray, code: np.ndarray, b0: np.ndarray, b1: np.ndarray) -> np.ndarray:
    """Sum of ``values[code_i, b0_i : b1_i + 1]`` for every order, without cumulative sums.

    Differences of a day-long cumulative sum lose digits (a day's notional is
    ~1e9 dollars); ``np.add.reduceat`` adds each interval on its own.
    """
    k, t = values.shape
    flat = np.concatenate([values, np.zeros((k, 1))], axis=1).ravel()
    start = code * (t + 1) + b0
    stop = code * (t + 1) + b1 + 1
    if len(start) == 0:
        return np.zeros(0)
    # reduceat also sums each gap from one interval's stop to the next one's start (the odd slots,
    # thrown away); in start order those gaps add up to at most the array once, in input order they
    # can span it for every order.
    order = np.argsort(start, kind="stable")
    idx = np.empty(2 * len(start), dtype=np.int64)
    idx[0::2], idx[1::2] = start[order], stop[order]
    out = np.empty(len(start))
    out[order] = np.add.reduceat(flat, idx)[0::2]
    return out
