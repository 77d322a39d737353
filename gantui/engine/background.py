"""A sink that does its work on a writer thread, so file writes (fsync'd status, PNG encoding) never stall
the training step. Events keep their order; the run's end waits until everything before it is on disk."""

from __future__ import annotations

import queue
import threading

from gantui.engine.events import Event, RunEnded, Sink

QUEUE_EVENTS = 64  # beyond this the trainer waits: a writer that cannot keep up slows training, not memory


class BackgroundSink:
    """Hands events to `sink` on one thread, in order. A failure there is raised on the next `handle` call."""

    def __init__(self, sink: Sink, name: str = "gantui-writer") -> None:
        self.sink = sink
        self._queue: queue.Queue[Event | None] = queue.Queue(QUEUE_EVENTS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def handle(self, event: Event) -> None:
        self._raise_pending()
        if not self._thread.is_alive():
            self.sink.handle(event)
            return
        self._queue.put(event)
        if isinstance(event, RunEnded):  # readers who see the final state find every file complete
            self.flush()

    def flush(self) -> None:
        """Wait until every event handed over so far has been handled; raise what went wrong meanwhile."""
        if self._thread.is_alive():
            self._queue.join()
        self._raise_pending()

    def close(self) -> None:
        """Finish the queued work and stop the thread (idempotent)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise_pending()

    def _raise_pending(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _work(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if event is None:
                    return
                self.sink.handle(event)
            except BaseException as error:  # kept for the training thread, which decides what it means
                self._error = error
            finally:
                self._queue.task_done()
