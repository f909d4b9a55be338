"""Which webhook URLs the console may call: http(s) only, never a link-local or metadata address (SSRF).

Checked when a subscription is saved (the host as written and every address it resolves to) and again before each
delivery (the name may resolve elsewhere by then). Loopback and private ranges are allowed: receivers often live
in the provider's own network.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

FORBIDDEN_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),  # link-local, cloud metadata (169.254.169.254)
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::/32"),  # AWS IMDS over IPv6
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("::/128"),
    ipaddress.ip_network("224.0.0.0/4"),
    ipaddress.ip_network("ff00::/8"),
)
METADATA_NAMES = ("metadata.google.internal", "metadata", "instance-data")


class UrlRefused(ValueError):
    """The URL may not be called; the message says why and what to give instead."""


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in FORBIDDEN_NETWORKS)


def check_url(url: str, *, resolve: bool = True) -> None:
    """Raise :class:`UrlRefused` when ``url`` is not an http(s) URL to an allowed address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("Give an http:// or https:// URL.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UrlRefused("The URL has no host name.")
    if parts.username or parts.password:
        raise UrlRefused("Put no credentials in the URL: the secret signs every delivery instead.")
    if host in METADATA_NAMES:
        raise UrlRefused(f"{host} is a cloud metadata service: webhooks may not call it.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    elif resolve:
        try:
            infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
        except (socket.gaierror, UnicodeError) as error:
            raise UrlRefused(f"{host} does not resolve from the console ({error}).") from error
        addresses = sorted({str(info[4][0]) for info in infos})
    else:
        addresses = []
    bad = [address for address in addresses if _forbidden(address)]
    if bad:
        raise UrlRefused(
            f"{host} is (or resolves to) {', '.join(bad)}: link-local, metadata, multicast and unspecified "
            "addresses are refused. Give the receiver's routable address."
        )
