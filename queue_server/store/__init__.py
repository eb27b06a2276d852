"""Everything the office keeps on disk: one SQLite file through sqlite-utils. No HTTP, never publishes.

`Store` is the engine's one handle on it: start-up loads, batch commits on the
writer thread, reads on a small pool of reader threads (never on the event
loop), and account writes that ride the same writer thread as the batches.
"""

from queue_server.store.store import Store

__all__ = ["Store"]
