"""What every renderer shares: how a moment is written."""

from __future__ import annotations

from datetime import datetime, timezone


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
