"""The committed generated modules match protos/, and code uses field names only."""

from __future__ import annotations

import re
from pathlib import Path

from gwexp import codegen

PACKAGE = codegen.PROJECT_ROOT / "gwexp"


def test_generated_modules_are_up_to_date(tmp_path: Path) -> None:
    fresh = codegen.generate(tmp_path)
    assert len(fresh) == 3
    for path in fresh:
        committed = PACKAGE / "proto" / path.name
        assert committed.read_text() == path.read_text(), (
            f"{committed.name} is stale: run python -m gwexp.codegen"
        )


def test_no_code_outside_generated_modules_uses_field_numbers() -> None:
    # Descriptor field numbers or raw wire access would tie gwexp to this proto.
    pattern = re.compile(r"\.number\b|FieldDescriptor|_FIELD_NUMBER|SerializePartial")
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "proto" and path.name != "__init__.py":
            continue
        if pattern.search(path.read_text()):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []
