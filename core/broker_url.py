"""The broker's URL (``broker_url``): checked, and shown without its password.

Redis URLs only: ``redis://[[user]:password@]host[:port][/db]`` or ``rediss://`` (TLS). The
password never leaves this module in clear: :func:`redact` puts ``***`` in its place, and every
log line, error and ``config show`` uses the redacted form.
"""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

__all__ = ["SCHEMES", "check_broker_url", "endpoint", "redact"]

SCHEMES = ("redis", "rediss")


def redact(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``; anything unparsable is cut to its scheme."""
    try:
        parts = urlsplit(url)
        password = parts.password
        user = parts.username
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        head, sep, _ = url.partition("://")
        return f"{head}{sep}***" if sep else "***"
    if password is None and "@" not in parts.netloc:
        return url
    who = f"{user or ''}:***@" if password is not None else f"{user or ''}@"
    host = f"[{host}]" if ":" in host else host
    return urlunsplit((parts.scheme, f"{who}{host}{port}", parts.path, parts.query, parts.fragment))


def endpoint(url: str) -> str:
    """``redis://host:port``: where the broker is, for a message (no user, no password, no db)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}:{parts.port or 6379}"


def check_broker_url(text: str) -> str:
    """``text`` stripped if it is a usable Redis URL, else ``ValueError`` saying why (password never quoted)."""
    url = text.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL ({exc})") from None
    if parts.scheme not in SCHEMES:
        given = f"{parts.scheme}://" if parts.scheme else "none"
        raise ValueError(f"the scheme must be redis:// or rediss://, not {given}")
    if not parts.hostname:
        raise ValueError("no host")
    if port == 0:
        raise ValueError("port 0")
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise ValueError(f"the path must be a database number, not /{db}")
    return url
