"""Reading the examples of a standard in docs/standards/: fenced blocks whose info string is
``zb-example NAME``, which the documents' tests load and check."""

from __future__ import annotations

import re

FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def fenced_examples(text: str) -> list[tuple[str, str]]:
    """(name, body) of every fenced block whose info string starts with ``zb-example``."""
    blocks = []
    for match in FENCE.finditer(text):
        words = match["info"].split()
        if words and words[0] == "zb-example":
            assert len(words) == 2, f"zb-example block needs exactly one name: {match['info']!r}"
            blocks.append((words[1], match["body"]))
    return blocks
