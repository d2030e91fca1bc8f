"""One re-entrant lock per engine object: the ledger and the order book are shared between threads.

``Guarded`` gives an object its lock and leaves it out of a pickle (locks do
not pickle; a copy gets its own); ``locked`` runs a method holding it.  The
lock is re-entrant, so locked methods may call each other.
"""

from __future__ import annotations

import functools
import threading

__all__ = ["Guarded", "locked"]


def locked(method):
    """Run ``method`` holding the object's lock."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class Guarded:
    """A re-entrant ``_lock`` per object, made in ``__init__`` by :meth:`_new_lock` and anew when unpickled."""

    def _new_lock(self) -> None:
        self._lock = threading.RLock()

    def __getstate__(self) -> dict:
        with self._lock:  # a consistent state even while another thread writes
            state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._new_lock()
