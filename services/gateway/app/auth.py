"""API keys -> tenants. Keys are kept only as SHA-256 digests and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from ragmesh_kit.errors import Unauthenticated


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_key_entries(lines: Iterable[str]) -> dict[str, str]:
    """Entries "<sha256 hex> <tenant>" or "<sha256 hex>:<tenant>"; blank lines and # comments skipped."""
    entries: dict[str, str] = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        digest, _, tenant = line.replace(":", " ", 1).partition(" ")
        digest, tenant = digest.strip().lower(), tenant.strip()
        if len(digest) != 64 or not tenant:
            raise ValueError(f"bad API key entry {line[:16]!r}...: expected '<sha256 hex> <tenant>'")
        entries[digest] = tenant
    return entries


class ApiKeyAuthenticator:
    def __init__(self, entries: dict[str, str]) -> None:
        self._entries = [(bytes.fromhex(digest), tenant) for digest, tenant in entries.items()]

    def authenticate(self, api_key: str | None) -> str:
        if not api_key:
            raise Unauthenticated("missing API key; send it in the 'x-api-key' metadata entry")
        digest = hashlib.sha256(api_key.encode()).digest()
        tenant: str | None = None
        # Compare against every entry so the time taken does not reveal which one matched.
        for known, owner in self._entries:
            if hmac.compare_digest(known, digest):
                tenant = owner
        if tenant is None:
            raise Unauthenticated("unknown API key")
        return tenant
