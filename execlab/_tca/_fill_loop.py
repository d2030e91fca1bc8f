r"""The per-fill TCA metrics and every per-order sum over fills, in one compiled pass.

:func:`fill_loop` does, fill by fill, the float operations of
:class:`execlab._tca._metrics._PerFill` (the numpy version, which stays the
reference and the path without numba) in the same order, so every per-fill
metric is bit for bit the same; and, in the same pass, what the numpy path
needs separate passes for: the shortfall sums (:class:`execlab._shortfall.FillSums`)
and the share-weighted sums behind the per-order means.  Sums over an
order's fills are added in fill order (the numpy path adds chunk subtotals),
so per-order means can differ from the numpy path in the last bits only.

One pass instead of some sixty numpy passes over 8k-fill chunks, and nothing
allocated per chunk.  Compiled by numba when it is
installed (:func:`execlab._compiled.jit`); :func:`execlab._tca._metrics.tca_core`
chooses.
"""

from __future__ import annotations

import numpy as np

from .._compiled import kernel_helper

__all__ = ["fill_loop", "fill_runs", "run_means"]

# Below this the float64 quotient of an int64 by the bar length is within 1/4 of the exact one (a session is under
# 2**47 ns), so truncating it and moving by one where the remainder leaves [0, freq) gives the floor exactly.
_EXACT = 2**50


@kernel_helper
def bar_and_rest(off, freq, inv_freq):
    """``(off // freq, off % freq)`` for int64 ``off`` and ``freq > 0`` (``inv_freq = 1 / freq``).

    Without the integer division (the slowest instruction of the fill
    loops) while ``|off| < _EXACT``: the float quotient is then within 1/4 of
    the exact one, and the remainder's sign puts it right; beyond, ``//``.

    Examples
    --------
    >>> bar_and_rest(np.int64(-1), np.int64(60), 1 / 60)
    (np.int64(-1), np.int64(59))
    """
    if -_EXACT < off < _EXACT:
        f0 = np.int64(off * inv_freq)
        rem = off - f0 * freq
        if rem < 0:
            f0 -= 1
            rem += freq
        elif rem >= freq:
            f0 += 1
            rem -= freq
    else:
        f0 = off // freq
        rem = off - f0 * freq                                      # in [0, freq)
    return f0, rem


def fill_loop(row, t, px, w, fee,                                  # per fill
              last, base, opens, close_off, sign, p_arr, arrival_scale, close_mid,  # per order
              mid_f, spread_f, mid_open_f, mid_close_f, freq,      # per (ticker, bar), flat; bar length in ns
              horizon_ns, mean_rows, keep, n_bins,                 # settings
              block, fb, num, nan_shares, tot,                     # out: per fill, per (metric, order), per order
              executed, fees, vs_arrival, last_ns, n_fills, grid):  # out: the shortfall sums and fill counts, per
                                                                   # order; per (order, bar)
    """Metrics of every fill into ``block`` (if ``keep``) and ``fb``; sums per order into the rest.

    Per fill ``i`` of order ``r = row[i]`` (rows of ``block`` as
    :func:`execlab._tca._metrics.tca_core`'s ``names``): the bar ``fb[i]`` (an
    offset from the session's open, clipped to the session; not written when
    ``fb`` is empty), the bar's mid and
    spread, ``vs_mid``, ``vs_far_touch``, ``spread_paid``,
    ``slippage_arrival`` and, per horizon, markout and reversion against the
    mid at ``t + h`` (interpolated in its bar; ``h < 0``: the close).  Per
    order: ``tot`` shares, ``num[j]`` shares x metric ``j`` and
    ``nan_shares[j]`` the shares of fills where metric ``j`` is NaN, for
    ``j`` in ``mean_rows``; ``executed``, ``fees``, ``vs_arrival`` (shares x
    (price - arrival price)), ``last_ns`` (the latest fill time) and
    ``n_fills``.  Per
    (order, bar of its session), when ``grid`` is not empty: shares, at
    ``grid[r * n_bins + fb[i]]``.  The outputs are accumulated into, so the
    caller zeroes them (``last_ns``: int64 min).
    """
    n_h = horizon_ns.shape[0]
    inv_freq = 1.0 / freq
    is_mean = np.zeros(6 + 2 * n_h, np.bool_)
    for jj in range(mean_rows.shape[0]):
        is_mean[mean_rows[jj]] = True
    n_m = 6 + 2 * n_h
    v = np.empty(n_m)
    h_bars = np.empty(n_h, np.int64)                               # each horizon in whole bars and the rest
    h_rem = np.empty(n_h, np.int64)
    for j in range(n_h):
        h_bars[j] = horizon_ns[j] // freq
        h_rem[j] = horizon_ns[j] - h_bars[j] * freq
    # Fills usually come order by order: while the order stays the same its values and running sums live in
    # locals, written back when it changes.  Each sum still starts from the order's total so far and adds the
    # fills in fill order, so the result is the same whatever the grouping.
    acc = np.zeros(n_m)                                            # the current order's num and nan_shares
    acc_nan = np.zeros(n_m)
    r = -1
    nb1 = b = o_open = co = 0
    fs = pa = a_scale = c_mid = 0.0
    s_tot = s_exe = s_fee = s_vsa = 0.0
    s_last = np.int64(0)
    s_cnt = np.int64(0)
    dense = grid.shape[0] > 0
    bars = fb.shape[0] > 0                                         # each fill's bar wanted (an empty fb: not)
    for i in range(row.shape[0] + 1):
        if i == row.shape[0] or row[i] != r:
            if r >= 0:                                             # write the finished run back
                tot[r] = s_tot
                executed[r] = s_exe
                fees[r] = s_fee
                vs_arrival[r] = s_vsa
                last_ns[r] = s_last
                n_fills[r] = s_cnt
                for jj in range(mean_rows.shape[0]):
                    j = mean_rows[jj]
                    num[j, r] = acc[j]
                    nan_shares[j, r] = acc_nan[j]
            if i == row.shape[0]:
                break
            r = row[i]
            nb1, b, o_open, co = last[r], base[r], opens[r], close_off[r]
            fs, pa, a_scale, c_mid = sign[r], p_arr[r], arrival_scale[r], close_mid[r]
            s_tot, s_exe, s_fee, s_vsa, s_last = tot[r], executed[r], fees[r], vs_arrival[r], last_ns[r]
            s_cnt = n_fills[r]
            for jj in range(mean_rows.shape[0]):
                j = mean_rows[jj]
                acc[j] = num[j, r]
                acc_nan[j] = nan_shares[j, r]
        ti = t[i]
        off = ti - o_open                                          # ns since the open of the fill's session
        f0, rem = bar_and_rest(off, freq, inv_freq)
        f = f0
        if f < 0:                                                  # before the open: the first bar
            f = 0
        if f > nb1:
            f = nb1
        if bars:
            fb[i] = f
        mid = mid_f[b + f]
        spr = spread_f[b + f]
        p = px[i]
        scale = 1e4 / mid
        scale = scale * fs                                         # bps of the mid, signed: positive = cost
        d = p - mid
        v[0] = mid
        v[1] = spr
        v[2] = scale * d                                           # vs_mid_bps
        v[3] = scale * (d - (fs * spr) * 0.5)                      # vs_far_touch_bps
        sp = (fs * d + spr * 0.5) / spr                            # spread_paid, S > 0
        if not spr > 0:
            sp = np.nan
        v[4] = sp
        v[5] = a_scale * (p - pa)                                  # slippage_arrival_bps
        for j in range(n_h):
            h = horizon_ns[j]
            if h < 0:                                              # the close: the last bar's closing mid
                mh = c_mid
            else:
                # Mid at t + h (at most the close): linear in time between the bar's mid_open and mid_close.
                oh = off + h
                if oh > co:
                    oh = co
                    bh = nb1 + 1                                   # = co // freq: the close is a bar boundary
                else:
                    # = oh // freq without a second integer division per horizon (the slowest instruction here)
                    bh = f0 + h_bars[j] + (1 if rem + h_rem[j] >= freq else 0)
                if bh < 0:
                    bh = 0
                if bh > nb1:
                    bh = nb1
                frac = (oh - bh * freq) / freq
                if frac < 0.0:
                    frac = 0.0
                mo = mid_open_f[bh + b]
                mh = mo + (mid_close_f[bh + b] - mo) * frac
            v[6 + 2 * j] = scale * (p - mh)                        # markout
            v[7 + 2 * j] = scale * (mid - mh)                      # reversion
        if keep:
            for j in range(n_m):
                block[j, i] = v[j]
        x = w[i]
        if dense:
            grid[r * n_bins + f] += x
        s_tot += x
        for j in range(n_m):
            if is_mean[j]:
                if np.isnan(v[j]):
                    acc_nan[j] += x
                else:
                    acc[j] += x * v[j]
        s_exe += x
        s_cnt += 1
        s_fee += fee[i]
        s_vsa += x * (p - pa)
        if ti > s_last:
            s_last = ti


# --- Per-order means without per-fill metrics (``keep_fills=False``) -------------------------------------------------
#
# Every per-fill metric is affine in the fill's price and, for the markouts, in the fraction of a bar elapsed at
# t + h; the mid, the spread and the sign are the same for all fills of an order in one bar.  So the share-weighted
# sum of a metric over an order's fills is the sum over its (order, bar) cells of that affine function applied to a
# few sums per cell:
#
#     W = sum w,   P = sum w (p - a),   F = sum w (t - bar start) / freq      (a: the order's arrival price)
#
# e.g. vs_mid: sum w 1e4 s (p - m) / m = 1e4 s / m (P - (m - a) W).  Prices are centred on the arrival price so that
# P - (m - a) W does not cancel two large numbers.  A horizon h of hb whole bars and a rest h_r takes a fill of bar f
# to bar f + hb when its offset in the bar is below freq - h_r and to f + hb + 1 otherwise ("carried"), at the
# fraction (offset + h_r) / freq of that bar, less one when carried: for each horizon with a rest, the carried fills'
# W and F are summed apart.  The per-fill pass then does a few additions per fill instead of every metric, and the
# metrics are evaluated once per run of fills in a cell.


def fill_runs(row, t, px, w, fee,                                  # per fill
              last, opens, p_arr, freq, n_bins, carry_from,        # per order; bar length in ns; bars per session;
                                                                   # per horizon with a rest: freq - rest
              tot, executed, fees, vs_arrival, last_ns, n_fills, grid,  # out, per order; per (order, bar)
              run_cell, run_w, run_p, run_f, run_wc, run_fc):      # out, per run of fills in one (order, bar)
    """The sums behind the per-order means, per run of consecutive fills in one (order, bar) cell.

    Accumulates the same per-order sums as :func:`fill_loop` (``tot``,
    ``executed``, ``fees``, ``vs_arrival``, ``last_ns``, ``n_fills``, and
    the shares per cell into ``grid``, of ``n_bins`` cells per order) and
    writes, per run of consecutive fills in one cell (fills come order by
    order and in time, so a cell is usually one run), the cell
    ``r * n_bins + bar`` and its sums ``W``, ``P``, ``F`` (see above) into
    ``run_cell``, ``run_w``, ``run_p``, ``run_f``, and for each horizon
    ``c`` with a rest the carried fills' ``W`` and ``F`` (offset in the bar
    at least ``carry_from[c]``) into ``run_wc[c]`` and ``run_fc[c]``.
    Returns the number of runs, or -1 when a fill is outside its order's
    session (checked fills never are; the caller then takes
    :func:`fill_loop`).
    """
    n_c = carry_from.shape[0]
    c_wc = np.zeros(n_c)
    c_fc = np.zeros(n_c)
    n_runs = 0
    r = -1
    cell = -1
    b_first = nb1 = np.int64(0)
    o_open = np.int64(0)
    pa = 0.0
    c_w = c_p = c_f = 0.0
    s_tot = s_exe = s_fee = s_vsa = 0.0
    s_last = np.int64(0)
    s_cnt = np.int64(0)
    inv_freq = 1.0 / freq
    for i in range(row.shape[0] + 1):
        if i == row.shape[0] or row[i] != r:
            if r >= 0:                                             # write the finished order back
                tot[r] = s_tot
                executed[r] = s_exe
                fees[r] = s_fee
                vs_arrival[r] = s_vsa
                last_ns[r] = s_last
                n_fills[r] = s_cnt
            if i == row.shape[0]:
                break
            r = row[i]
            nb1, o_open, pa = last[r], opens[r], p_arr[r]
            b_first = r * n_bins
            s_tot, s_exe, s_fee, s_vsa, s_last = tot[r], executed[r], fees[r], vs_arrival[r], last_ns[r]
            s_cnt = n_fills[r]
        ti = t[i]
        off = ti - o_open
        f0, rem = bar_and_rest(off, freq, inv_freq)
        if f0 < 0 or f0 > nb1:
            return -1
        c = b_first + f0
        if c != cell:
            if cell >= 0:
                run_cell[n_runs] = cell
                run_w[n_runs] = c_w
                run_p[n_runs] = c_p
                run_f[n_runs] = c_f
                for j in range(n_c):
                    run_wc[j, n_runs] = c_wc[j]
                    run_fc[j, n_runs] = c_fc[j]
                    c_wc[j] = 0.0
                    c_fc[j] = 0.0
                n_runs += 1
            cell = c
            c_w = c_p = c_f = 0.0
        x = w[i]
        xp = x * (px[i] - pa)
        xf = x * (rem / freq)
        grid[c] += x
        c_w += x
        c_p += xp
        c_f += xf
        for j in range(n_c):
            if rem >= carry_from[j]:
                c_wc[j] += x
                c_fc[j] += xf
        s_tot += x
        s_exe += x
        s_cnt += 1
        s_fee += fee[i]
        s_vsa += xp
        if ti > s_last:
            s_last = ti
    if cell >= 0:
        run_cell[n_runs] = cell
        run_w[n_runs] = c_w
        run_p[n_runs] = c_p
        run_f[n_runs] = c_f
        for j in range(n_c):
            run_wc[j, n_runs] = c_wc[j]
            run_fc[j, n_runs] = c_fc[j]
        n_runs += 1
    return n_runs


def run_means(run_cell, run_w, run_p, run_f, run_wc, run_fc, n_runs,  # per run (fill_runs)
              last, base, sign, p_arr, close_mid, n_bins,          # per order
              mid_f, spread_f, mid_open_f, mid_close_f,            # per (ticker, bar), flat
              horizon_bars, horizon_rest, carry_of, mean_rows,     # settings, per horizon: whole bars (< 0: the
                                                                   # close), rest / freq, its row in run_wc (or -1)
              num, nan_shares):                                    # out, per (metric, order)
    """Share-weighted sums of the per-fill metrics per order, from the runs of :func:`fill_runs`.

    ``num[j, r]`` and ``nan_shares[j, r]`` as :func:`fill_loop` gives them
    (metric rows as :func:`execlab._tca._metrics.tca_core`'s ``names``), for
    ``j`` in ``mean_rows``, equal up to rounding.  The caller makes sure that
    ``mid_open`` and ``mid_close`` are numbers in the orders' sessions, so a
    metric is NaN (its bar's mid or spread is) for all fills of a cell or for
    none, and a cell's shares go wholly to ``num`` or to ``nan_shares``.
    """
    n_h = horizon_bars.shape[0]
    v = np.empty(6 + 2 * n_h)
    for k in range(n_runs):
        c = run_cell[k]
        r = c // n_bins
        f = c - r * n_bins
        W = run_w[k]
        P = run_p[k]
        F = run_f[k]
        nb1, b, fs, pa = last[r], base[r], sign[r], p_arr[r]
        mid = mid_f[b + f]
        spr = spread_f[b + f]
        scale = 1e4 / mid
        scale = scale * fs
        d = P - (mid - pa) * W                                     # sum w (p - m)
        v[2] = scale * d                                           # vs_mid_bps
        v[3] = scale * (d - (fs * spr) * 0.5 * W)                  # vs_far_touch_bps
        sp = (fs * d + spr * 0.5 * W) / spr                        # spread_paid
        if not spr > 0:
            sp = np.nan
        v[4] = sp
        for j in range(n_h):
            hb = horizon_bars[j]
            if hb < 0:                                             # the close
                u = (close_mid[r] - pa) * W                        # sum w (m_h - a)
                q = (mid - close_mid[r]) * W                       # sum w (m - m_h)
            else:
                hr = horizon_rest[j]
                cj = carry_of[j]
                Wc = run_wc[cj, k] if cj >= 0 else 0.0
                Fc = run_fc[cj, k] if cj >= 0 else 0.0
                u = q = 0.0
                for g in range(2):                                 # the fills not carried, then the carried
                    if g == 0:
                        Wg = W - Wc                                # whole shares: exact
                        Fg = (F - Fc) + hr * Wg                    # sum w x fraction of bar f + hb elapsed at t + h
                    else:
                        if not Wc > 0:
                            break
                        Wg = Wc
                        Fg = Fc + (hr - 1.0) * Wc
                    bar = f + hb + g
                    if bar > nb1:                                  # at or after the close: the closing mid
                        mo = mid_open_f[b + nb1]
                        mh = mo + (mid_close_f[b + nb1] - mo) * 1.0
                        u += (mh - pa) * Wg
                        q += (mid - mh) * Wg
                    else:                                          # linear in time between the bar's open and close
                        mo = mid_open_f[b + bar]
                        dm = mid_close_f[b + bar] - mo
                        u += (mo - pa) * Wg + dm * Fg
                        q += (mid - mo) * Wg - dm * Fg
            v[6 + 2 * j] = scale * (P - u)                         # markout
            v[7 + 2 * j] = scale * q                               # reversion
        for jj in range(mean_rows.shape[0]):
            j = mean_rows[jj]
            if np.isnan(v[j]):
                nan_shares[j, r] += W
            else:
                num[j, r] += v[j]
