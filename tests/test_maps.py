"""What the journey-map page says about a map's version and freshness."""

from __future__ import annotations

from datetime import UTC, datetime

from cjm_core.journey_map.model import JourneyMap
from cjm_core.journey_map.status import map_status
from cjm_core.storage.rows import MapVersion

V = [MapVersion(version=3, saved_at=datetime(2025, 5, 1, 9, 30), author="", note=""),
     MapVersion(version=2, saved_at=datetime(2025, 4, 1, 9, 30), author="Ben", note="")]


def fresh(digest: str | None = "d1", built: str | None = None) -> JourneyMap:
    m = JourneyMap.empty("x", "4742", ["A"])
    m.data_digest, m.built_at = digest, built
    return m


def test_unsaved_map_says_so():
    s = map_status(fresh(), None, [], data_digest="d1", data_updated_at=None)
    assert s.caption.startswith("Not saved yet") and not s.stale


def test_an_older_version_open_says_a_newer_one_exists():
    s = map_status(fresh(), 2, V, data_digest="d1", data_updated_at=None)
    assert s.caption == "Version 2 · last updated 2025-04-01 09:30 UTC by Ben (version 3 is newer)"


def test_stale_when_the_data_digest_moved_on_and_not_within_the_same_second():
    assert map_status(fresh("d1"), 3, V, data_digest="d2", data_updated_at=None).stale
    same_second = datetime(2025, 5, 1, 9, 30, 0, 900_000, tzinfo=UTC)
    assert not map_status(fresh("d1", "2025-05-01T09:30:00+00:00"), 3, V, data_digest="d1",
                          data_updated_at=same_second).stale
    assert map_status(fresh(None, "2025-05-01T09:30:00+00:00"), 3, V, data_digest="d1",
                      data_updated_at=datetime(2025, 6, 1, tzinfo=UTC)).stale
