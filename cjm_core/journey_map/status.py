"""What the journey-map page says about a map: its version, when it was saved, whether the data
moved on since (staleness), and which segments a map can be built for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cjm_core.journey_map.model import JourneyMap
from cjm_core.model.dataset import Dataset
from cjm_core.storage.rows import MapVersion


@dataclass(frozen=True)
class MapStatus:
    caption: str
    stale: bool
    stale_note: str = ""


def map_status(m: JourneyMap, base: int | None, versions: Sequence[MapVersion], *,
               data_digest: str | None, data_updated_at: datetime | None) -> MapStatus:
    """Version, "last updated" and a staleness note when the data is newer than the map.

    >>> from datetime import datetime
    >>> m = JourneyMap.empty("x", "4742", ["A"])
    >>> m.data_digest = "old"
    >>> s = map_status(m, 2, [MapVersion(2, "Ana", "", datetime(2025, 1, 1))],
    ...                data_digest="new", data_updated_at=None)
    >>> s.caption, s.stale
    ('Version 2 · last updated 2025-01-01 00:00 UTC by Ana', True)
    """
    if base is None:
        caption = "Not saved yet: built from the data and the industry template."
    else:
        saved = next((v for v in versions if v.version == base), None)
        when = f"{saved.saved_at:%Y-%m-%d %H:%M} UTC" if saved else "—"
        who = f" by {saved.author}" if saved and saved.author else ""
        caption = f"Version {base} · last updated {when}{who}"
        latest = versions[0].version if versions else base
        if latest != base:
            caption += f" (version {latest} is newer)"
    if m.data_digest and data_digest:  # the content itself says whether the data moved on
        stale = m.data_digest != data_digest
    else:  # an imported map without a digest: fall back to the times (built_at has seconds)
        built = _parse(m.built_at)
        stale = bool(built and data_updated_at
                     and _aware(data_updated_at) - built > timedelta(seconds=1))
    note = ("The data changed after the measured lanes were built; refresh them from the data "
            "(the team's entries stay)." if stale else "")
    return MapStatus(caption, stale, note)


def _parse(text: str | None) -> datetime | None:
    try:
        return _aware(datetime.fromisoformat(text)) if text else None
    except ValueError:
        return None


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def segment_choices(data: Dataset, limit: int = 12) -> list[tuple[str, str]]:
    """(column, value) pairs a map can be built for: each segment/persona of the events, and
    customers whose first channel was online vs in store.

    >>> import polars as pl
    >>> from cjm_core.model.journey import default_journey
    >>> ev = pl.DataFrame({"segment": ["gift", "pro", None], "channel": ["web", "store", "app"]})
    >>> [v for _, v in segment_choices(Dataset(default_journey("4742"), events=ev))]
    ['gift', 'pro', 'online', 'store']
    """
    out = [("segment", v) for v in data.values("events", "segment")[:limit]]
    if data.has("events", "channel"):
        out += [("first_channel", "online"), ("first_channel", "store")]
    return out


def stage_focus(param: str | None, n_stages: int) -> int:
    """The presentation's stage index from the URL's ``stage=`` (0-based): anything that is not
    a whole number in range (``abc``, ``-3``, ``99``) opens the nearest valid stage.

    >>> [stage_focus(x, 8) for x in (None, "", "2", "abc", "-3", "99", "1.5", " 3 ")]
    [0, 0, 2, 0, 0, 7, 0, 3]
    >>> stage_focus("4", 0)
    0
    """
    text = (param or "").strip()
    index = int(text) if text.isdigit() and len(text) < 9 else 0
    return min(index, max(n_stages - 1, 0))
