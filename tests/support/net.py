"""Loopback-only networking for tests.

RFC 6761 reserves *.localhost for loopback; browsers resolve it so, glibc here does
not. This maps those names (and only those) to 127.0.0.1 in the test process and
refuses every other non-loopback address, so no test reaches the network.
"""

from __future__ import annotations

import ipaddress
import socket

_real_getaddrinfo = socket.getaddrinfo
_installed = False


def _loopback_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str):
        lowered = name.lower().rstrip(".")
        if lowered == "localhost" or lowered.endswith(".localhost"):
            return _real_getaddrinfo("127.0.0.1", *args, **kwargs)
        try:
            if not ipaddress.ip_address(lowered).is_loopback:
                raise OSError(f"tests may not reach {name}")
        except ValueError:
            raise OSError(f"tests may not resolve {name}") from None
    return _real_getaddrinfo(host, *args, **kwargs)


def install_loopback_resolver() -> None:
    global _installed
    if not _installed:
        socket.getaddrinfo = _loopback_getaddrinfo
        _installed = True
