"""The one loopback check: is a host name or address reachable only from this machine?

Pure (no DNS): ``localhost`` names (RFC 6761, ``*.localhost``) and loopback
addresses, with or without IPv6 brackets. Used by the configuration (plain
AMQP and HTTP binds), the security checks and the HTTP Host-header guard.
"""

from __future__ import annotations

import ipaddress

LOCALHOST_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_loopback_host(host: str | bytes) -> bool:
    """True for ``localhost`` names and loopback addresses; never resolves DNS."""
    if isinstance(host, bytes):
        host = host.decode("ascii", errors="replace")
    name = host.strip().strip("[]").lower()
    if name in LOCALHOST_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
