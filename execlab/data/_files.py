"""Where the LOBSTER files are: the data-directory search, checksums and file discovery.

LOBSTER's sample files are not part of the repository (see ``data/README.md``).
:func:`find_data_dir` finds the directory that holds them, :func:`bundled_files`
lists the sample files in it (each checked once per process against its sha256),
and :func:`scan_lobster` lists the ticker-days of any LOBSTER directory.
"""

from __future__ import annotations

import glob as _glob
import gzip
import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_scalar

__all__ = ["find_data_dir", "bundled_files", "scan_lobster", "ENV_VAR", "SAMPLE_PAGE", "TICKERS", "BUNDLED_DATE"]

#: Environment variable naming the data directory (second in the search order).
ENV_VAR = "EXECLAB_DATA"
#: LOBSTER's public page with the sample zips.
SAMPLE_PAGE = "https://lobsterdata.com/info/DataSamples.php"
TICKERS = ("AAPL", "AMZN", "GOOG")
BUNDLED_DATE = "2012-06-21"
#: Tickers of the sample at each book depth (the deeper files hold the same executions as level 1).
BUNDLED_LEVELS: dict[int, tuple[str, ...]] = {1: TICKERS, 5: ("AMZN",), 10: ("GOOG",)}
_WINDOW = "34200000_57600000"  # 09:30-16:00 in milliseconds after midnight

# Root of a source checkout (the folder holding pyproject.toml); for an installed package,
# site-packages, where neither data/lobster nor ../shared exists.  Tests point it elsewhere.
_CHECKOUT = Path(__file__).resolve().parents[2]

# sha256 of each sample file, of the *uncompressed* CSV for a .csv.gz (the block in data/README.md,
# which is the table used in a checkout; this copy serves an installed package without the README).
SHA256: dict[str, str] = {
    "lobster/AAPL_2012-06-21_34200000_57600000_message_1.csv": "c04cc8a5d40fb24a2ac459e7e82873e43bbdcc36cdc665ea5d4b8ac77c34d562",
    "lobster/AAPL_2012-06-21_34200000_57600000_orderbook_1.csv": "7f15c4f2e94283f5a70201d356c977a105b39a001fd0f07f42f1186ffd51b387",
    "lobster/AMZN_2012-06-21_34200000_57600000_message_1.csv": "9506cea0aab42b2815e13d2f2485b39ef6c0aa212d1bb68f344a52f0a24475f5",
    "lobster/AMZN_2012-06-21_34200000_57600000_orderbook_1.csv": "7c0c4664935a661ec467358a0d1c7bd5ad4e17c8d895c9198af1de3b6e95764a",
    "lobster/AMZN_2012-06-21_34200000_57600000_message_5.csv": "be35922a0a6e677d153b5e47dd63c0107a32ae35e3a15003eed089e19f0a882e",
    "lobster/AMZN_2012-06-21_34200000_57600000_orderbook_5.csv": "e2d3408318ae76200eba27cb9b7cb326aeb73e933d45af261b7db6886051caae",
    "lobster/GOOG_2012-06-21_34200000_57600000_message_1.csv": "4d1c8b44c9c1c5d5bbb49fb2876cc3bbc1645e2d57694679a6d5116113c07924",
    "lobster/GOOG_2012-06-21_34200000_57600000_orderbook_1.csv": "e0f365aee42d7bf74c0bc0a404c4466dd3d22658b9bc62755820e87e79219697",
    "lobster/GOOG_2012-06-21_34200000_57600000_message_10.csv": "6767177b0fd926ef9674185af9356828c30e2d4fb45b3cfed637d1c64e8eba19",
    "lobster/GOOG_2012-06-21_34200000_57600000_orderbook_10.csv": "9ebe00b4f1aee57aa73dcb979e1074d16554296ca32b87440ce756c60974bb53",
    "lobster/LOBSTER_SampleFiles_ReadMe.txt": "fd97b5f49391e11ef52c023ef8f3ca156baac7441b4d52240339f60844244d5b",
}

# TICKER_YYYY-MM-DD_STARTMS_ENDMS_message_N.csv (or _orderbook_N), optionally gzip-compressed.
LOBSTER_NAME = re.compile(
    r"^(?P<ticker>[A-Za-z0-9.\-]+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)"
    r"_(?P<kind>message|orderbook)_(?P<level>\d+)\.csv(?P<gz>\.gz)?$"
)
_NAME_FORM = "TICKER_YYYY-MM-DD_STARTMS_ENDMS_message_N.csv (or _orderbook_N.csv, either also .csv.gz)"
_SHA_BLOCK = re.compile(r"^sha256:\s*\n```[^\n]*\n(?P<body>.*?)\n```", re.M | re.S)
_SHA_LINE = re.compile(r"^([0-9a-f]{64})\s+(\S+)$")

# Files already checked in this process: (resolved path, size, mtime) -> checked.
_VERIFIED: set[tuple[str, int, int]] = set()


def _how_to_get(where: str = "data/lobster/ of the checkout") -> str:
    return (
        f"The files are LOBSTER's free samples and are not part of the repository: download "
        f"LOBSTER_SampleFile_{{AAPL,AMZN,GOOG}}_{BUNDLED_DATE}_{{1,5,10}}.zip from {SAMPLE_PAGE} and unzip "
        f"them into {where}, or into any directory and set {ENV_VAR} to it or pass data_dir= (see data/README.md)."
    )


def _lobster_files(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if LOBSTER_NAME.match(p.name) and p.is_file()]


def _why_not(directory: Path) -> str | None:
    """None if ``directory`` holds LOBSTER files, else the reason it does not."""
    if not directory.exists():
        return "no such directory"
    if not directory.is_dir():
        return "not a directory"
    if _lobster_files(directory):
        return None
    zips = sorted(p.name for p in directory.glob("*.zip"))
    if zips:
        return f"holds {', '.join(zips)} but no LOBSTER CSV; unzip it there"
    return "holds no LOBSTER files"


def find_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The directory holding the LOBSTER files, found in a fixed order.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Use this directory.  It must hold LOBSTER files (names such as
        ``AAPL_2012-06-21_34200000_57600000_message_1.csv`` or ``.csv.gz``).

    Returns
    -------
    pathlib.Path
        The first of, in order: ``data_dir``; the directory named by the
        environment variable ``EXECLAB_DATA``; ``data/lobster`` inside the
        source checkout (where a user unzips LOBSTER's sample zips);
        ``../shared/data/lobster`` next to the checkout.  An explicit
        ``data_dir`` or ``EXECLAB_DATA`` that does not hold LOBSTER files is an
        error, not skipped; the two checkout places are used only if they
        hold at least one LOBSTER file.

    Raises
    ------
    FileNotFoundError
        If ``data_dir`` or ``EXECLAB_DATA`` is not a directory holding LOBSTER
        files, or if no place in the search does; the message lists the
        places searched and where to get the files.

    Examples
    --------
    >>> d = find_data_dir()
    >>> sorted(p.name for p in d.glob("AMZN_*_1.csv*"))
    ['AMZN_2012-06-21_34200000_57600000_message_1.csv', 'AMZN_2012-06-21_34200000_57600000_orderbook_1.csv']
    """
    if data_dir is not None:
        if not isinstance(data_dir, (str, os.PathLike)):
            raise TypeError(f"data_dir must be a str or path, got {type(data_dir).__name__} {data_dir!r}.")
        path = Path(data_dir).expanduser()
        why = _why_not(path)
        if why:
            raise FileNotFoundError(f"data_dir == {str(data_dir)!r}: {why}. {_how_to_get('it')}")
        return path
    env = os.environ.get(ENV_VAR, "")
    if env:
        path = Path(env).expanduser()
        why = _why_not(path)
        if why:
            raise FileNotFoundError(
                f"environment variable {ENV_VAR} == {env!r}: {why}. Unset it to search the default places. {_how_to_get('it')}"
            )
        return path
    searched = ["data_dir argument: not given", f"environment variable {ENV_VAR}: not set"]
    if (_CHECKOUT / "pyproject.toml").is_file():
        for path, what in (
            (_CHECKOUT / "data" / "lobster", "inside the checkout"),
            (_CHECKOUT.parent / "shared" / "data" / "lobster", "next to the checkout"),
        ):
            why = _why_not(path)
            if why is None:
                return path
            searched.append(f"{path} ({what}): {why}")
    else:
        searched.append(f"no source checkout around {_CHECKOUT} (an installed package looks only at data_dir and {ENV_VAR})")
    lines = "\n".join(f"  {i}. {s}" for i, s in enumerate(searched, 1))
    raise FileNotFoundError(f"LOBSTER data files not found. Searched, in order:\n{lines}\n{_how_to_get()}")


# ---------------------------------------------------------------------------
# checksums
# ---------------------------------------------------------------------------


def parse_sha256_block(text: str) -> dict[str, str]:
    """The ``sha256:`` block of a README (``<digest>  lobster/<name>`` lines) as a dict."""
    m = _SHA_BLOCK.search(text)
    if m is None:
        return {}
    out = {}
    for line in m.group("body").splitlines():
        hit = _SHA_LINE.match(line.strip())
        if hit:
            out[hit.group(2)] = hit.group(1)
    return out


def _checksums() -> tuple[dict[str, str], str]:
    """(table, where it came from): data/README.md in a checkout, else the copy in this module."""
    readme = _CHECKOUT / "data" / "README.md"
    if readme.is_file():
        table = parse_sha256_block(readme.read_text(encoding="utf-8"))
        if table:
            return table, "data/README.md"
    return SHA256, "execlab's table of LOBSTER's sample files"


def file_sha256(path: Path) -> str:
    """sha256 of a file's content, of the uncompressed bytes for a ``.gz`` file."""
    h = hashlib.sha256()
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: Path) -> None:
    """Check a sample file against its listed sha256, once per process per file.

    A file that is not one of LOBSTER's samples (not in the table) passes.
    """
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _VERIFIED:
        return
    table, source = _checksums()
    name = "lobster/" + (path.name[:-3] if path.name.endswith(".gz") else path.name)
    want = table.get(name)
    if want is not None:
        got = file_sha256(path)
        if got != want:
            m = LOBSTER_NAME.match(path.name)
            zip_name = f"LOBSTER_SampleFile_{m['ticker']}_{BUNDLED_DATE}_{m['level']}.zip" if m else "the sample zip"
            raise ValueError(
                f"{path} does not match LOBSTER's sample file: its sha256 is {got}, {source} lists {want} "
                f"(of the uncompressed CSV). The file is damaged or not the sample; download {zip_name} again "
                f"from {SAMPLE_PAGE}, or pass verify=False to read it anyway."
            )
    _VERIFIED.add(key)


# ---------------------------------------------------------------------------
# the bundled sample
# ---------------------------------------------------------------------------


def _one_file(directory: Path, name: str, ticker: str, level: int) -> Path:
    """``name`` (a .csv) or its .csv.gz in ``directory``; exactly one of them."""
    found = [p for p in (directory / name, directory / f"{name}.gz") if p.is_file()]
    if len(found) == 2:
        raise ValueError(f"both {name} and {name}.gz are in {directory}; keep one of them.")
    if not found:
        raise FileNotFoundError(
            f"{ticker} level-{level} sample is not in {directory}: no {name} (or {name}.gz). Download "
            f"LOBSTER_SampleFile_{ticker}_{BUNDLED_DATE}_{level}.zip from {SAMPLE_PAGE} and unzip it there."
        )
    return found[0]


def check_level(level: object) -> int:
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or int(level) not in BUNDLED_LEVELS:
        raise ValueError(f"level == {level!r}, must be one of {sorted(BUNDLED_LEVELS)} (the sample's book depths).")
    return int(level)


def bundled_pair(ticker: str, level: int, directory: Path, verify: bool = True) -> tuple[Path, Path]:
    """Message and orderbook file of one sample ticker and level in ``directory``, checked."""
    stem = f"{ticker}_{BUNDLED_DATE}_{_WINDOW}"
    pair = (
        _one_file(directory, f"{stem}_message_{level}.csv", ticker, level),
        _one_file(directory, f"{stem}_orderbook_{level}.csv", ticker, level),
    )
    if verify:
        for p in pair:
            verify_file(p)
    return pair


def bundled_files(
    level: int = 1,
    data_dir: str | os.PathLike | None = None,
    *,
    tickers: str | Iterable[str] | None = None,
    verify: bool = True,
) -> pd.DataFrame:
    """LOBSTER's sample files for one book depth, checked against their sha256.

    Parameters
    ----------
    level : {1, 5, 10}, default 1
        Book depth: level 1 has AAPL, AMZN and GOOG; level 5 AMZN; level 10
        GOOG (all on 2012-06-21).
    data_dir : str or path-like, optional
        Where the files are; by default the directory :func:`find_data_dir`
        finds.
    tickers : str or list of str, optional
        A subset of the level's tickers; ``None`` means all of them.
    verify : bool, default True
        Check each file's sha256 against ``data/README.md`` (the uncompressed
        CSV for a ``.csv.gz``), once per process per file.

    Returns
    -------
    pandas.DataFrame
        As :func:`scan_lobster`: ``ticker, date, level, start_ms, end_ms,
        message_file, orderbook_file``, one row per ticker.

    Raises
    ------
    FileNotFoundError
        If no data directory is found, or a file is missing from it.
    ValueError
        If ``level`` or a ticker is not in the sample, a file is there both as
        ``.csv`` and ``.csv.gz``, or (with ``verify``) a file's sha256 does
        not match.

    Notes
    -----
    The check hashes 79 MB of CSV for all ten sample files (65 MB of it
    decompressed from gzip).  Measured (median of 7 runs, files in the page
    cache): 19 ms for the six level-1 files together, 171 ms for the four
    gzip files, 0.19 s for all ten.  Later calls in the same process skip it
    (a file is checked again only if its size or modification time changes).

    Examples
    --------
    >>> f = bundled_files()
    >>> f[["ticker", "level", "start_ms", "end_ms"]].to_string(index=False)
    'ticker  level  start_ms   end_ms\\n  AAPL      1  34200000 57600000\\n  AMZN      1  34200000 57600000\\n  GOOG      1  34200000 57600000'
    >>> bundled_files(10)["orderbook_file"].iloc[0].name
    'GOOG_2012-06-21_34200000_57600000_orderbook_10.csv.gz'
    """
    level = check_level(level)
    allowed = BUNDLED_LEVELS[level]
    if tickers is None:
        chosen = list(allowed)
    else:
        chosen = [tickers] if isinstance(tickers, str) else list(tickers)
        if not chosen:
            raise ValueError("tickers is empty; pass None for all tickers of the level.")
        for t in chosen:
            if t not in allowed:
                raise ValueError(f"ticker == {t!r}, must be one of {list(allowed)} at level {level}.")
    directory = find_data_dir(data_dir)
    paths = [p for t in chosen for p in bundled_pair(t, level, directory, verify)]
    return scan_lobster(paths)


# ---------------------------------------------------------------------------
# discovery of many ticker-days
# ---------------------------------------------------------------------------


def _parse_name(path: Path) -> dict | None:
    m = LOBSTER_NAME.match(path.name)
    if m is None:
        return None
    try:
        date = pd.Timestamp(m.group("date"))
        ok = date.strftime("%Y-%m-%d") == m.group("date")
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"file {path.name} has date {m.group('date')}, which is not a calendar date.")
    start, end = int(m.group("start")), int(m.group("end"))
    if start > end or end > 86_400_000:
        raise ValueError(
            f"file {path.name} has the time window {start}-{end}; must be start <= end <= 86400000 "
            "(milliseconds after midnight)."
        )
    return {
        "ticker": m.group("ticker"),
        "date": date,
        "level": int(m.group("level")),
        "start_ms": start,
        "end_ms": end,
        "kind": m.group("kind"),
        "path": path,
    }


def _no_directories(paths: Iterable[Path], where: str) -> None:
    """A directory under a LOBSTER file's name is an error, not a file silently skipped."""
    for p in paths:
        if p.is_dir():
            raise IsADirectoryError(f"{p} in {where} is a directory, not a LOBSTER file.")


def _source_files(source: object) -> tuple[list[Path], str, str]:
    """(files, kind: 'directory', 'pattern' or 'list', description for messages)."""
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        path = Path(text).expanduser()
        if path.is_dir():
            named = sorted(p for p in path.iterdir() if LOBSTER_NAME.match(p.name))
            _no_directories(named, f"directory {text}")
            files = [p for p in named if p.is_file()]
            if not files:
                raise FileNotFoundError(f"no LOBSTER files in directory {text} (names like {_NAME_FORM}).")
            return files, "directory", f"directory {text}"
        if any(c in text for c in "*?["):
            matched = sorted(Path(p) for p in _glob.glob(os.path.expanduser(text)))
            _no_directories((p for p in matched if LOBSTER_NAME.match(p.name)), f"pattern {text!r}")
            files = [p for p in matched if p.is_file()]
            if not files:
                raise FileNotFoundError(f"no files match the pattern {text!r}.")
            return files, "pattern", f"pattern {text!r}"
        if path.is_file():
            return [path], "list", f"file {text}"
        raise FileNotFoundError(f"source == {text!r} is not a directory, a file or a pattern that matches files.")
    if isinstance(source, Iterable) and not isinstance(source, (bytes, pd.DataFrame)):
        files = []
        for p in source:
            if not isinstance(p, (str, os.PathLike)):
                raise TypeError(f"source holds {type(p).__name__} {p!r}; it must hold file paths (str or Path).")
            path = Path(p).expanduser()
            _no_directories([path], "the list of files")
            if not path.is_file():
                raise FileNotFoundError(f"LOBSTER file not found: {p}")
            files.append(path)
        if not files:
            raise FileNotFoundError("source is an empty list of files.")
        return files, "list", "the list of files"
    raise TypeError(f"source must be a directory, a glob pattern or a list of paths, got {type(source).__name__}.")


def scan_lobster(source: str | os.PathLike | Iterable[str | os.PathLike], level: int | None = None) -> pd.DataFrame:
    """Pair up the LOBSTER message and orderbook files of many ticker-days.

    Parameters
    ----------
    source : str, path-like or list of them
        A directory (its LOBSTER files are used, other files ignored), a glob
        pattern such as ``"/data/*_message_1.csv"`` plus the matching
        orderbook files, or a list of file paths.  A pattern or list must
        name only LOBSTER files: ``TICKER_YYYY-MM-DD_STARTMS_ENDMS_message_N.csv``
        and ``..._orderbook_N.csv``, either also ``.csv.gz``.
    level : int, optional
        Book depth N to keep.  Needed when the source holds several; files of
        other depths are skipped in a directory or pattern, and an error in a
        list.

    Returns
    -------
    pandas.DataFrame
        One row per ticker-day, sorted by date then ticker: ``ticker``,
        ``date`` (Timestamp, naive midnight), ``level``, ``start_ms`` and
        ``end_ms`` (the file's time window, milliseconds after midnight),
        ``message_file`` and ``orderbook_file`` (:class:`pathlib.Path`).

    Raises
    ------
    FileNotFoundError
        If the source is missing or holds no LOBSTER file (of ``level``).
    ValueError
        If the files have several levels and ``level`` is None, a ticker-day
        has two message (or orderbook) files (``.csv`` and ``.csv.gz``, or
        two time windows), a message file lacks its orderbook file or the
        reverse, a pattern or list names a file that is not a LOBSTER file,
        or a file name holds an impossible date or time window.
    IsADirectoryError
        If an entry with a LOBSTER file's name (in the directory, matching
        the pattern or in the list) is a directory.
    TypeError
        If ``source`` is not a path, pattern or list of paths.

    Notes
    -----
    Only file names are read, so scanning costs no parsing; read a day with
    ``read_lobster(row.message_file, row.orderbook_file)``.

    Examples
    --------
    >>> files = scan_lobster(find_data_dir(), level=1)
    >>> files[["ticker", "date", "level"]].to_string(index=False)
    'ticker       date  level\\n  AAPL 2012-06-21      1\\n  AMZN 2012-06-21      1\\n  GOOG 2012-06-21      1'
    """
    if level is not None:
        level = int(check_scalar(level, "level", min_val=1, integer=True))
    files, kind, where = _source_files(source)
    rows = []
    for p in files:
        row = _parse_name(p)
        if row is None:  # only a named file gets here: directories list LOBSTER names only
            raise ValueError(f"file {p.name} from {where} is not a LOBSTER file name ({_NAME_FORM}).")
        rows.append(row)
    levels = sorted({r["level"] for r in rows})
    if level is None:
        if len(levels) > 1:
            raise ValueError(f"found levels {levels} in {where}; pass level= to choose one.")
    else:
        other = [r for r in rows if r["level"] != level]
        if other and kind == "list":
            raise ValueError(f"file {other[0]['path'].name} has level {other[0]['level']}, but level == {level}.")
        rows = [r for r in rows if r["level"] == level]
        if not rows:
            raise FileNotFoundError(f"no level-{level} LOBSTER files in {where} (found levels {levels}).")

    days: dict[tuple[str, pd.Timestamp], dict[str, list[dict]]] = {}
    for r in rows:
        days.setdefault((r["ticker"], r["date"]), {"message": [], "orderbook": []})[r["kind"]].append(r)
    out = []
    for (ticker, date), kinds in days.items():
        day = f"{ticker} on {date.date()}"
        for what, found in kinds.items():
            if len(found) > 1:
                names = ", ".join(str(f["path"]) for f in found)
                raise ValueError(f"{day} has {len(found)} {what} files: {names}; keep one per ticker-day.")
        msg, book = kinds["message"], kinds["orderbook"]
        if not book or not msg:
            have, lack = (msg[0], "orderbook") if msg else (book[0], "message")
            raise ValueError(f"{lack} file missing for {have['path']} ({day}, level {have['level']}).")
        m, b = msg[0], book[0]
        if (m["start_ms"], m["end_ms"]) != (b["start_ms"], b["end_ms"]):
            raise ValueError(
                f"{day}: message file {m['path'].name} and orderbook file {b['path'].name} cover different time windows."
            )
        out.append((ticker, date, m["level"], m["start_ms"], m["end_ms"], m["path"], b["path"]))
    out.sort(key=lambda r: (r[1], r[0]))
    frame = pd.DataFrame(out, columns=["ticker", "date", "level", "start_ms", "end_ms", "message_file", "orderbook_file"])
    frame["date"] = pd.DatetimeIndex(frame["date"]).as_unit("ns")
    for c in ("level", "start_ms", "end_ms"):
        frame[c] = frame[c].astype(np.int64)
    frame["message_file"] = frame["message_file"].astype(object)
    frame["orderbook_file"] = frame["orderbook_file"].astype(object)
    return frame
