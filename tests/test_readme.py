"""The README's code runs as written (its "Quick look" and "Your own data" snippets)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(section: str) -> list[str]:
    text = README.read_text()
    start = text.index(f"## {section}")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)


@pytest.mark.parametrize("section", ["Quick look", "Your own data"])
def test_readme_snippets_run(section):
    blocks = _blocks(section)
    assert blocks, f"README section {section!r} has no python block"
    for code in blocks:
        exec(compile(code, f"README.md ({section})", "exec"), {})
