"""Tag rotations and per-session tag lists."""

from __future__ import annotations

from gwexp.config import TagsConfig
from gwexp.plan import session_tags, tag_rotation


def test_by_machine_takes_every_attribute_of_a_machine_first() -> None:
    tags = tag_rotation(TagsConfig())
    assert len(tags) == 120
    assert tags[:2] == [
        "TestMachine_001.TestChangingInt",
        "TestMachine_001.TestChangingDouble",
    ]
    assert tags[6] == "TestMachine_002.TestChangingInt"
    assert tags[-1] == "TestMachine_020.TestChangingTime"


def test_by_attribute_takes_every_machine_first() -> None:
    tags = tag_rotation(TagsConfig(rotation="by_attribute"))
    assert tags[:2] == [
        "TestMachine_001.TestChangingInt",
        "TestMachine_002.TestChangingInt",
    ]
    assert tags[20] == "TestMachine_001.TestChangingDouble"


def test_single_attribute_and_explicit() -> None:
    single = tag_rotation(
        TagsConfig(rotation="single_attribute", attribute="TestChangingBool")
    )
    assert single == [f"TestMachine_{n:03d}.TestChangingBool" for n in range(1, 21)]
    explicit = TagsConfig(rotation="explicit", explicit=["A.x", "B.y"])
    assert tag_rotation(explicit) == ["A.x", "B.y"]


def test_sessions_continue_the_rotation_and_wrap() -> None:
    plans = session_tags(TagsConfig(), bulk_size=6, session_count=3)
    assert [p[0] for p in plans] == [
        "TestMachine_001.TestChangingInt",
        "TestMachine_002.TestChangingInt",
        "TestMachine_003.TestChangingInt",
    ]
    full = session_tags(TagsConfig(), bulk_size=120, session_count=2)
    assert full[0] == full[1]
    assert len(set(full[0])) == 120
    wrapped = session_tags(TagsConfig(machines=2), bulk_size=5, session_count=3)
    assert all(len(set(p)) == 5 for p in wrapped)
    assert wrapped[2][0] == tag_rotation(TagsConfig(machines=2))[10]
