"""The level-1 limit order book behind :func:`execlab.synthetic.lobster_market`, one session at a time.

Plain Python over lists: each event touches only the best level of one side,
so the loop is over a session's events (a few thousand), with every random
draw made beforehand in whole-array numpy by the caller.
"""

from __future__ import annotations

__all__ = ["book_session"]

_STACK_DEPTH = 12  # price levels remembered behind the best on each side


def book_session(
    is_trade: list,
    trade_sign: list,
    trade_size: list,
    hidden: list,
    u_hidden: list,
    side: list,
    u_action: list,
    u_pick: list,
    u_partial: list,
    add_size: list,
    target: tuple[list, list],
    pool: list,
    start: tuple[int, int],
    first_id: int,
) -> list[int]:
    """Run the level-1 book over one session's events; return the rows, flattened.

    Each row is ``event, type, order_id, size, price, direction, ask, ask_size,
    bid, bid_size`` with prices in ticks.  Prices on both sides are stored as
    "higher is better" (the ask negated) so one code path serves both.  Each
    side is a stack of price levels (best last), each level ``[price, total,
    orders]`` with orders ``[id, remaining]`` in time priority.  Only the best
    level is ever touched, as in a LOBSTER level-1 file.
    """
    pool_i = 0
    n_pool = len(pool) - len(pool) % 4
    old_id = first_id - 1  # orders placed before the open count down from here
    new_id = first_id

    def fresh(price: int) -> list:
        # A level behind the best, made of orders placed before the open (never seen in the file).
        nonlocal pool_i, old_id
        k = 1 + pool[pool_i] % 3
        orders = []
        total = 0
        for j in range(k):
            sz = pool[(pool_i + 1 + j) % n_pool]
            orders.append([old_id, sz])
            old_id -= 1
            total += sz
        pool_i = (pool_i + 4) % n_pool
        return [price, total, orders]

    books = ([fresh(start[0])], [fresh(-start[1])])  # bid, ask
    for b in books:
        for _ in range(4):
            b.insert(0, fresh(b[0][0] - 1 - pool[pool_i] % 2))
    out: list[int] = []
    ext = out.extend
    bids, asks = books
    for i in range(len(is_trade)):
        if is_trade[i]:
            s = trade_sign[i]
            v = trade_size[i]
            if hidden[i]:
                bp, ap = bids[-1][0], -asks[-1][0]
                # Hidden liquidity rests inside the spread (or at the touch).
                if s > 0:
                    ext((i, 5, 0, v, bp + 1 + int(u_hidden[i] * (ap - bp)), -1, ap, asks[-1][1], bp, bids[-1][1]))
                else:
                    ext((i, 5, 0, v, ap - 1 - int(u_hidden[i] * (ap - bp)), 1, ap, asks[-1][1], bp, bids[-1][1]))
                continue
            book = asks if s > 0 else bids
            d = -1 if s > 0 else 1
            while v > 0:  # a marketable order walks the queue, then the next level
                lvl = book[-1]
                o = lvl[2][0]
                x = v if v < o[1] else o[1]
                o[1] -= x
                lvl[1] -= x
                v -= x
                if o[1] == 0:
                    del lvl[2][0]
                price = lvl[0]
                if lvl[1] == 0:
                    book.pop()
                    if not book:
                        book.append(fresh(price - 1))
                ext((i, 4, o[0], x, -price if d < 0 else price, d,
                     -asks[-1][0], asks[-1][1], bids[-1][0], bids[-1][1]))
            continue
        k = side[i]
        book, other = books[k], books[1 - k]
        d = 1 if k == 0 else -1
        lvl = book[-1]
        price = lvl[0]
        goal = target[k][i]
        orders = lvl[2]
        n = len(orders)
        u = u_action[i]
        if price < goal:
            # The efficient price moved away: a new order improves the quote (never crossing).
            best = min(goal, -other[-1][0] - 1)
            if best > price:
                sz = add_size[i]
                book.append([best, sz, [[new_id, sz]]])
                if len(book) > _STACK_DEPTH:
                    del book[0]
                ext((i, 1, new_id, sz, best if d > 0 else -best, d,
                     -asks[-1][0], asks[-1][1], bids[-1][0], bids[-1][1]))
                new_id += 1
                continue
            action = 1
        elif price > goal:
            action = 3  # the quote is too aggressive: its orders are pulled
        elif u < 3.0 / (3.0 + n):  # joins keep the queue near a few orders
            action = 1
        elif u_partial[i] < 0.08:
            action = 2
        else:
            action = 3
        if action == 1:
            sz = add_size[i]
            orders.append([new_id, sz])
            lvl[1] += sz
            ext((i, 1, new_id, sz, price if d > 0 else -price, d,
                 -asks[-1][0], asks[-1][1], bids[-1][0], bids[-1][1]))
            new_id += 1
            continue
        j = int(u_pick[i] * n)
        o = orders[j]
        if action == 2 and o[1] > 1:
            x = 1 + int(u_partial[i] / 0.08 * (o[1] - 1))  # 1 .. remaining-1 shares
            o[1] -= x
            lvl[1] -= x
            ext((i, 2, o[0], x, price if d > 0 else -price, d,
                 -asks[-1][0], asks[-1][1], bids[-1][0], bids[-1][1]))
            continue
        x = o[1]
        del orders[j]
        lvl[1] -= x
        if lvl[1] == 0:
            book.pop()
            if not book:
                book.append(fresh(price - 1 - (pool[pool_i] % 4 == 0)))
        ext((i, 3, o[0], x, price if d > 0 else -price, d,
             -asks[-1][0], asks[-1][1], bids[-1][0], bids[-1][1]))
    return out
