"""Reference implementation of Lumen request signing.

This module is the normative description of the ``Lumen-Signature`` header.
The TypeScript and Go SDKs, ``lumenctl sign`` and the gateway's verifier are
tested against the vectors in ``test_vectors.json`` produced by this file.

Signature scheme (see ../guides/authentication.md and ADR-0003)::

    string_to_sign = f"{timestamp}\\n{METHOD}\\n{path}\\n{sha256_hex(body)}"
    signature      = hmac_sha256_hex(secret, string_to_sign)
    header         = f"t={timestamp},v1={signature}"

Only the standard library is used so the file can be vendored into scripts.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Iterable, Optional

#: Maximum accepted distance between the signature timestamp and the verifier's
#: clock, in seconds. Mirrors the gateway setting ``auth.signatureToleranceSeconds``.
DEFAULT_TOLERANCE_SECONDS = 300

#: Header names, kept here so scripts do not misspell them.
KEY_ID_HEADER = "Lumen-Key-Id"
SIGNATURE_HEADER = "Lumen-Signature"


class SignatureError(Exception):
    """Raised by :func:`verify_signature`; ``code`` is the matching LUM error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class ParsedSignature:
    """The two fields of a ``Lumen-Signature`` header value."""

    timestamp: int
    signature: str


def string_to_sign(timestamp: int, method: str, path: str, body: bytes) -> str:
    """Build the canonical string that gets signed.

    ``method`` is upper-cased. ``path`` must be the request path exactly as
    sent, including the query string if any (``/v1/query?dry_run=1``) but
    without scheme and host. An empty body hashes to the SHA-256 of ``b""``,
    not to an empty string.
    """
    body_hash = hashlib.sha256(body).hexdigest()
    return f"{timestamp}\n{method.upper()}\n{path}\n{body_hash}"


def sign_request(secret: str, method: str, path: str, body: bytes,
                 timestamp: Optional[int] = None) -> str:
    """Return the value for the ``Lumen-Signature`` header.

    ``secret`` is the API key secret (``lsk_...``), used as UTF-8 bytes.
    ``timestamp`` defaults to the current Unix time; pass it explicitly only
    in tests. The body must be the exact bytes sent on the wire - if you
    compress the body, sign the *compressed* bytes.

    >>> sign_request("lsk_test", "POST", "/v1/events", b"{}", timestamp=1700000000)[:13]
    't=1700000000,'
    """
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"),
                   string_to_sign(ts, method, path, body).encode("utf-8"),
                   hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def parse_signature_header(value: str) -> ParsedSignature:
    """Parse ``t=<int>,v1=<hex>``.

    Unknown fields (for example a future ``v2=``) are ignored so that old
    verifiers keep working when a new scheme is added next to ``v1``.
    Raises :class:`SignatureError` with ``LUM-4010`` if ``t`` or ``v1`` is
    missing.
    """
    fields = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
    if "t" not in fields or "v1" not in fields:
        raise SignatureError("LUM-4010", "signature header must contain t= and v1=")
    return ParsedSignature(timestamp=int(fields["t"]), signature=fields["v1"])


def verify_signature(header_value: str, secrets: Iterable[str], method: str,
                     path: str, body: bytes, now: Optional[int] = None,
                     tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS) -> int:
    """Check a signature against one or more secrets; return the index that matched.

    ``secrets`` is ordered primary first, then secondary. Accepting both is
    what allows zero-downtime rotation (../runbooks/rotate-signing-keys.md):
    the returned index tells the caller which secret the client used, and the
    gateway exports it as the metric ``lumen_auth_secret_used{slot=...}``
    behind ``lumenctl keys secrets usage``.

    The timestamp is checked before any HMAC is computed, so stale requests
    are cheap to reject. Comparison uses :func:`hmac.compare_digest` to avoid
    timing leaks.

    Raises :class:`SignatureError` with ``LUM-4012`` when the timestamp is
    outside ``tolerance_seconds`` and ``LUM-4011`` when no secret matches.
    """
    parsed = parse_signature_header(header_value)
    current = int(time.time()) if now is None else now
    if abs(current - parsed.timestamp) > tolerance_seconds:
        raise SignatureError("LUM-4012", f"timestamp {parsed.timestamp} is more than "
                                         f"{tolerance_seconds}s from server time {current}")
    for index, secret in enumerate(secrets):
        expected = sign_request(secret, method, path, body, timestamp=parsed.timestamp)
        if hmac.compare_digest(expected.split("v1=", 1)[1], parsed.signature):
            return index
    raise SignatureError("LUM-4011", "signature does not match any active secret")


if __name__ == "__main__":
    # Usage: python signing.py SECRET METHOD PATH < body
    import sys

    print(sign_request(sys.argv[1], sys.argv[2], sys.argv[3], sys.stdin.buffer.read()))
