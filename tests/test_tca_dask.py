"""The Dask path of TCA: fills partitioned by session, on a distributed LocalCluster, equal to the in-memory path."""

from __future__ import annotations

import tempfile

import numpy as np
import pandas as pd
import pytest

import execlab as ex
from execlab._tca import synthetic_desk, tca

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def setup():
    with tempfile.TemporaryDirectory() as tmp:
        ex.synthetic.lobster_market(tmp, tickers=("SYNA", "SYNB"), sessions=14, seed=9, events_per_session=800)
        mkt = ex.Market.from_lobster(tmp, "5min")
    desk = synthetic_desk(mkt, orders_per_session=12, first_session=6, window=5, seed=1)
    fills = desk.fills.copy()
    # a few bad rows, so the rejected tables are compared too
    fills.loc[3, "price"] = -1.0
    fills.loc[10, "order_id"] = 10_000
    fills = pd.concat([fills, fills.iloc[[20]]], ignore_index=True)  # duplicate fill_id
    orders = desk.orders.copy()
    # an order every fill of which is rejected (it is reported as an order without fills), and a rejected order
    # whose fills are rejected with it
    every_fill_bad, rejected_order = orders["order_id"].iloc[5], orders["order_id"].iloc[7]
    fills.loc[fills["order_id"] == every_fill_bad, "price"] = 0.0
    orders.loc[orders["order_id"] == rejected_order, "side"] = "HOLD"
    return mkt, orders, fills


def _by_session(fills: pd.DataFrame, directory) -> "dd.DataFrame":
    day = fills["time"].dt.tz_convert("America/New_York").dt.date
    for i, (d, part) in enumerate(fills.groupby(day, sort=True)):
        part.to_parquet(f"{directory}/fills-{i:03d}.parquet", index=False)
    return dd.read_parquet(str(directory))


def _assert_same(a, b):
    num = [c for c in a.orders.columns if pd.api.types.is_numeric_dtype(a.orders[c].dtype)]
    assert a.orders.index.equals(b.orders.index)
    np.testing.assert_allclose(a.orders[num].to_numpy(np.float64), b.orders[num].to_numpy(np.float64), rtol=0, atol=1e-9)
    other = [c for c in a.orders.columns if c not in num]
    pd.testing.assert_frame_equal(a.orders[other].astype(str), b.orders[other].astype(str))
    fa = a.fills.sort_values("fill_id").reset_index(drop=True)
    fb = b.fills.sort_values("fill_id").reset_index(drop=True)
    fnum = [c for c in fa.columns if pd.api.types.is_numeric_dtype(fa[c].dtype)]
    np.testing.assert_allclose(fa[fnum].to_numpy(np.float64), fb[fnum].to_numpy(np.float64), rtol=0, atol=1e-9)
    assert sorted(a.rejected["reason"]) == sorted(b.rejected["reason"])
    assert sorted(map(str, a.rejected["fill_id"])) == sorted(map(str, b.rejected["fill_id"]))


def test_local_cluster_equals_in_memory(setup, tmp_path):
    mkt, orders, fills = setup
    mem = tca(orders, fills, mkt)
    assert set(mem.rejected["reason"]) == {"duplicate fill_id", "price not > 0", "unknown order_id", "order rejected",
                                           "side not BUY/SELL"}
    assert (mem.orders.loc[orders["order_id"].iloc[5], "n_fills"] == 0) and len(mem.orders) == len(orders) - 1
    ddf = _by_session(fills, tmp_path)
    assert ddf.npartitions > 1
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        dist = tca(orders, ddf, mkt, progress=True)
        out = tca(orders, ddf, mkt, fills_out=tmp_path / "out")
        lean = tca(orders, ddf, mkt, keep_fills=False)
    _assert_same(dist, mem)
    assert lean.fills is None
    np.testing.assert_allclose(lean.orders.select_dtypes("number").to_numpy(np.float64),
                               mem.orders.select_dtypes("number").to_numpy(np.float64), rtol=0, atol=1e-9)
    assert isinstance(out.fills, dd.DataFrame)
    # the parquet the workers wrote reads back as the in-memory table: same columns, types and numbers
    out_f = out.fills.compute().sort_values("fill_id").reset_index(drop=True)
    mem_f = mem.fills.sort_values("fill_id").reset_index(drop=True)
    assert out_f.columns.tolist() == mem_f.columns.tolist()
    def kind(t) -> str:  # dask reads text back as its own string dtype
        return "text" if pd.api.types.is_string_dtype(t) and not isinstance(t, pd.CategoricalDtype) else str(t)

    assert [kind(t) for t in out_f.dtypes] == [kind(t) for t in mem_f.dtypes]
    num = mem_f.select_dtypes("number").columns
    np.testing.assert_allclose(out_f[num].to_numpy(np.float64), mem_f[num].to_numpy(np.float64), rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(out_f.drop(columns=num), mem_f.drop(columns=num), check_dtype=False,
                                  check_categorical=False)
    # the group summaries run on the orders table, so they are equal too
    pd.testing.assert_frame_equal(dist.by("broker", rng=4), mem.by("broker", rng=4))


def test_threaded_scheduler_and_split_orders_are_refused(setup, tmp_path):
    mkt, orders, fills = setup
    ddf = _by_session(fills, tmp_path)
    _assert_same(tca(orders, ddf, mkt), tca(orders, fills, mkt))
    # two partitions holding fills of the same order: refused, not silently split
    half = dd.from_pandas(fills.sort_values("order_id"), npartitions=7, sort=False)
    with pytest.raises(ValueError, match="are in more than one partition; partition the fills by session"):
        tca(orders, half, mkt)


def test_parquet_out_of_a_dask_result(setup, tmp_path):
    mkt, orders, fills = setup
    res = tca(orders, _by_session(fills, tmp_path / "in") if (tmp_path / "in").mkdir() is None else None, mkt,
              fills_out=tmp_path / "parts")
    res.to_parquet(tmp_path / "result")
    back = dd.read_parquet(str(tmp_path / "result" / "fills")).compute()
    assert len(back) == len(res.fills.compute())
    with pytest.raises(ValueError, match="already holds"):
        tca(orders, _by_session(fills, tmp_path / "in"), mkt, fills_out=tmp_path / "parts")


def test_read_executions_dask_reads_a_folder_of_sessions(setup, tmp_path):
    """A folder of parquet files only: dask's reader on pyarrow's file system (no file split across partitions);
    a folder holding anything else: dask's default reader.  Both give the in-memory results."""
    from execlab._tca import read_executions

    mkt, orders, fills = setup
    mem = tca(orders, fills, mkt)
    (tmp_path / "s").mkdir()
    _by_session(fills, tmp_path / "s")
    _, ddf = read_executions(orders, tmp_path / "s", engine="dask")
    assert type(ddf.expr).__name__ == "ReadParquetPyarrowFS"
    _assert_same(tca(orders, ddf, mkt), mem)
    (tmp_path / "s" / "_SUCCESS").write_text("")  # a marker file a writer may leave: not parquet
    _, ddf = read_executions(orders, tmp_path / "s", engine="dask")
    assert type(ddf.expr).__name__ != "ReadParquetPyarrowFS"
    _assert_same(tca(orders, ddf, mkt), mem)
    _, one = read_executions(orders, tmp_path / "s" / "fills-000.parquet", engine="dask")
    assert len(one.compute()) == len(pd.read_parquet(tmp_path / "s" / "fills-000.parquet"))
