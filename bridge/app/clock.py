"""The one wall clock: what every ``clock=`` parameter defaults to outside the core.

The core never reads the clock (times are passed in); the service, the
runner and the simulators take a ``clock`` callable and default to this one,
so a test replaces it in one argument.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
