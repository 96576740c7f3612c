"""The tables' key formats: the changelogs already hold them, so these exact strings must not change."""

from __future__ import annotations

from logmonitor.pipeline.tables.alert_state import (
    history_key,
    history_partition,
    incident_key,
    next_key,
    split_incident_key,
)
from logmonitor.pipeline.tables.error_groups import group_key
from logmonitor.pipeline.tables.group_states import group_id, state_key
from logmonitor.pipeline.tables.service_state import (
    PROFILE,
    RELEASES,
    RING_CHUNK,
    SERVICE_REGISTRY,
    chunk_key,
    is_profile_key,
    key_kind,
    profile_key,
    registry_key,
    releases_key,
)


def test_service_state_keys() -> None:
    assert (profile_key("pay"), chunk_key("pay", 3), registry_key(7)) == ("p\x1fpay", "e\x1fpay\x1f3", "r\x1f7")
    assert [key_kind(k) for k in (profile_key("pay"), chunk_key("pay", 3), registry_key(7))] == [
        PROFILE, RING_CHUNK, SERVICE_REGISTRY]
    assert is_profile_key(profile_key("pay")) and not is_profile_key(chunk_key("pay", 0))
    assert releases_key("pay") == "v\x1fpay" and key_kind(releases_key("pay")) == RELEASES
    assert not is_profile_key(releases_key("pay"))


def test_alert_state_keys() -> None:
    assert (incident_key("errors", "pay"), history_key(2, 41), next_key(2)) == (
        "s\x1ferrors\x1fpay", "h\x1f2\x1f41", "n\x1f2")
    assert split_incident_key(incident_key("errors", "pay")) == ("errors", "pay")
    assert split_incident_key(incident_key("errors", "a\x1fb\x1fc")) == ("errors", "a\x1fb\x1fc"), "hostile name"
    assert history_partition(history_key(2, 41)) == 2
    assert split_incident_key(history_key(2, 41)) is None and history_partition(next_key(2)) is None
    assert history_partition(incident_key("errors", "pay")) is None


def test_error_group_key() -> None:
    assert group_key("pay", "0123abcd") == "pay\x1f0123abcd"


def test_group_state_key_and_group_id() -> None:
    assert state_key("pay", "0123abcd") == "pay\x1f0123abcd"
    assert group_id("pay", "0123abcd") == "cGF5HzAxMjNhYmNk", "the API's ids and the escalating rule's bookkeeping"
