"""Run the Twisted reactor in a background thread so blocking tests and benchmarks can drive it.

The reactor cannot be restarted, so one thread runs it for the whole session;
:meth:`ReactorThread.call` runs a function in the reactor thread and waits,
bounded, for its result (a Deferred is waited for too).
"""

from __future__ import annotations

import threading
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure


class ReactorThread:
    """The global reactor, running in a daemon thread."""

    def __init__(self) -> None:
        from twisted.internet import reactor

        self.reactor = reactor
        self._thread: threading.Thread | None = None

    def start(self) -> ReactorThread:
        if self._thread is None:
            self._thread = threading.Thread(target=self.reactor.run, kwargs={"installSignalHandlers": False},
                                            name="twisted-reactor", daemon=True)
            self._thread.start()
        return self

    def call(self, fn, *args, timeout: float = 30, **kwargs) -> Any:
        """Run ``fn(*args, **kwargs)`` in the reactor; wait up to ``timeout`` s; raise its error."""
        done = threading.Event()
        box: dict[str, Any] = {}

        def finish(result):
            box["result"] = result
            done.set()

        def run():
            defer.maybeDeferred(fn, *args, **kwargs).addBoth(finish)

        self.reactor.callFromThread(run)
        if not done.wait(timeout):
            raise TimeoutError(f"{getattr(fn, '__name__', fn)} did not finish within {timeout} s")
        result = box["result"]
        if isinstance(result, Failure):
            result.raiseException()
        return result

    def stop(self, timeout: float = 30) -> None:
        if self._thread is not None and self._thread.is_alive():
            self.reactor.callFromThread(self.reactor.stop)
            self._thread.join(timeout)
