"""Turn the tag rotation, bulk size and session count into per-session tag lists."""

from __future__ import annotations

from gwexp.config import TagsConfig


def tag_rotation(tags: TagsConfig) -> list[str]:
    """Every tag the rotation offers, in the order it hands them out."""
    machines = [
        f"{tags.machine_prefix}{number:03d}" for number in range(1, tags.machines + 1)
    ]
    if tags.rotation == "explicit":
        return list(tags.explicit)
    if tags.rotation == "single_attribute":
        return [f"{machine}.{tags.attribute}" for machine in machines]
    if tags.rotation == "by_attribute":
        return [f"{m}.{a}" for a in tags.attributes for m in machines]
    return [f"{m}.{a}" for m in machines for a in tags.attributes]


def session_tags(
    tags: TagsConfig, bulk_size: int, session_count: int
) -> list[list[str]]:
    """The tags of each session: the rotation continues from one session to the next.

    The rotation wraps around the galaxy, so with ``bulk_size`` equal to the
    galaxy every session subscribes every tag, as in the published session
    scaling bench. Tags within one session are always distinct (``bulk_size``
    is validated to fit the rotation).
    """
    rotation = tag_rotation(tags)
    plans = []
    for session in range(session_count):
        start = session * bulk_size
        plans.append([rotation[(start + i) % len(rotation)] for i in range(bulk_size)])
    return plans
