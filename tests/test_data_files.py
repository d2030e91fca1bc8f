"""Where the LOBSTER files are: the search order, the missing-data error, checksums, scan_lobster."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import execlab as ex
from execlab import data as exdata
from execlab.data import _files, _lobster

ROOT = Path(__file__).resolve().parent.parent
REAL = exdata.find_data_dir()  # the real sample, wherever the default search finds it
STEM = "2012-06-21_34200000_57600000"
NOT_FOUND = r"^LOBSTER data files not found\. Searched, in order:\n"


def _name(ticker: str, kind: str, level: int = 1, stem: str = STEM, gz: bool = False) -> str:
    return f"{ticker}_{stem}_{kind}_{level}.csv" + (".gz" if gz else "")


def _fake(directory: Path, *names: str) -> Path:
    """A directory holding files with LOBSTER names (content irrelevant to the search)."""
    directory.mkdir(parents=True, exist_ok=True)
    for n in names:
        (directory / n).write_text("0\n")
    return directory


def _real_copy(directory: Path, ticker: str = "AMZN", level: int = 1) -> Path:
    """Symlinks to the real sample files of one ticker and level."""
    directory.mkdir(parents=True, exist_ok=True)
    for kind in ("message", "orderbook"):
        src = next(REAL.glob(_name(ticker, kind, level) + "*"))
        (directory / src.name).symlink_to(src)
    return directory


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A fake source checkout at tmp_path/main with ../shared beside it, nothing in either; no EXECLAB_DATA."""
    root = tmp_path / "main"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    monkeypatch.setattr(_files, "_CHECKOUT", root)
    monkeypatch.delenv("EXECLAB_DATA", raising=False)
    return root


# ---------------------------------------------------------------------------
# the search order
# ---------------------------------------------------------------------------


def test_search_order_each_step(checkout, tmp_path, monkeypatch):
    shared = _fake(tmp_path / "shared" / "data" / "lobster", _name("AAPL", "message"))
    inside = checkout / "data" / "lobster"
    env = _fake(tmp_path / "env", _name("AMZN", "message"))
    arg = _fake(tmp_path / "arg", _name("GOOG", "message"))
    # 4. ../shared/data/lobster next to the checkout
    assert exdata.find_data_dir() == shared
    # 3. data/lobster inside the checkout wins, once it holds a LOBSTER file (an empty folder does not count)
    inside.mkdir(parents=True)
    (inside / "notes.txt").write_text("")
    assert exdata.find_data_dir() == shared
    _fake(inside, _name("AAPL", "orderbook", gz=True))
    assert exdata.find_data_dir() == inside
    # 2. the environment variable wins over both
    monkeypatch.setenv("EXECLAB_DATA", str(env))
    assert exdata.find_data_dir() == env
    # 1. the argument wins over everything
    assert exdata.find_data_dir(arg) == arg
    assert exdata.find_data_dir(str(arg)) == arg
    # DATA_DIR follows the search when it is read
    assert exdata.DATA_DIR == env
    monkeypatch.delenv("EXECLAB_DATA")
    assert exdata.DATA_DIR == inside


def test_missing_data_error_lists_the_places_searched(checkout, tmp_path):
    (checkout / "data" / "lobster").mkdir(parents=True)
    expected = (
        NOT_FOUND
        + r"  1\. data_dir argument: not given\n"
        + r"  2\. environment variable EXECLAB_DATA: not set\n"
        + rf"  3\. {checkout}/data/lobster \(inside the checkout\): holds no LOBSTER files\n"
        + rf"  4\. {tmp_path}/shared/data/lobster \(next to the checkout\): no such directory\n"
        + r"The files are LOBSTER's free samples and are not part of the repository: download "
        + r"LOBSTER_SampleFile_\{AAPL,AMZN,GOOG\}_2012-06-21_\{1,5,10\}\.zip from https://lobsterdata\.com/info/DataSamples\.php"
    )
    with pytest.raises(FileNotFoundError, match=expected):
        exdata.find_data_dir()
    # every loader raises it rather than returning an empty frame; DATA_DIR is None
    for call in (ex.load_trades, ex.load_quotes, ex.load_bars, exdata.bundled_files):
        with pytest.raises(FileNotFoundError, match=NOT_FOUND):
            call()
    assert exdata.DATA_DIR is None


def test_missing_data_error_says_to_unzip(checkout):
    _fake(checkout / "data" / "lobster", "LOBSTER_SampleFile_AAPL_2012-06-21_1.zip")
    with pytest.raises(FileNotFoundError, match=r"data/lobster \(inside the checkout\): holds LOBSTER_SampleFile_AAPL_2012-06-21_1\.zip "
                                                r"but no LOBSTER CSV; unzip it there\n"):
        exdata.find_data_dir()


def test_explicit_places_that_hold_nothing_are_errors(checkout, tmp_path, monkeypatch):
    _fake(tmp_path / "shared" / "data" / "lobster", _name("AAPL", "message"))  # would be found otherwise
    with pytest.raises(FileNotFoundError, match=rf"^data_dir == '{tmp_path}/nope': no such directory\. The files are LOBSTER's"):
        exdata.find_data_dir(tmp_path / "nope")
    empty = _fake(tmp_path / "empty", "README.txt")
    with pytest.raises(FileNotFoundError, match=rf"^data_dir == '{empty}': holds no LOBSTER files\."):
        ex.load_trades(data_dir=empty)
    monkeypatch.setenv("EXECLAB_DATA", str(empty))
    with pytest.raises(FileNotFoundError, match=rf"^environment variable EXECLAB_DATA == '{empty}': holds no LOBSTER files\. "
                                                r"Unset it to search the default places\."):
        exdata.find_data_dir()
    monkeypatch.setenv("EXECLAB_DATA", "")  # set but empty counts as not set
    assert exdata.find_data_dir() == tmp_path / "shared" / "data" / "lobster"
    with pytest.raises(TypeError, match=r"^data_dir must be a str or path, got int 3\.$"):
        exdata.find_data_dir(3)


def test_installed_package_looks_only_at_argument_and_environment(checkout, tmp_path, monkeypatch):
    (checkout / "pyproject.toml").unlink()  # site-packages: no checkout around the package
    _fake(checkout / "data" / "lobster", _name("AAPL", "message"))
    with pytest.raises(FileNotFoundError, match=NOT_FOUND + r"  1\..*\n  2\..*\n  3\. no source checkout around "):
        exdata.find_data_dir()
    monkeypatch.setenv("EXECLAB_DATA", str(_real_copy(tmp_path / "mine")))
    assert len(ex.load_trades("AMZN")) == 11_419


def test_loaders_read_from_each_place(checkout, tmp_path, monkeypatch):
    # the same AMZN files found through each step of the search give the same frame
    expected = ex.load_trades("AMZN", data_dir=REAL)
    arg = _real_copy(tmp_path / "arg")
    pd.testing.assert_frame_equal(ex.load_trades("AMZN", data_dir=arg), expected)
    pd.testing.assert_frame_equal(ex.load_trades("AMZN", arg), expected)
    _real_copy(tmp_path / "shared" / "data" / "lobster")
    pd.testing.assert_frame_equal(ex.load_trades("AMZN"), expected)
    _real_copy(checkout / "data" / "lobster")
    pd.testing.assert_frame_equal(ex.load_quotes("AMZN"), ex.load_quotes("AMZN", data_dir=REAL))
    monkeypatch.setenv("EXECLAB_DATA", str(arg))
    pd.testing.assert_frame_equal(ex.load_bars("30min", "AMZN"), ex.load_bars("30min", "AMZN", data_dir=REAL))
    # a ticker whose files are not in the directory found
    with pytest.raises(FileNotFoundError, match=rf"^GOOG level-1 sample is not in {arg}: no GOOG_{STEM}_message_1\.csv \(or "
                                                rf"GOOG_{STEM}_message_1\.csv\.gz\)\. Download LOBSTER_SampleFile_GOOG_2012-06-21_1\.zip from "):
        ex.load_trades("GOOG")


def test_gzip_sample_reads_like_the_csv(tmp_path):
    d = tmp_path / "gz"
    d.mkdir()
    for kind in ("message", "orderbook"):
        src = REAL / _name("AMZN", kind)
        with open(src, "rb") as fin, gzip.open(d / (src.name + ".gz"), "wb") as fout:
            shutil.copyfileobj(fin, fout)
    pd.testing.assert_frame_equal(ex.load_trades("AMZN", data_dir=d), ex.load_trades("AMZN"))
    # .csv and .csv.gz of the same file side by side is ambiguous
    (d / _name("AMZN", "message")).symlink_to(REAL / _name("AMZN", "message"))
    with pytest.raises(ValueError, match=rf"^both AMZN_{STEM}_message_1\.csv and AMZN_{STEM}_message_1\.csv\.gz are in {d}; keep one of them\.$"):
        ex.load_trades("AMZN", data_dir=d)


# ---------------------------------------------------------------------------
# checksums
# ---------------------------------------------------------------------------


def test_readme_sha256_block_equals_the_table_in_the_module():
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert _files.parse_sha256_block(text) == _files.SHA256
    assert len(_files.SHA256) == 11
    manifest = ROOT.parent / "shared" / "data" / "MANIFEST.md"
    if manifest.is_file():  # the shared data's own manifest, where present
        assert _files.parse_sha256_block(manifest.read_text(encoding="utf-8")) == _files.SHA256


def test_sample_files_match_their_sha256():
    # every level: the uncompressed content of a .csv.gz is what the sum is of
    for level in (1, 5, 10):
        files = exdata.bundled_files(level, verify=False)
        for p in [*files["message_file"], *files["orderbook_file"]]:
            key = "lobster/" + p.name.removesuffix(".gz")
            assert _files.file_sha256(p) == _files.SHA256[key], p.name


def test_checksum_mismatch_names_the_file_once_per_process(tmp_path, monkeypatch):
    d = tmp_path / "bad"
    d.mkdir()
    msg = REAL / _name("AMZN", "message")
    text = msg.read_bytes()
    assert text.endswith(b"\n")
    (d / msg.name).write_bytes(text[:-1])  # same rows, other bytes
    (d / _name("AMZN", "orderbook")).symlink_to(REAL / _name("AMZN", "orderbook"))
    match = (rf"^{d}/{msg.name} does not match LOBSTER's sample file: its sha256 is [0-9a-f]{{64}}, data/README\.md lists "
             r"9506cea0aab42b2815e13d2f2485b39ef6c0aa212d1bb68f344a52f0a24475f5 \(of the uncompressed CSV\)\. The file is damaged or not "
             r"the sample; download LOBSTER_SampleFile_AMZN_2012-06-21_1\.zip again from https://lobsterdata\.com/info/DataSamples\.php, "
             r"or pass verify=False to read it anyway\.$")
    with pytest.raises(ValueError, match=match):
        ex.load_trades("AMZN", data_dir=d)
    with pytest.raises(ValueError, match=match):
        exdata.bundled_files(data_dir=d, tickers="AMZN")
    # the caller may read it anyway
    assert len(ex.load_trades("AMZN", data_dir=d, verify=False)) == 11_419
    # a file that passed is not hashed again in this process
    monkeypatch.setattr(_files, "_VERIFIED", set())  # as in a fresh process
    calls = []
    monkeypatch.setattr(_files, "file_sha256", lambda p: calls.append(p) or _files.SHA256["lobster/" + p.name])
    good = _real_copy(tmp_path / "good")
    ex.load_trades("AMZN", data_dir=good)
    ex.load_quotes("AMZN", data_dir=good)
    ex.load_bars("30min", "AMZN", data_dir=good)
    assert sorted(p.name for p in calls) == [_name("AMZN", "message"), _name("AMZN", "orderbook")]


def test_installed_package_checks_against_the_embedded_table(checkout, tmp_path, monkeypatch):
    # the fake checkout has no data/README.md: the table inside the module is used
    assert _files._checksums() == (_files.SHA256, "execlab's table of LOBSTER's sample files")
    monkeypatch.setattr(_files, "_VERIFIED", set())  # as in a fresh process
    monkeypatch.setitem(_files.SHA256, f"lobster/{_name('AMZN', 'message')}", "0" * 64)
    with pytest.raises(ValueError, match=rf"its sha256 is 9506cea0.*, execlab's table of LOBSTER's sample files lists 0{{64}}"):
        ex.load_trades("AMZN", data_dir=_real_copy(tmp_path / "amzn"))


# ---------------------------------------------------------------------------
# bundled_files
# ---------------------------------------------------------------------------


def test_bundled_files_levels():
    one = exdata.bundled_files()
    assert list(one.columns) == ["ticker", "date", "level", "start_ms", "end_ms", "message_file", "orderbook_file"]
    assert one["ticker"].tolist() == ["AAPL", "AMZN", "GOOG"] and (one["level"] == 1).all()
    assert exdata.bundled_files(5)["ticker"].tolist() == ["AMZN"]
    ten = exdata.bundled_files(10, data_dir=REAL)
    assert ten["ticker"].tolist() == ["GOOG"] and ten["message_file"].iloc[0].name.endswith("_message_10.csv.gz")
    assert exdata.bundled_files(tickers=["GOOG", "AAPL"])["ticker"].tolist() == ["AAPL", "GOOG"]
    day = ex.read_lobster(ten["message_file"].iloc[0], ten["orderbook_file"].iloc[0])
    assert (day.levels, len(day.events)) == (10, 147_916)
    pd.testing.assert_frame_equal(day.trades, ex.load_trades("GOOG"))  # the same executions as level 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(level=2), r"^level == 2, must be one of \[1, 5, 10\] \(the sample's book depths\)\.$"),
        (dict(level="1"), r"^level == '1', must be one of \[1, 5, 10\]"),
        (dict(level=5, tickers="GOOG"), r"^ticker == 'GOOG', must be one of \['AMZN'\] at level 5\.$"),
        (dict(tickers=[]), r"^tickers is empty; pass None for all tickers of the level\.$"),
    ],
)
def test_bundled_files_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        exdata.bundled_files(**kwargs)


# ---------------------------------------------------------------------------
# scan_lobster
# ---------------------------------------------------------------------------


def test_scan_lobster_directory_pattern_and_list(tmp_path):
    d = _fake(
        tmp_path / "d",
        _name("MSFT", "message", stem="2012-06-22_34200000_57600000"),
        _name("MSFT", "orderbook", stem="2012-06-22_34200000_57600000", gz=True),
        _name("AAPL", "message", stem="2012-06-22_0_3600000"),
        _name("AAPL", "orderbook", stem="2012-06-22_0_3600000"),
        _name("ZZZ", "message"),
        _name("ZZZ", "orderbook"),
        "README.txt",
        "LOBSTER_SampleFiles_ReadMe.txt",
    )
    (d / "sub").mkdir()
    got = exdata.scan_lobster(d)
    assert got["ticker"].tolist() == ["ZZZ", "AAPL", "MSFT"]  # by date, then ticker
    assert got["date"].tolist() == [pd.Timestamp("2012-06-21"), pd.Timestamp("2012-06-22"), pd.Timestamp("2012-06-22")]
    assert str(got["date"].dtype) == "datetime64[ns]"
    assert got[["level", "start_ms", "end_ms"]].to_numpy().tolist() == [[1, 34200000, 57600000], [1, 0, 3600000], [1, 34200000, 57600000]]
    assert got["orderbook_file"].iloc[2] == d / _name("MSFT", "orderbook", stem="2012-06-22_34200000_57600000", gz=True)
    assert all(isinstance(p, Path) for p in got["message_file"])
    # a pattern and a list name the same files
    pd.testing.assert_frame_equal(exdata.scan_lobster(str(d / "*_*_*_*_*_1.csv*")), got)
    names = [p for p in d.iterdir() if p.name.endswith((".csv", ".gz"))]
    pd.testing.assert_frame_equal(exdata.scan_lobster(names), got)
    pd.testing.assert_frame_equal(exdata.scan_lobster([str(p) for p in names]), got)


def test_scan_lobster_real_sample_levels():
    assert exdata.scan_lobster(REAL, level=1)["ticker"].tolist() == ["AAPL", "AMZN", "GOOG"]
    ten = exdata.scan_lobster(REAL, level=10)
    assert ten["ticker"].tolist() == ["GOOG"] and ten["message_file"].iloc[0].name.endswith(".csv.gz")
    with pytest.raises(ValueError, match=rf"^found levels \[1, 5, 10\] in directory {REAL}; pass level= to choose one\.$"):
        exdata.scan_lobster(REAL)


def test_scan_lobster_errors(tmp_path):
    def scan(*names, level=None, how="dir"):
        d = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
        _fake(d, *names)
        src = {"dir": d, "glob": str(d / "*"), "list": sorted(d.iterdir())}[how]
        return d, lambda: exdata.scan_lobster(src, level=level)

    d, call = scan(_name("A", "message"), _name("A", "orderbook"), _name("A", "message", 5), _name("A", "orderbook", 5))
    with pytest.raises(ValueError, match=rf"^found levels \[1, 5\] in directory {d}; pass level= to choose one\.$"):
        call()
    assert exdata.scan_lobster(d, level=5)["level"].tolist() == [5]
    with pytest.raises(FileNotFoundError, match=rf"^no level-10 LOBSTER files in directory {d} \(found levels \[1, 5\]\)\.$"):
        exdata.scan_lobster(d, level=10)
    with pytest.raises(ValueError, match=rf"^file A_{STEM}_message_5\.csv has level 5, but level == 1\.$"):
        exdata.scan_lobster(sorted(d.iterdir()), level=1)

    d, call = scan(_name("A", "message"), _name("A", "message", gz=True), _name("A", "orderbook"))
    with pytest.raises(ValueError, match=rf"^A on 2012-06-21 has 2 message files: {d}/A_{STEM}_message_1\.csv, "
                                         rf"{d}/A_{STEM}_message_1\.csv\.gz; keep one per ticker-day\.$"):
        call()
    d, call = scan(_name("A", "message"), _name("A", "orderbook"), _name("A", "orderbook", stem="2012-06-21_0_100"))
    with pytest.raises(ValueError, match=r"^A on 2012-06-21 has 2 orderbook files: "):
        call()
    d, call = scan(_name("A", "message"), _name("B", "orderbook"), _name("B", "message"))
    with pytest.raises(ValueError, match=rf"^orderbook file missing for {d}/A_{STEM}_message_1\.csv \(A on 2012-06-21, level 1\)\.$"):
        call()
    d, call = scan(_name("B", "orderbook", gz=True), how="glob")
    with pytest.raises(ValueError, match=rf"^message file missing for {d}/B_{STEM}_orderbook_1\.csv\.gz \(B on 2012-06-21, level 1\)\.$"):
        call()
    d, call = scan(_name("A", "message"), _name("A", "orderbook", stem="2012-06-21_34200000_50000000"))
    with pytest.raises(ValueError, match=rf"^A on 2012-06-21: message file A_{STEM}_message_1\.csv and orderbook file "
                                         r"A_2012-06-21_34200000_50000000_orderbook_1\.csv cover different time windows\.$"):
        call()
    # a directory ignores unrelated files; a pattern or a list that names one is an error
    for how in ("glob", "list"):
        d, call = scan(_name("A", "message"), _name("A", "orderbook"), "README.txt", how=how)
        with pytest.raises(ValueError, match=r"^file README\.txt from (pattern '.*'|the list of files) is not a LOBSTER file name "
                                             r"\(TICKER_YYYY-MM-DD_STARTMS_ENDMS_message_N\.csv"):
            call()
    d, call = scan(_name("A", "message", stem="2012-02-30_0_1"), _name("A", "orderbook", stem="2012-02-30_0_1"))
    with pytest.raises(ValueError, match=r"^file A_2012-02-30_0_1_message_1\.csv has date 2012-02-30, which is not a calendar date\.$"):
        call()
    d, call = scan(_name("A", "message", stem="2012-06-21_5_1"), _name("A", "orderbook", stem="2012-06-21_5_1"))
    with pytest.raises(ValueError, match=r"^file A_2012-06-21_5_1_message_1\.csv has the time window 5-1; must be start <= end <= 86400000"):
        call()
    with pytest.raises(ValueError, match=r"^level == 0, must be >= 1\.$"):
        exdata.scan_lobster(REAL, level=0)


def test_scan_lobster_nothing_found(tmp_path):
    empty = _fake(tmp_path / "empty", "README.txt")
    with pytest.raises(FileNotFoundError, match=rf"^no LOBSTER files in directory {empty} \(names like TICKER_YYYY-MM-DD_"):
        exdata.scan_lobster(empty)
    with pytest.raises(FileNotFoundError, match=rf"^no files match the pattern '{empty}/\*\.csv'\.$"):
        exdata.scan_lobster(str(empty / "*.csv"))
    with pytest.raises(FileNotFoundError, match=rf"^source == '{tmp_path}/nope' is not a directory, a file or a pattern that matches files\.$"):
        exdata.scan_lobster(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match=rf"^LOBSTER file not found: {tmp_path}/gone\.csv$"):
        exdata.scan_lobster([tmp_path / "gone.csv"])
    with pytest.raises(FileNotFoundError, match=r"^source is an empty list of files\.$"):
        exdata.scan_lobster([])
    with pytest.raises(TypeError, match=r"^source holds int 3; it must hold file paths \(str or Path\)\.$"):
        exdata.scan_lobster([3])
    with pytest.raises(TypeError, match=r"^source must be a directory, a glob pattern or a list of paths, got int\.$"):
        exdata.scan_lobster(3)


def test_scanned_day_reads_as_the_loader_does():
    row = exdata.scan_lobster(REAL, level=1).set_index("ticker").loc["GOOG"]
    day = ex.read_lobster(row["message_file"], row["orderbook_file"])
    pd.testing.assert_frame_equal(day.trades, ex.load_trades("GOOG"))
    assert repr(day) == "LobsterDay(ticker='GOOG', date='2012-06-21', levels=1, events=49,482, trades=11,678, halts=0)"
    assert "\n" not in repr(_lobster.bundled_day("AAPL"))


def test_data_exports():
    import execlab.data as d

    for name in d.__all__:
        assert getattr(d, name) is not None or name == "DATA_DIR", name
    for name in ("_parse_freq", "_session_bins", "_check_bars", "_show_span", "TIMEZONE", "DATA_DIR"):
        assert hasattr(d, name), name
    assert "DATA_DIR" in dir(d)
    from execlab._calendar import SESSION_CLOSE, SESSION_OPEN, TIMEZONE

    assert (d.TIMEZONE, d.SESSION_OPEN, d.SESSION_CLOSE) == (TIMEZONE, SESSION_OPEN, SESSION_CLOSE)
    with pytest.raises(AttributeError, match=r"has no attribute 'nope'"):
        d.nope  # noqa: B018
    assert np.all([f.stat().st_size > 0 for f in exdata.bundled_files()["message_file"]])


def test_scan_lobster_names_a_directory_under_a_lobster_name(tmp_path):
    """A directory named like a LOBSTER file is an error, not skipped (which made its partner look unpaired)."""
    d = _fake(tmp_path / "d", _name("AAPL", "orderbook"))
    (d / _name("AAPL", "message")).mkdir()
    where = str(d / _name("AAPL", "message"))
    with pytest.raises(IsADirectoryError, match=rf"^{re.escape(where)} in directory {re.escape(str(d))} is a directory, "
                                                r"not a LOBSTER file\.$"):
        exdata.scan_lobster(d)
    with pytest.raises(IsADirectoryError, match=rf"^{re.escape(where)} in pattern .* is a directory"):
        exdata.scan_lobster(str(d / "AAPL_*"))
    with pytest.raises(IsADirectoryError, match=rf"^{re.escape(where)} in the list of files is a directory"):
        exdata.scan_lobster([d / _name("AAPL", "message"), d / _name("AAPL", "orderbook")])
