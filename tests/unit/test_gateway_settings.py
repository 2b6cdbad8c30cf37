"""GATEWAY_API_KEYS and GATEWAY_TENANT_LIMITS: typed JSON, the earlier forms still read, clear errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.gateway.app.quotas import TenantLimits
from services.gateway.main import load_key_entries, quota_book
from services.gateway.settings import GatewaySettings

DIGEST = hashlib.sha256(b"k-one").hexdigest()
OTHER = hashlib.sha256(b"k-two").hexdigest()


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> GatewaySettings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return GatewaySettings(requests_per_minute=600, tokens_per_minute=100_000, tokens_per_day=1_000_000)


def test_tenant_limits_as_json_keep_the_defaults_they_leave_out(monkeypatch: pytest.MonkeyPatch) -> None:
    book = quota_book(
        settings(
            monkeypatch,
            GATEWAY_TENANT_LIMITS='{"tenant-b": {"rpm": 5, "tpm": 2000, "tpd": 100000}, "other": {"burst": 2}}',
        )
    )
    assert book.limits("tenant-b") == TenantLimits(rpm=5, tpm=2000, tpd=100000)
    assert book.limits("other") == TenantLimits(rpm=600, tpm=100_000, tpd=1_000_000, burst=2)
    assert book.limits("anyone") == TenantLimits(rpm=600, tpm=100_000, tpd=1_000_000)


def test_tenant_limits_in_the_earlier_form_are_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    given = settings(monkeypatch, GATEWAY_TENANT_LIMITS="tenant-b:rpm=5,tpm=2000,tpd=100000; other:burst=2")
    assert given.tenant_limits["tenant-b"].model_dump(exclude_none=True) == {"rpm": 5, "tpm": 2000, "tpd": 100000}
    assert given.tenant_limits["other"].model_dump(exclude_none=True) == {"burst": 2}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('{"x": {"speed": 3}}', "speed"),
        ('{"x": {"rpm": -1}}', "greater than or equal to 0"),
        ('{"x": {"rpm": 5}', "not valid JSON"),
        ("x:speed=3", "speed"),
        ("no-colon-here", '{"<tenant>": {"rpm": 5'),
    ],
)
def test_bad_tenant_limits_stop_the_start_naming_what_to_write(
    monkeypatch: pytest.MonkeyPatch, value: str, says: str
) -> None:
    with pytest.raises(ValidationError, match="tenant_limits") as refused:
        settings(monkeypatch, GATEWAY_TENANT_LIMITS=value)
    assert says in str(refused.value)


def test_api_keys_as_json_or_in_the_earlier_form_join_the_keys_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"{OTHER} tenant-2\n")
    as_json = settings(
        monkeypatch, GATEWAY_API_KEYS=f'{{"{DIGEST.upper()}": "tenant-1"}}', GATEWAY_API_KEYS_FILE=str(keys_file)
    )
    assert load_key_entries(as_json) == {DIGEST: "tenant-1", OTHER: "tenant-2"}
    earlier = settings(monkeypatch, GATEWAY_API_KEYS=f"{DIGEST}:tenant-1,{OTHER}:tenant-2", GATEWAY_API_KEYS_FILE="")
    assert earlier.api_keys == {DIGEST: "tenant-1", OTHER: "tenant-2"}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('{"plaintext-key": "tenant"}', "should match pattern"),
        (f'{{"{DIGEST}": ""}}', "at least 1 character"),
        ("plaintext-key", '{"<sha256 hex of the key>": "<tenant>"'),
        (f"{DIGEST}:", "at least 1 character"),
    ],
)
def test_bad_api_keys_stop_the_start_naming_what_to_write(
    monkeypatch: pytest.MonkeyPatch, value: str, says: str
) -> None:
    with pytest.raises(ValidationError, match="api_keys") as refused:
        settings(monkeypatch, GATEWAY_API_KEYS=value)
    assert says in str(refused.value)
