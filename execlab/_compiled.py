"""Optional compiled loops: numba when it is installed, the numpy path otherwise.

A few hot paths (cumulative rounding of schedules, the row rules of post-trade
fills, per-fill TCA metrics) are
one pass over an array in a compiled loop but three or four passes in numpy.
numba does that job better than code we would write (README, "Dependencies"),
but it is optional (the ``fast`` extra, also in ``replay`` and ``dev``), so each
compiled kernel keeps its numpy version as the reference: tests check the two
give identical results, and ``EXECLAB_NO_NUMBA=1`` (read once, at first use)
forces the numpy path everywhere, for those checks and for benchmarks.

numba is imported on first use, not with the package, so ``import execlab``
stays fast; compiled functions are cached on disk (``cache=True``).
"""

from __future__ import annotations

import functools
import os
import types
from typing import Callable

__all__ = ["have_numba", "jit", "kernel_helper"]

_STATE: dict[str, object] = {}


def have_numba() -> bool:
    """Whether compiled kernels are in use (numba importable and not switched off).

    Returns
    -------
    bool
        False without numba, or when the environment variable
        ``EXECLAB_NO_NUMBA`` is set to a non-empty value other than ``0``.
    """
    if "numba" not in _STATE:
        if os.environ.get("EXECLAB_NO_NUMBA", "0") not in ("", "0"):
            _STATE["numba"] = None
        else:
            try:
                import numba
            except ImportError:  # pragma: no cover - the fast extra is not installed
                _STATE["numba"] = None
            else:
                _STATE["numba"] = numba
    return _STATE["numba"] is not None


def jit(py_func: Callable) -> Callable | None:
    """``py_func`` compiled with ``numba.njit(cache=True)``, or None without numba.

    Compiled once per process and kept; callers fall back to their numpy
    version when this returns None.

    Parameters
    ----------
    py_func : callable
        A function numba's nopython mode accepts (int64/float64 arrays,
        scalars, loops).

    Returns
    -------
    callable or None
        The compiled function (``.py_func`` is the original), or None.
    """
    if not have_numba():
        return None
    key = f"{py_func.__module__}.{py_func.__qualname__}"
    if key not in _STATE:
        numba = _STATE["numba"]
        # The helpers it calls (kernel_helper) compiled too, seen by this kernel only: its module keeps the plain ones.
        called = {name: jit(g) for name in py_func.__code__.co_names
                  if getattr(g := py_func.__globals__.get(name), "_kernel_helper", False)}
        if called:
            py_func = functools.update_wrapper(types.FunctionType(
                py_func.__code__, {**py_func.__globals__, **called}, py_func.__name__, py_func.__defaults__,
                py_func.__closure__), py_func)
        # No fastmath: every float operation stays the IEEE one numpy does, so the two paths agree bit for bit;
        # numpy's error model: x / 0 gives inf or NaN, as in numpy, instead of raising.
        _STATE[key] = numba.njit(cache=True, error_model="numpy")(py_func)  # type: ignore[attr-defined]
    return _STATE[key]  # type: ignore[return-value]


def kernel_helper(py_func: Callable) -> Callable:
    """Mark a small function that compiled kernels share: :func:`jit` compiles it for every kernel that calls it.

    The function itself stays plain Python (numba is not imported for it);
    one copy of the logic serves every kernel instead of one per kernel.

    Parameters
    ----------
    py_func : callable
        A function numba's nopython mode accepts.

    Returns
    -------
    callable
        ``py_func``, marked.
    """
    py_func._kernel_helper = True  # type: ignore[attr-defined]
    return py_func
