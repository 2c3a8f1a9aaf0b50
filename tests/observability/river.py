"""A small reader for the Alloy (River) configuration syntax, enough to test the rendered config structurally.

Blocks `name "label" { ... }` and attributes `key = value` where value is a string, number, bool, list,
object, a component reference (a.b.c.export) or a call/concatenation (kept as an Expr with its references).
Alloy itself is not installable offline; this reader rejects what Alloy would reject syntactically
(unbalanced braces, unterminated strings, a block without a name) and exposes what the tests check.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\n]+|//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?[0-9]+(?:\.[0-9]+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<punct>[{}\[\](),=+])
""", re.X | re.S)


class RiverError(ValueError):
    pass


@dataclass
class Expr:
    text: str
    refs: list[str]


@dataclass
class Block:
    name: str
    label: str | None = None
    attrs: dict = field(default_factory=dict)
    blocks: list["Block"] = field(default_factory=list)

    def block(self, name):
        found = [b for b in self.blocks if b.name == name]
        if len(found) != 1:
            raise KeyError(f"{self.name}: expected one {name} block, found {len(found)}")
        return found[0]


def tokenize(text):
    pos, tokens = 0, []
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match:
            line = text.count("\n", 0, pos) + 1
            raise RiverError(f"line {line}: unexpected {text[pos:pos + 20]!r}")
        pos = match.end()
        if match.lastgroup != "ws":
            tokens.append((match.lastgroup, match.group()))
    return tokens


class Parser:
    def __init__(self, text):
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, offset=0):
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else (None, None)

    def take(self, kind=None, value=None):
        token = self.peek()
        if token[0] is None or (kind and token[0] != kind) or (value and token[1] != value):
            raise RiverError(f"expected {value or kind}, got {token[1]!r} (token {self.i})")
        self.i += 1
        return token[1]

    def body(self, closing):
        block = Block("")
        while self.peek()[1] != closing:
            if self.peek()[0] is None:
                raise RiverError("unexpected end of file: a block is not closed")
            name = self.take("ident")
            if self.peek()[1] == "=":
                self.take(value="=")
                if name in block.attrs:
                    raise RiverError(f"attribute {name} set twice")
                block.attrs[name] = self.value()
            else:
                label = json.loads(self.take("string")) if self.peek()[0] == "string" else None
                self.take(value="{")
                child = self.body("}")
                self.take(value="}")
                child.name, child.label = name, label
                block.blocks.append(child)
        return block

    def value(self):
        start = self.i
        parts = [self.operand()]
        while self.peek()[1] == "+":
            self.take(value="+")
            parts.append(self.operand())
        if len(parts) == 1:
            return parts[0]
        refs = [r for p in parts for r in (p.refs if isinstance(p, Expr) else [])]
        return Expr(" ".join(t[1] for t in self.tokens[start:self.i]), refs)

    def operand(self):
        kind, text = self.peek()
        if kind == "string":
            self.i += 1
            return json.loads(text)
        if kind == "number":
            self.i += 1
            return float(text) if "." in text else int(text)
        if text == "[":
            self.take(value="[")
            items = []
            while self.peek()[1] != "]":
                items.append(self.value())
                if self.peek()[1] == ",":
                    self.take(value=",")
            self.take(value="]")
            return items
        if text == "{":
            self.take(value="{")
            obj = {}
            while self.peek()[1] != "}":
                key = self.take()
                self.take(value="=")
                obj[json.loads(key) if key.startswith('"') else key] = self.value()
                if self.peek()[1] == ",":
                    self.take(value=",")
            self.take(value="}")
            return obj
        if kind == "ident":
            self.i += 1
            if text in ("true", "false"):
                return text == "true"
            if self.peek()[1] == "(":
                self.take(value="(")
                args = []
                while self.peek()[1] != ")":
                    args.append(self.value())
                    if self.peek()[1] == ",":
                        self.take(value=",")
                self.take(value=")")
                refs = [r for a in args for r in (a.refs if isinstance(a, Expr) else [])]
                return Expr(f"{text}({', '.join(json.dumps(a) if isinstance(a, str) else str(a) for a in args)})", refs)
            return Expr(text, [text])
        raise RiverError(f"unexpected {text!r}")


def parse(text) -> list[Block]:
    parser = Parser(text)
    root = parser.body(None)
    return root.blocks


def components(blocks) -> dict[str, Block]:
    """Top-level labelled blocks by their id, for example 'loki.write.default'."""
    return {f"{b.name}.{b.label}": b for b in blocks if b.label is not None}


def references(block):
    """Every component reference used in the attributes of a block and its nested blocks."""
    refs = []

    def walk(value):
        if isinstance(value, Expr):
            refs.extend(value.refs)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
    for value in block.attrs.values():
        walk(value)
    for child in block.blocks:
        refs.extend(references(child))
    return refs
