r"""The per-row rules of post-trade fills (reject mode) in one compiled pass.

:func:`execlab._orders.check_fills` applies its rules as whole-array numpy
operations: every rule a gather of an order's value per fill and a
comparison, ten or so passes over the fills.  :func:`fill_rule_loop` does the
same rules, in the same order, fill by fill, and in the same pass adds each
accepted fill's shares to its order's total (the overfill rule needs it).
The numpy version stays the reference and the path without numba; tests
check that both give the same reasons row for row.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fill_rule_loop"]


def fill_rule_loop(code, preset, row, t, t_miss, t_other, other_ticker, shares, integral, price, fee,  # per fill
                   arrival_ns, open_ns, end_ns, close_ns,                                       # per order
                   reasons, max_shares,                                                         # settings
                   executed):                                                                   # out, per order
    """Reason codes of the time, ticker, number and session rules into ``code``; accepted shares into ``executed``.

    Rows whose ``code`` is already set (their order id is unknown or their
    order rejected; ``preset`` says whether any is, else ``code`` is not
    read, only written where a rule is broken, so that its pages are never
    touched for a clean blotter) are left as they are.  For the others, the
    first rule
    broken, in this order, sets ``code[i] = reasons[k]``:

    ====  =====================================================================
    k     rule
    ====  =====================================================================
    0     time missing (``t_miss``; empty: none is)
    1     time in another time zone (``t_other``; empty: none is)
    2     ticker differs from the order's (``other_ticker``; empty: no column)
    3     shares not a whole number in (0, ``max_shares``) (``integral``: the
          column held integers, so only the range is checked)
    4     price not in (0, inf)
    5     fee not finite
    6     before the order's arrival
    7     before the open of its session
    8     after the order's end, where that end is before the close
    9     at or after the close
    ====  =====================================================================

    A row that breaks none adds its shares to ``executed[row[i]]``, in row
    order (as ``np.bincount`` adds them), so that the caller can look for
    overfills without another pass.  Returns the number of rows it coded.
    """
    has_ticker = other_ticker.shape[0] > 0
    has_missing = t_miss.shape[0] > 0                              # an empty mask: no row has it
    has_other = t_other.shape[0] > 0
    n_coded = 0
    for i in range(row.shape[0]):
        if preset and code[i] != 0:
            continue
        r = row[i]
        ti = t[i]
        q = shares[i]
        p = price[i]
        k = -1
        if has_missing and t_miss[i]:
            k = 0
        elif has_other and t_other[i]:
            k = 1
        elif has_ticker and other_ticker[i]:
            k = 2
        elif not (q > 0 and q < max_shares and (integral or q == np.floor(q))):  # NaN fails every comparison
            k = 3
        elif not (p > 0 and p < np.inf):
            k = 4
        elif not np.isfinite(fee[i]):
            k = 5
        elif ti < arrival_ns[r]:
            k = 6
        elif ti < open_ns[r]:
            k = 7
        elif ti > end_ns[r] and end_ns[r] < close_ns[r]:
            k = 8
        elif ti >= close_ns[r]:
            k = 9
        if k >= 0:
            code[i] = reasons[k]
            n_coded += 1
        else:
            executed[r] += q
    return n_coded
