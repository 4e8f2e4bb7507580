"""Identifiers made by the application.

Primary keys are UUID version 7: the leading 48 bits are the Unix time in milliseconds, so new rows
sort after old ones. Keyset pagination orders by id alone and inserts stay at the right edge of
the index. Within one process ids also sort in the order they were made, even inside one
millisecond: the 12 bits after the version are a counter (RFC 9562, section 6.2, method 1), so
the transitions one request records come back in the order they happened.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_COUNTER_MAX = 0xFFF
_lock = threading.Lock()
_last_millis = 0
_counter = 0


def new_id() -> uuid.UUID:
    """A new time-ordered UUID (RFC 9562 version 7), increasing within this process."""
    millis, counter = _tick(time.time_ns() // 1_000_000)
    random_bits = int.from_bytes(os.urandom(8), "big") & (1 << 62) - 1
    value = (
        (millis & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76  # version 7
        | counter << 64
        | 0x2 << 62  # RFC 4122 variant
        | random_bits
    )
    return uuid.UUID(int=value)


def _tick(millis: int) -> tuple[int, int]:
    """The millisecond and counter of the next id: a fresh millisecond starts the counter at a
    random value in its lower half (room to count up); the same or an earlier one (the clock
    stepped back) counts on, borrowing the next millisecond when the counter runs out."""
    global _last_millis, _counter
    with _lock:
        if millis > _last_millis:
            _last_millis, _counter = millis, int.from_bytes(os.urandom(2), "big") & 0x7FF
        elif _counter < _COUNTER_MAX:
            _counter += 1
        else:
            _last_millis, _counter = _last_millis + 1, 0
        return _last_millis, _counter
