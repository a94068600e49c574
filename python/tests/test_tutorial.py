"""The Python tutorial runs, and every Python block of the docs is cut from it verbatim.

The rule is tests/docs/check_snippets.cmake's for C++ blocks: a ```python block must appear line for line
in python/examples/tutorial.py (trailing whitespace stripped, blank lines trimmed at both ends of the block,
one uniform indentation of the whole block allowed), so a stale snippet cannot stay in the docs.
"""

import re
import runpy
import textwrap

import pytest

from conftest import SOURCE_DIR

TUTORIAL = SOURCE_DIR / "python" / "examples" / "tutorial.py"
DOCS = [SOURCE_DIR / "docs" / "tutorials" / "6-python.md", SOURCE_DIR / "docs" / "python.md", SOURCE_DIR / "README.md"]
FENCE = re.compile(r"^(```|~~~)\s*(\w+)?\s*$")


def python_blocks(markdown):
    """(line number, lines) of every ```python / ```py block."""
    blocks, current, start, language = [], None, 0, None
    for number, line in enumerate(markdown.splitlines(), 1):
        fence = FENCE.match(line)
        if current is None and fence:
            current, start, language = [], number, (fence.group(2) or "").lower()
        elif current is not None and fence and fence.group(2) is None:
            if language in ("python", "py"):
                blocks.append((start, current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def normalized(lines):
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def appears_in(block, source_lines):
    """Whether block appears in source_lines verbatim up to one uniform indentation."""
    block = textwrap.dedent("\n".join(normalized(block))).splitlines()
    if not block:
        return True
    for start in range(len(source_lines) - len(block) + 1):
        first = source_lines[start]
        indent = first[:len(first) - len(block[0])]
        if not first.endswith(block[0]) or indent.strip():
            continue
        if all(source_lines[start + k] == (indent + line if line else "") for k, line in enumerate(block)):
            return True
    return False


def stale_blocks(markdown_path, source):
    source_lines = [line.rstrip() for line in source.splitlines()]
    return [f"{markdown_path.name}:{start}" for start, block in python_blocks(markdown_path.read_text())
            if not appears_in(block, source_lines)]


def test_the_tutorial_runs(capsys):
    runpy.run_path(str(TUTORIAL), run_name="__main__")
    assert "tutorial: ok" in capsys.readouterr().out


@pytest.mark.parametrize("markdown", DOCS, ids=lambda p: p.name)
def test_every_python_block_is_cut_from_the_tutorial(markdown):
    assert python_blocks(markdown.read_text()), f"{markdown} has no Python block"
    assert stale_blocks(markdown, TUTORIAL.read_text()) == []


def test_the_snippet_check_rejects_a_stale_block(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n\n```python\n    x, stats = mrsolve.sample(net, mu, sde=sde, nfe=11)\n```\n\n"
                    "```python\nsde = mrsolve.IRSDETable(schedule=\"cosine\", T=100, max_sigma=50, eps=0.005)\n```\n")
    assert stale_blocks(page, TUTORIAL.read_text()) == ["page.md:3"]
