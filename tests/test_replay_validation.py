"""Queue models against what really happened to the real orders of the GOOG sample day (LOBSTER).

GOOG is the smallest of the three sample files.  Every real type-1 limit
order is replayed as if it were ours (:func:`validate_queue_models`), and
synthetic orders at the touch are scored against exact FIFO
(:func:`touch_orders_check`).  The thresholds are the ones a queue model must
meet on this day to be worth using; the per-order checks recompute from the
book what each table claims.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from execlab.replay import EventBook
from execlab.replay._validation import touch_orders_check, validate_queue_models

HORIZONS = ("1s", "10s", "60s")


@pytest.fixture(scope="module")
def goog():
    return EventBook.bundled("GOOG")


@pytest.fixture(scope="module")
def validation(goog):
    return validate_queue_models(goog)


@pytest.fixture(scope="module")
def touch_check(goog):
    return touch_orders_check(goog, every="120s", rng=np.random.default_rng(0), paths=5, horizons=HORIZONS)


def test_every_real_limit_order_is_scored_under_every_model(goog, validation):
    new = int((goog.type == 1).sum())
    t = validation.table
    assert list(t.index) == ["touch", "risk_averse", "probabilistic", "l3_fifo"]
    assert (t["orders"] == new).all()
    assert validation.orders.groupby("model").size().to_dict() == dict.fromkeys(t.index, new)
    # the truth does not depend on the model
    actual = validation.orders.pivot(index="order_id", columns="model", values="actual_filled")
    assert actual.nunique(axis=1).max() == 1
    assert len(set(t["actual_fill_rate"])) == 1
    assert 0 < t["actual_fill_rate"].iloc[0] < 1


def test_l3_fifo_predicts_the_real_first_fills(validation):
    row = validation.table.loc["l3_fifo"]
    assert row["accuracy_price_traded"] >= 0.99
    assert row["same_event_rate"] >= 0.99
    assert row["accuracy"] >= 0.99
    assert abs(row["predicted_fill_rate"] - row["actual_fill_rate"]) <= 0.01


def test_every_l3_fifo_disagreement_is_a_later_order_executed_first(goog, validation):
    d = validation.disagreements("l3_fifo")
    assert len(d) == validation.table.loc["l3_fifo", "disagreements"]
    assert (d["kind"] == "later order executed first").all()
    # Recompute the claim from the book: the predicted first fill is a visible execution (type 4) at the
    # order's price, same side, of an order whose type-1 message came after the order's own.
    r = d["predicted_first_fill_row"].to_numpy()
    assert (r > d["row"].to_numpy()).all()
    assert (goog.type[r] == 4).all()
    assert (goog.price[r] == np.rint(d["price"].to_numpy() * 10_000)).all()
    assert (goog.direction[r] == np.where(d["side"] == "BUY", 1, -1)).all()
    assert (goog.arrival_row[r] > d["row"].to_numpy()).all()
    # and the model filled it earlier than the file did (or the file never did)
    actual = d["actual_first_fill_row"].to_numpy()
    assert ((actual < 0) | (r < actual)).all()


def test_the_truth_is_each_orders_own_first_execution(goog, validation):
    o = validation.orders[validation.orders["model"] == "l3_fifo"]
    filled = o[o["actual_filled"]]
    r = filled["actual_first_fill_row"].to_numpy()
    assert (goog.type[r] == 4).all()
    assert (goog.order_id[r] == filled["order_id"].to_numpy()).all()
    assert ((r > filled["row"].to_numpy()) & (r <= filled["end_row"].to_numpy())).all()


def test_touch_is_the_most_optimistic_model(validation):
    t = validation.table
    assert t.loc["touch", "predicted_fill_rate"] >= t.loc["touch", "actual_fill_rate"]
    # Per order: touch fills on any trade at the price, the order's own execution included, so it never
    # predicts a real fill later than the file shows it, and never later than a model with a queue.
    o = validation.orders.set_index(["model", "order_id"])
    touch = o.loc["touch"]
    really = touch[touch["actual_filled"]]
    assert really["predicted_filled"].all()
    assert (really["predicted_first_fill_row"] <= really["actual_first_fill_row"]).all()
    for model in ("risk_averse", "probabilistic", "l3_fifo"):
        other = o.loc[model]
        both = other["predicted_filled"]
        assert touch.loc[both, "predicted_filled"].all()
        assert (touch.loc[both, "predicted_first_fill_row"] <= other.loc[both, "predicted_first_fill_row"]).all()


def test_a_deeper_book_censors_fewer_orders(validation):
    deep = validate_queue_models(EventBook.bundled("GOOG", 10), models=("l3_fifo",))
    shallow = validation.table.loc["l3_fifo", "censored"]
    assert deep.table.loc["l3_fifo", "censored"] < shallow
    assert 0 < shallow < 1
    # and l3_fifo stays right where it can see more of each order's life
    assert deep.table.loc["l3_fifo", "accuracy_price_traded"] >= 0.99


def test_disagreements_of_an_unvalidated_model_are_refused(goog):
    v = validate_queue_models(goog, models=("touch",), sides=(1,))
    assert set(v.orders["side"]) == {"BUY"}
    with pytest.raises(ValueError, match=r"model 'l3_fifo' was not validated; choose from \['touch'\]"):
        v.disagreements("l3_fifo")


def test_touch_check_brier_scores_are_probabilities(touch_check):
    b = touch_check.brier
    assert list(b.index) == list(HORIZONS)
    for col in ("brier", "brier_base_rate"):
        assert ((b[col] >= 0) & (b[col] <= 1)).all()
    # the base-rate forecast's Brier score is p (1 - p) of the FIFO fill rate
    fifo = touch_check.table.xs("touch", level="model")["fifo_fill_rate"]
    np.testing.assert_allclose(b["brier_base_rate"], fifo * (1 - fifo))


def test_touch_check_fills_accumulate_with_the_horizon(touch_check):
    t = touch_check.table
    for model in ("touch", "risk_averse", "probabilistic"):
        assert t.loc[model, "fifo_fill_rate"].loc[list(HORIZONS)].is_monotonic_increasing
        assert t.loc[model, "fill_rate"].loc[list(HORIZONS)].is_monotonic_increasing
    o = touch_check.orders
    for short, long in zip(HORIZONS, HORIZONS[1:]):
        assert (~o[f"fifo_{short}"] | o[f"fifo_{long}"]).all()  # filled by 1s => filled by 10s
        assert (o[f"probability_{short}"] <= o[f"probability_{long}"] + 1e-12).all()
    assert t.loc["touch", "fifo_fill_rate"].iloc[-1] > 0


def test_touch_check_tables_agree_with_its_orders(touch_check, goog):
    o, t = touch_check.orders, touch_check.table
    n = len(np.arange(goog.time[0], goog.time[-1], pd.Timedelta("120s").value))
    assert len(o) == 2 * n and (o["side"].value_counts() == n).all()
    for model in ("touch", "risk_averse", "probabilistic"):
        for h in HORIZONS:
            assert t.loc[(model, h), "fill_rate"] == pytest.approx(o[f"{model}_{h}"].mean())
            assert t.loc[(model, h), "accuracy"] == pytest.approx((o[f"{model}_{h}"] == o[f"fifo_{h}"]).mean())
            # touch never predicts a fill later than exact FIFO does
            if model == "touch":
                assert (~o[f"fifo_{h}"] | o[f"touch_{h}"]).all()
    rel = touch_check.reliability
    assert (rel.groupby("horizon")["orders"].sum() == len(o)).all()
    assert ((rel["forecast"] >= 0) & (rel["forecast"] <= 1) & (rel["observed"] >= 0) & (rel["observed"] <= 1)).all()
    # paths=5: each forecast is a share of five draws
    p = o[[f"probability_{h}" for h in HORIZONS]].to_numpy()
    np.testing.assert_allclose(p * 5, np.rint(p * 5), atol=1e-9)


def test_touch_check_needs_an_rng(goog):
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        touch_orders_check(goog, every="600s")
    with pytest.raises(ValueError, match=r"paths must be a whole number >= 1, got 0"):
        touch_orders_check(goog, every="600s", rng=np.random.default_rng(0), paths=0)
