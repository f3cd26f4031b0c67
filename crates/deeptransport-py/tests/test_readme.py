"""The README's Python example runs as written (a tested snippet, like the Rust doctests)."""

from __future__ import annotations

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[3] / "README.md"


def python_blocks(section: str) -> list:
    text = README.read_text(encoding="utf-8")
    m = re.search(rf"^## {section}\n(.*?)(?=^## )", text, flags=re.S | re.M)
    assert m, f"README.md has no '## {section}' section"
    return re.findall(r"```python\n(.*?)```", m.group(1), flags=re.S)


def test_the_readme_python_example_runs(tmp_path, monkeypatch):
    blocks = python_blocks("Python")
    assert blocks, "the Python section has no ```python block"
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        if "import torch" in code:
            pytest.importorskip("torch")
        exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
