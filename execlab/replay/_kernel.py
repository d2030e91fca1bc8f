"""The replay loop: every child order walked over the events of its life, one after the other.

One function, :func:`replay_orders`, compiled by numba on first use when it
is installed (the ``replay`` extra, see :func:`kernel`) and run as plain
Python otherwise, with the same results.  The loop is sequential by nature (a queue position is a running
state), so it is written once over int64 arrays and left to the compiler.

Conventions (all int64 unless said): ``side`` is +1 for a buy, -1 for a sell;
prices are LOBSTER's dollars x 10,000; times are nanoseconds since the epoch;
``row`` is an event's position in the message file.  An order's price ``p``
is *better* than ``q`` for side ``s`` when ``s * (p - q) > 0``.

Our orders never change the book (the market does not react to them), but
they do share it with each other: ``used_trade[row]`` counts the shares of a
trade (or of a new order) already given to one of our orders, and
``taken[side, price]`` the displayed shares our orders already took at each
price (the file keeps showing them), so no share is filled twice.  Orders
are walked in the order given (the caller sorts them by arrival), which is
their priority among themselves: an earlier order's takes are seen by every
later one.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []

_COMPILED = None
_HELPERS = ("_depth", "_visible", "_prob_behind", "_grow", "_record", "_slot", "_take")


def kernel():
    """The replay loop, compiled by numba on first use (cached on disk), or plain Python without numba.

    numba is imported here, not with the package, so ``import execlab``
    stays fast; the helpers are compiled first so the loop calls them
    compiled.  ``kernel().py_func`` is the plain-Python loop (for checks).
    """
    global _COMPILED
    if _COMPILED is None:
        if not have_numba():  # no numba, or EXECLAB_NO_NUMBA set: the same loop as plain Python
            _COMPILED = replay_orders
            return _COMPILED
        import numba
        g = globals()
        for name in _HELPERS:
            if not hasattr(g[name], "py_func"):
                g[name] = numba.njit(cache=True)(g[name])
        _COMPILED = numba.njit(cache=True)(replay_orders)
    return _COMPILED


def have_numba() -> bool:
    """Whether the compiled loop is in use (the ``replay`` extra installed, ``EXECLAB_NO_NUMBA`` not set)."""
    from .._compiled import have_numba as compiled

    return compiled()

# Queue models (the ``model`` argument).
TOUCH, RISK_AVERSE, PROBABILISTIC, L3_FIFO, PROBABILISTIC_DRAWN = 0, 1, 2, 3, 4
# Probability functions of the probabilistic model.
POWER, LOG = 0, 1
# Order kinds.
MARKET, LIMIT_PRICE, LIMIT_TOUCH = 0, 1, 2
# Fill reasons.
R_MARKET, R_CROSSING, R_TRADE_AT_PRICE, R_TRADE_THROUGH, R_CROSSED_BY_NEW, R_BEHIND_EXECUTED = 0, 1, 2, 3, 4, 5
# Order statuses.
(S_FILLED, S_CANCELLED, S_OPEN_AT_END, S_BOOK_EXHAUSTED, S_CENSORED, S_REAL_ORDER_ENDED, S_NO_TOUCH,
 S_AFTER_LAST_EVENT, S_FIRST_FILL) = range(9)
# Columns of the integer fill record.
F_ORDER, F_LEG, F_ROW, F_TIME, F_PRICE, F_SHARES, F_TAKER, F_REASON = range(8)
NEVER = np.iinfo(np.int64).max
UNKNOWN_QUEUE = 1e18  # queue ahead of an order entering beyond the visible levels, until its price shows


def _depth(price_levels, size_levels, r, p):
    """Visible shares at price ``p`` on one side after event ``r`` (0 when the price is not a level)."""
    for j in range(price_levels.shape[1]):
        if price_levels[r, j] == p:
            return size_levels[r, j]
    return 0


def _visible(price_levels, size_levels, r, p, s):
    """Whether price ``p`` on side ``s`` lies within the book's N levels after event ``r``.

    A side with fewer than N occupied levels shows all there is (LOBSTER's
    dummy levels have size 0), so every price on it is visible.
    """
    last = price_levels.shape[1] - 1
    if size_levels[r, last] == 0:
        return True
    return s * (p - price_levels[r, last]) >= 0


def _prob_behind(front, back, function, power):
    """hftbacktest's probability that a cancel at our price came from behind us.

    ``f(back) / (f(back) + f(front))`` with ``f(x) = x**power`` (power) or
    ``f(x) = log(1 + x)`` (log): cancels far from the front of the queue
    are more likely behind a small queue ahead.
    """
    if function == POWER:
        fb, ff = back ** power, front ** power
    else:
        fb, ff = np.log1p(back), np.log1p(front)
    total = fb + ff
    if total <= 0.0:
        return 1.0
    return fb / total


def _grow(ints, floats, n):
    """Double the fill buffers when full (numba has no growable arrays)."""
    if n < ints.shape[0]:
        return ints, floats
    new_i = np.empty((2 * ints.shape[0], ints.shape[1]), dtype=np.int64)
    new_f = np.empty(2 * floats.shape[0], dtype=np.float64)
    new_i[:n] = ints[:n]
    new_f[:n] = floats[:n]
    return new_i, new_f


def _record(ints, floats, nf, i, leg, row, t, price, shares, taker, reason, queue):
    """Append one fill (growing the buffers when full); returns the buffers and the new count."""
    ints, floats = _grow(ints, floats, nf)
    ints[nf, F_ORDER] = i
    ints[nf, F_LEG] = leg
    ints[nf, F_ROW] = row
    ints[nf, F_TIME] = t
    ints[nf, F_PRICE] = price
    ints[nf, F_SHARES] = shares
    ints[nf, F_TAKER] = taker
    ints[nf, F_REASON] = reason
    floats[nf] = queue
    return ints, floats, nf + 1


def _slot(q, pmin, tick, nslots):
    """Index of price ``q`` on the consumption ledger's grid (-1 off the grid)."""
    k = (q - pmin) // tick
    if k < 0 or k >= nslots:
        return -1
    return k


def _take(i, leg, s, p, leaves, r, t, ask_p, ask_s, bid_p, bid_s, taken, pmin, tick, reason, any_price,
          ints, floats, nf):
    """Walk the opposite side's visible levels after event ``r`` at prices no worse than ``p``.

    ``taken[side, price]`` holds the displayed shares our orders already
    took at each price (side 0 the asks, 1 the bids).  The file keeps
    showing them, since the market does not react to us, so they are
    subtracted; when the displayed size falls below it, the market has
    removed them itself and the ledger shrinks to what is displayed.
    """
    levels = ask_p.shape[1]
    sd = 0 if s > 0 else 1
    nslots = taken.shape[1]
    for j in range(levels):
        if leaves == 0:
            break
        if s > 0:
            q, size = ask_p[r, j], ask_s[r, j]
        else:
            q, size = bid_p[r, j], bid_s[r, j]
        if size == 0:
            break  # an empty level: nothing further on this side
        if not any_price and s * (p - q) < 0:
            break  # the level is worse than our limit
        k = _slot(q, pmin, tick, nslots)
        used = 0
        if k >= 0:
            if taken[sd, k] > size:
                taken[sd, k] = size
            used = taken[sd, k]
        avail = size - used
        if avail <= 0:
            continue
        fill = min(leaves, avail)
        if k >= 0:
            taken[sd, k] += fill
        leaves -= fill
        ints, floats, nf = _record(ints, floats, nf, i, leg, r, t, q, fill, 1, reason, 0.0)
    return leaves, ints, floats, nf


def replay_orders(time, etype, oid, size, price, direction, arrival_row, next_id,
                  ask_p, ask_s, bid_p, bid_s,
                  side, shares, kind, limit_price, offset, peg, t_submit, t_cancel,
                  lat_feed, lat_entry, lat_response, lat_cancel, self_id, self_row,
                  model, function, power, tick, uniforms, stop_invisible, first_fill_only, share,
                  used_trade, taken, pmin):
    """Replay child orders over one ticker-day of events.

    ``first_fill_only`` (for validation) keeps walking an order after its
    first fill, to find where its observed life ends, without filling it
    again; ``share=False`` lets every order see the whole book (each real
    order replayed on its own), instead of sharing it among our orders.

    Returns ``(ints, floats, n_fills, order_ints, order_floats)``: the fill
    records (columns ``F_*``, queue ahead at the leg's entry in ``floats``)
    and per order ``[status, filled, legs, entry_row, end_row, censor_row,
    first_fill_row, entry_price, trades_at_price]`` with ``[queue ahead at
    entry, time invisible (ns)]``.
    """
    n = time.shape[0]
    m = side.shape[0]
    cap = max(16, 4 * m)
    ints = np.empty((cap, 8), dtype=np.int64)
    floats = np.empty(cap, dtype=np.float64)
    nf = 0
    order_ints = np.full((m, 9), -1, dtype=np.int64)
    order_floats = np.zeros((m, 2), dtype=np.float64)
    for i in range(m):
        s = side[i]
        leaves = shares[i]
        filled_before = nf
        status = S_OPEN_AT_END
        censor_row = -1
        first_fill = -1
        trades_at_price = 0
        invisible_ns = 0
        # What the strategy saw when it sent the order, and when the order reaches the exchange.
        if self_row[i] >= 0:
            entry = self_row[i]
            arrival = time[entry]
        else:
            arrival = t_submit[i] + lat_entry[i]
            entry = np.searchsorted(time, arrival, side="right")  # events at our arrival time came first
        if entry >= n:
            order_ints[i, 0] = S_AFTER_LAST_EVENT
            order_ints[i, 1] = 0
            order_ints[i, 2] = 0
            continue
        if entry == 0:  # the file has no book before its first event: the order enters after it
            entry = 1
            arrival = time[0]
            if n == 1:
                order_ints[i, 0] = S_AFTER_LAST_EVENT
                order_ints[i, 1] = 0
                order_ints[i, 2] = 0
                continue
        seen = np.searchsorted(time, t_submit[i] - lat_feed[i], side="right") - 1
        if seen < 0:
            seen = 0
        before = entry - 1  # the book our order meets
        cancel_at = NEVER if t_cancel[i] == NEVER else t_cancel[i] + lat_cancel[i]
        if cancel_at < arrival:  # the cancel is there first: the order never rests
            order_ints[i, 0] = S_CANCELLED
            order_ints[i, 1] = 0
            order_ints[i, 2] = 0
            order_ints[i, 3] = entry
            order_ints[i, 4] = before
            continue
        # The order's price.
        touch_seen = bid_p[seen, 0] if s > 0 else ask_p[seen, 0]
        touch_size = bid_s[seen, 0] if s > 0 else ask_s[seen, 0]
        if kind[i] == MARKET:
            p = 0
        elif kind[i] == LIMIT_PRICE:
            p = limit_price[i]
        else:
            if touch_size == 0:
                order_ints[i, 0] = S_NO_TOUCH
                order_ints[i, 1] = 0
                order_ints[i, 2] = 0
                continue
            p = touch_seen + s * offset[i] * tick
            if offset[i] > 0:  # "k ticks inside" stays passive: never at or through the far touch
                far = ask_p[seen, 0] if s > 0 else bid_p[seen, 0]
                far_size = ask_s[seen, 0] if s > 0 else bid_s[seen, 0]
                if far_size > 0 and s * (p - far) >= 0:
                    p = far - s * tick
                    if s * (p - touch_seen) < 0:
                        p = touch_seen
        order_ints[i, 3] = entry
        order_ints[i, 7] = p
        # Aggressive part at arrival.
        if kind[i] == MARKET:
            leaves, ints, floats, nf = _take(i, 0, s, p, leaves, before, arrival, ask_p, ask_s, bid_p, bid_s,
                                             taken, pmin, tick, R_MARKET, True, ints, floats, nf)
            if nf > filled_before:
                first_fill = before
            # What the N visible levels could not fill is taken from new orders on the other side as
            # they arrive (a level-N file does not show the deeper book), until filled or cancelled.
            e = entry
            last = before
            sd = 0 if s > 0 else 1
            while leaves > 0 and e < n and time[e] <= cancel_at:
                if etype[e] == 1 and direction[e] == -s:
                    # only an order the file shows (within the N levels) after it arrives
                    if s > 0:
                        shown = _depth(ask_p, ask_s, e, price[e])
                    else:
                        shown = _depth(bid_p, bid_s, e, price[e])
                    avail = min(size[e], shown) - used_trade[e] if shown > 0 else 0
                    if avail > 0:
                        fill = min(leaves, avail)
                        used_trade[e] += fill
                        k = _slot(price[e], pmin, tick, taken.shape[1])
                        if k >= 0:
                            taken[sd, k] += fill  # still displayed in the file's later rows
                        leaves -= fill
                        ints, floats, nf = _record(ints, floats, nf, i, 0, e, time[e], price[e], fill, 1, R_MARKET,
                                                   0.0)
                        last = e
                        if first_fill < 0:
                            first_fill = e
                e += 1
            if leaves == 0:
                order_ints[i, 0] = S_FILLED
            elif e < n:
                order_ints[i, 0] = S_CANCELLED
            else:
                order_ints[i, 0] = S_BOOK_EXHAUSTED
            order_ints[i, 1] = shares[i] - leaves
            order_ints[i, 2] = 1
            order_ints[i, 4] = last
            order_ints[i, 6] = first_fill
            order_ints[i, 8] = 0
            continue
        leg = 0
        if self_row[i] < 0:
            leaves, ints, floats, nf = _take(i, leg, s, p, leaves, before, arrival, ask_p, ask_s, bid_p, bid_s,
                                             taken, pmin, tick, R_CROSSING, False, ints, floats, nf)
            if nf > filled_before:
                first_fill = before
        # Resting part: the queue ahead is everything displayed at our price when we arrive.
        if s > 0:
            front = float(_depth(bid_p, bid_s, before, p))
        else:
            front = float(_depth(ask_p, ask_s, before, p))
        if model == TOUCH:
            front = 0.0
        last_invisible = -1
        vis0 = _visible(bid_p, bid_s, before, p, s) if s > 0 else _visible(ask_p, ask_s, before, p, s)
        if not vis0:  # a price beyond the N visible levels: its queue is unknown, so all of it may be ahead
            censor_row = entry
            last_invisible = entry
            if model != TOUCH:
                front = UNKNOWN_QUEUE
        order_floats[i, 0] = front
        leg_queue = front
        # Orders the file never shows arriving are ahead when their id is smaller than ours:
        # NASDAQ numbers orders in arrival order, and ours would get the next number.
        my_id = self_id[i] if self_row[i] >= 0 else next_id[entry]
        leg_entry = entry  # the row from which later arrivals are behind the current leg
        self_left = size[entry] if self_row[i] >= 0 else 0  # the real order's shares still in the book
        pending = False
        pending_price = 0
        pending_at = NEVER
        e = entry
        if self_row[i] >= 0:
            e = entry + 1  # the real order's own arrival is not an event for it
        end_row = n - 1
        while leaves > 0 and e < n:
            te = time[e]
            if te > cancel_at:
                status = S_CANCELLED
                end_row = e - 1
                break
            if pending and te > pending_at:  # the replace reaches the exchange: a new leg, at the back of the queue
                pending = False
                if last_invisible >= 0:
                    invisible_ns += pending_at - time[last_invisible]
                    last_invisible = -1
                p = pending_price
                leg += 1
                prev = e - 1
                n_before = nf
                leaves, ints, floats, nf = _take(i, leg, s, p, leaves, prev, pending_at, ask_p, ask_s, bid_p, bid_s,
                                                 taken, pmin, tick, R_CROSSING, False, ints, floats, nf)
                if nf > n_before and first_fill < 0:
                    first_fill = prev
                if leaves == 0:
                    break
                if model == TOUCH:
                    front = 0.0
                elif s > 0:
                    front = float(_depth(bid_p, bid_s, prev, p))
                else:
                    front = float(_depth(ask_p, ask_s, prev, p))
                leg_queue = front
                leg_entry = e  # a replace loses time priority: the orders that came before it are ahead
                my_id = next_id[e]
            t = etype[e]
            q = price[e]
            same = direction[e] == s
            fill = 0
            reason = -1
            is_self = self_row[i] >= 0 and oid[e] == self_id[i]
            if same and (t == 4 or t == 5):
                avail = size[e] - used_trade[e]
                if q == p:
                    if t == 4:
                        trades_at_price += 1
                    if model == TOUCH:
                        fill = min(leaves, avail)
                        reason = R_TRADE_AT_PRICE
                    elif t == 4:
                        if model == L3_FIFO:
                            ar = arrival_row[e]
                            ahead = (ar >= 0 and ar < leg_entry) or (ar < 0 and oid[e] < my_id)
                            if is_self:
                                ahead = False
                            if ahead:
                                front = max(front - size[e], 0.0)
                            else:
                                fill = min(leaves, avail)
                                reason = R_BEHIND_EXECUTED
                        else:
                            if front >= avail:
                                front -= avail
                            else:
                                fill = min(leaves, int(np.floor(avail - front)))
                                front = 0.0
                                reason = R_TRADE_AT_PRICE
                elif s * (p - q) > 0:  # a trade at a worse price went through ours
                    trades_at_price += 1
                    fill = min(leaves, avail)
                    reason = R_TRADE_THROUGH
            elif (not same) and t == 1 and s * (p - q) >= 0:  # a new order on the other side reaches our price
                fill = min(leaves, size[e] - used_trade[e])
                reason = R_CROSSED_BY_NEW
            elif same and (t == 2 or t == 3) and q == p and not is_self and model != TOUCH:
                if model == L3_FIFO:
                    ar = arrival_row[e]
                    if (ar >= 0 and ar < leg_entry) or (ar < 0 and oid[e] < my_id):
                        front = max(front - size[e], 0.0)
                elif model == PROBABILISTIC or model == PROBABILISTIC_DRAWN:
                    if s > 0:
                        prev_qty = float(_depth(bid_p, bid_s, e - 1, p)) - self_left
                    else:
                        prev_qty = float(_depth(ask_p, ask_s, e - 1, p)) - self_left
                    back = max(prev_qty - front, 0.0)
                    prob = _prob_behind(front, back, function, power)
                    chg = float(size[e])
                    if model == PROBABILISTIC:
                        front = front - (1.0 - prob) * chg + min(back - prob * chg, 0.0)
                    elif uniforms[e] < 1.0 - prob:
                        front = front - chg
                    if front < 0.0:
                        front = 0.0
                # risk_averse: only the cap below moves the queue on a cancel
            if first_fill_only and first_fill >= 0:
                fill = 0
            if fill > 0:
                if share:
                    used_trade[e] += fill
                    if reason == R_CROSSED_BY_NEW:  # the new order stays displayed in the file's later rows
                        k = _slot(q, pmin, tick, taken.shape[1])
                        if k >= 0:
                            taken[0 if s > 0 else 1, k] += fill
                if not first_fill_only:  # validation follows the order to the end of its real life
                    leaves -= fill
                ints, floats, nf = _record(ints, floats, nf, i, leg, e, te, p, fill, 0, reason, leg_queue)
                if first_fill < 0:
                    first_fill = e
            if is_self:
                if t == 2 or t == 4:
                    self_left -= size[e]
                if t == 3 or self_left <= 0:
                    status = S_REAL_ORDER_ENDED
                    end_row = e
                    break
            # Peg to the touch: seen after the feed latency, replaced after the entry latency.
            if peg[i] and not pending and leaves > 0:
                touch = bid_p[e, 0] if s > 0 else ask_p[e, 0]
                tsize = bid_s[e, 0] if s > 0 else ask_s[e, 0]
                if tsize > 0:
                    target = touch + s * offset[i] * tick
                    if offset[i] > 0:
                        far = ask_p[e, 0] if s > 0 else bid_p[e, 0]
                        far_size = ask_s[e, 0] if s > 0 else bid_s[e, 0]
                        if far_size > 0 and s * (target - far) >= 0:
                            target = far - s * tick
                            if s * (target - touch) < 0:
                                target = touch
                    if target != p:
                        pending = True
                        pending_price = target
                        pending_at = te + lat_feed[i] + lat_entry[i]
            # The cap: never more ahead of us than is displayed at our price (less the real order itself).
            if s > 0:
                vis = _visible(bid_p, bid_s, e, p, s)
            else:
                vis = _visible(ask_p, ask_s, e, p, s)
            if vis:
                if last_invisible >= 0:
                    invisible_ns += te - time[last_invisible]
                    last_invisible = -1
                if model != TOUCH:
                    if s > 0:
                        shown = float(_depth(bid_p, bid_s, e, p)) - self_left
                    else:
                        shown = float(_depth(ask_p, ask_s, e, p)) - self_left
                    if front > shown:
                        front = max(shown, 0.0)
            elif not pending:  # (a pegged order being moved is not left behind: its replace is in flight)
                if last_invisible < 0:
                    last_invisible = e
                if censor_row < 0:
                    censor_row = e
                if stop_invisible:
                    status = S_CENSORED
                    end_row = e
                    break
            e += 1
        if leaves == 0:
            status = S_FILLED
            end_row = int(ints[nf - 1, F_ROW]) if nf > filled_before else entry
        elif e >= n and status == S_OPEN_AT_END:
            end_row = n - 1
        if last_invisible >= 0:
            invisible_ns += time[end_row] - time[last_invisible] if end_row >= last_invisible else 0
        order_ints[i, 0] = status
        order_ints[i, 1] = shares[i] - leaves
        order_ints[i, 2] = leg + 1
        order_ints[i, 4] = end_row
        order_ints[i, 5] = censor_row
        order_ints[i, 6] = first_fill
        order_ints[i, 8] = trades_at_price
        order_floats[i, 1] = float(invisible_ns)
    return ints[:nf], floats[:nf], nf, order_ints, order_floats
