"""Markdown (CommonMark with tables) to a structured document, with markdown-it-py: headings open
sections, list items, table rows and code blocks keep their kind, and inline markup (emphasis,
links, code spans, HTML) is reduced to its text."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from services.indexer.app.structure import DocumentBuilder, StructuredDocument, UnreadableDocument

_TAG = re.compile(r"<[^>]*>")


def inline_text(token: Token) -> str:
    """The words of an inline token: text and code spans as written, breaks as spaces, an image as
    its alt text; markup (emphasis, links, inline HTML) leaves nothing behind."""
    out: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type == "image":
            out.append(child.content)
    return "".join(out)


class MarkdownParser:
    def __init__(self) -> None:
        self._markdown = MarkdownIt("commonmark").enable("table")

    def parse(self, content: bytes) -> StructuredDocument:
        try:
            tokens = self._markdown.parse(content.decode("utf-8-sig", errors="replace"))
        except Exception as error:
            raise UnreadableDocument(f"the markdown could not be parsed: {error}") from error
        return _Walk(tokens).run()


class _Walk:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.builder = DocumentBuilder()
        self.lists: list[list[int]] = []  # per open list: [next number] (ordered) or [] (bullets)
        self.item: list[str] | None = None  # the text of the list item being read
        self.item_marker = ""
        self.header: list[str] | None = None
        self.cells: list[str] = []
        self.in_head = False

    def flush_item(self) -> None:
        if self.item:
            self.builder.item(" ".join(self.item), self.item_marker)
        self.item = None

    def run(self) -> StructuredDocument:
        tokens = self.tokens
        for index, token in enumerate(tokens):
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            kind = token.type
            if kind == "heading_open" and following is not None:
                self.builder.heading(int(token.tag[1:]), inline_text(following))
            elif kind in ("bullet_list_open", "ordered_list_open"):
                self.flush_item()
                start = token.attrGet("start")
                self.lists.append([int(start) if isinstance(start, int | str) else 1] if kind[0] == "o" else [])
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.flush_item()
                self.lists.pop()
            elif kind == "list_item_open":
                self.flush_item()
                counter = self.lists[-1] if self.lists else []
                self.item_marker = f"{counter[0]}." if counter else "\u2022"
                if counter:
                    counter[0] += 1
                self.item = []
            elif kind == "list_item_close":
                self.flush_item()
            elif kind == "inline" and index and tokens[index - 1].type == "paragraph_open":
                text = inline_text(token)
                if self.item is not None:
                    self.item.append(text)
                else:
                    self.builder.paragraph(text)
            elif kind in ("thead_open", "thead_close"):
                self.in_head = kind == "thead_open"
            elif kind == "tr_open":
                self.cells = []
            elif kind == "inline" and index and tokens[index - 1].type in ("th_open", "td_open"):
                self.cells.append(inline_text(token))
            elif kind == "tr_close":
                if self.in_head:
                    self.header = self.cells
                else:
                    self.builder.row(self.cells, self.header)
            elif kind == "table_close":
                self.header = None
            elif kind in ("fence", "code_block"):
                self.flush_item()
                self.builder.code(token.content)
            elif kind == "html_block":
                self.builder.paragraph(_TAG.sub(" ", token.content))
        return self.builder.build()
