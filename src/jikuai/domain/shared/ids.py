"""Identifiers made by the application.

Primary keys are UUID version 7: the leading 48 bits are the Unix time in milliseconds, so new rows
sort after old ones. Keyset pagination orders by id alone and inserts stay at the right edge of
the index.
"""

from __future__ import annotations

import os
import time
import uuid


def new_id() -> uuid.UUID:
    """A new time-ordered UUID (RFC 9562 version 7)."""
    millis = time.time_ns() // 1_000_000
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 4122 variant
    return uuid.UUID(int=value)
