"""Read and write Rasa 3 NLU YAML without importing rasa (used by the build script, the benchmark and the tests).

Only the parts this project uses: `- intent: name` blocks with `examples: |` lists, entity annotations
`[text](entity)` and `[text]{"entity": "...", "value": "..."}`, and the `regex:` / `lookup:` / `synonym:` blocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str  # the normalised value (synonym) if the annotation gives one, else the text
    text: str  # the text as written
    start: int
    end: int


@dataclass(frozen=True)
class Example:
    intent: str  # full intent, e.g. "faq/return_window"
    text: str  # plain text, annotations removed
    entities: tuple[Entity, ...] = field(default_factory=tuple)
    source: str = ""


def parse_annotated(raw: str) -> tuple[str, tuple[Entity, ...]]:
    """'order [AK1234567](order_number)' -> ('order AK1234567', (Entity('order_number', ...),))."""
    out: list[str] = []
    entities: list[Entity] = []
    pos = 0
    length = 0
    for match in ANNOTATION.finditer(raw):
        before = raw[pos : match.start()]
        out.append(before)
        length += len(before)
        text = match.group("text")
        if match.group("short"):
            name, _, value = match.group("short").partition(":")
            value = value or text
        else:
            spec = json.loads(match.group("json"))
            name, value = spec["entity"], str(spec.get("value", text))
        entities.append(Entity(name, value, text, length, length + len(text)))
        out.append(text)
        length += len(text)
        pos = match.end()
    out.append(raw[pos:])
    return "".join(out), tuple(entities)


def normalize(text: str) -> str:
    """The form used to detect the same utterance twice: lower case, single spaces, no trailing punctuation."""
    text = re.sub(r"\s+", " ", text.strip().lower())
    return text.rstrip(" ?!.,;")


def load_nlu(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle) or {}
    nlu = document.get("nlu") or []
    if not isinstance(nlu, list):
        raise ValueError(f"{path}: 'nlu' must be a list")
    return {"nlu": nlu}


def _items(block: dict) -> list[str]:
    examples = block.get("examples") or ""
    return [line.strip()[2:].strip() for line in examples.splitlines() if line.strip().startswith("- ")]


def read_examples(paths: Iterable[Path]) -> list[Example]:
    """All intent examples of the given NLU files, annotations parsed."""
    result: list[Example] = []
    for path in paths:
        for block in load_nlu(path)["nlu"]:
            if "intent" not in block:
                continue
            for raw in _items(block):
                text, entities = parse_annotated(raw)
                result.append(Example(block["intent"], text, entities, str(path)))
    return result


def read_blocks(paths: Iterable[Path], kind: str) -> dict[str, list[str]]:
    """`kind` = "regex" | "lookup" | "synonym": name -> list of items."""
    result: dict[str, list[str]] = {}
    for path in paths:
        for block in load_nlu(path)["nlu"]:
            if kind in block:
                result.setdefault(str(block[kind]), []).extend(_items(block))
    return result


def dump_intents(blocks: dict[str, list[str]], header: str) -> str:
    """Rasa NLU YAML text, one `- intent:` block per key, examples in the given order."""
    lines = ['version: "3.1"']
    lines += [f"# {line}" if line else "#" for line in header.splitlines()]
    lines.append("nlu:")
    for intent, examples in blocks.items():
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines += [f"    - {example}" for example in examples]
    return "\n".join(lines) + "\n"
