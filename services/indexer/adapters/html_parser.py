"""HTML to a structured document, with selectolax (the lexbor engine): scripts, styles and the
page's navigation and chrome (nav, site header and footer, asides, forms) are dropped; headings open
sections; paragraphs, list items, table rows (as "Header: value" sentences) and preformatted code
keep their kind; inline elements are reduced to their text."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from services.indexer.app.structure import DocumentBuilder, StructuredDocument, UnreadableDocument, fold

_DROPPED = (
    "script, style, noscript, template, svg, canvas, iframe, object, form, button, nav, aside, footer, "
    "[role=navigation], [role=contentinfo], [role=search], [aria-hidden=true]"
)
_INLINE = frozenset(
    "a abbr b bdi bdo cite code data del dfn em font i ins kbd label mark q s samp small span strong sub sup "
    "time tt u var wbr".split()
)
_PARAGRAPHS = frozenset("p dt dd figcaption caption summary address".split())
_SKIPPED = frozenset("hr img br head title meta link input select textarea".split())


def _text(node: LexborNode) -> str:
    return fold(node.text(deep=True, separator=""))


def _inside(node: LexborNode, tags: tuple[str, ...]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


class HtmlParser:
    def parse(self, content: bytes) -> StructuredDocument:
        try:
            tree = LexborHTMLParser(content.decode("utf-8-sig", errors="replace"))
            for node in tree.css(_DROPPED):
                node.decompose()
            for node in tree.css("br"):  # a line break separates words
                node.replace_with(" ")
            for node in tree.css("header"):
                if not _inside(node, ("article", "main")):  # the site's banner, not an article's own header
                    node.decompose()
            walk = _Walk()
            root = tree.body or tree.root
            if root is not None:
                walk.node(root)
            title_node = tree.css_first("title")
            if title_node is not None and _text(title_node):
                walk.builder.title = _text(title_node)
            return walk.builder.build()
        except UnreadableDocument:
            raise
        except Exception as error:
            raise UnreadableDocument(f"the HTML could not be parsed: {error}") from error


class _Walk:
    def __init__(self) -> None:
        self.builder = DocumentBuilder()
        self.inline: list[str] = []

    def flush(self) -> None:
        self.builder.paragraph("".join(self.inline))
        self.inline.clear()

    def node(self, node: LexborNode) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag or ""
            if tag == "-text":
                self.inline.append(child.text_content or "")
            elif tag in _INLINE:
                self.inline.append(child.text(deep=True, separator=""))
            elif tag in _SKIPPED or tag.startswith("-"):
                self.inline.append(" " if tag == "br" else "")
            else:
                self.flush()
                self.block(child, tag)
        self.flush()

    def block(self, node: LexborNode, tag: str) -> None:
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.builder.heading(int(tag[1]), _text(node))
        elif tag in _PARAGRAPHS:
            self.builder.paragraph(_text(node))
        elif tag in ("ul", "ol", "menu"):
            self.items(node, ordered=tag == "ol")
        elif tag == "table":
            self.table(node)
        elif tag == "pre":
            self.builder.code(node.text(deep=True, separator=""))
        else:  # div, section, article, main, blockquote, li outside a list...: read what is inside
            self.node(node)

    def items(self, node: LexborNode, ordered: bool) -> None:
        number = 1
        for item in node.iter():
            if item.tag != "li":
                continue
            own: list[str] = []
            nested: list[LexborNode] = []
            for part in item.iter(include_text=True):
                if part.tag in ("ul", "ol", "menu", "table", "pre"):
                    nested.append(part)
                elif part.tag == "-text":
                    own.append(part.text_content or "")
                elif part.tag in _PARAGRAPHS:  # paragraphs of one item are separate sentences
                    own.append(" " + part.text(deep=True, separator="") + " ")
                else:
                    own.append(part.text(deep=True, separator=""))
            self.builder.item("".join(own), f"{number}." if ordered else "\u2022")
            number += 1
            for part in nested:
                self.block(part, part.tag or "")

    def table(self, node: LexborNode) -> None:
        header: list[str] | None = None
        for row in node.css("tr"):
            cells = [cell for cell in row.iter() if cell.tag in ("th", "td")]
            texts = [_text(cell) for cell in cells]
            if header is None and cells and all(cell.tag == "th" for cell in cells):
                header = texts
            else:
                self.builder.row(texts, header)
