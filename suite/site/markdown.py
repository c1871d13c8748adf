"""The little Markdown that mfbench's reports write, as HTML: paragraphs, bullet lists,
quotes, tables, **bold**, `code` and [links](target).

Enough for a report's verdict section and a tuning folder's protocol; anything else stays
text (escaped), so a page never carries markup it did not make.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from suite.site.html import element, escape

_INLINE = re.compile(
    r"\*\*(?P<bold>.+?)\*\*|`(?P<code>[^`]+)`|\[(?P<text>[^\]]+)\]\((?P<href>[^)\s]+)\)"
)


def inline(text: str, link: Callable[[str], str | None] = lambda href: href) -> str:
    """One line of Markdown as HTML: bold, code spans and links; the rest escaped.

    ``link`` maps a link's target to where it should point on the site (None: no link,
    the text alone).
    """
    out, last = [], 0
    for found in _INLINE.finditer(text):
        out.append(escape(text[last : found.start()]))
        if found["bold"] is not None:
            out.append(element("strong", inline(found["bold"], link)))
        elif found["code"] is not None:
            out.append(element("code", escape(found["code"])))
        else:
            target = link(found["href"])
            shown = inline(found["text"], link)
            out.append(element("a", shown, href=target) if target else shown)
        last = found.end()
    out.append(escape(text[last:]))
    return "".join(out)


def to_html(markdown: str, link: Callable[[str], str | None] = lambda href: href) -> str:
    """Blocks (separated by blank lines) of Markdown as HTML; headings become ``<h3>``,
    images are left out (the site draws its own figures)."""
    blocks = re.split(r"\n\s*\n", markdown.strip())
    return "\n".join(filter(None, (_block(block, link) for block in blocks)))


def _block(block: str, link: Callable[[str], str | None]) -> str:
    lines = [line.rstrip() for line in block.strip().splitlines()]
    if not lines or all(line.startswith("![") for line in lines):
        return ""
    if lines[0].startswith("#"):
        rest = "\n".join(lines[1:])
        return element("h3", inline(lines[0].lstrip("#").strip(), link)) + (
            _block(rest, link) if rest else ""
        )
    if all(line.startswith(("- ", "* ")) or line.startswith("  ") for line in lines):
        items: list[str] = []
        for line in lines:
            if line.startswith(("- ", "* ")):
                items.append(line[2:])
            else:
                items[-1] += " " + line.strip()
        return element("ul", "".join(element("li", inline(item, link)) for item in items))
    if all(line.startswith(">") for line in lines):
        quoted = " ".join(line.lstrip("> ").strip() for line in lines)
        return element("blockquote", element("p", inline(quoted, link)))
    if all(line.startswith("|") for line in lines) and len(lines) >= 2:
        return _table(lines, link)
    return element("p", inline(" ".join(lines), link))


def _table(lines: list[str], link: Callable[[str], str | None]) -> str:
    def cells(line: str) -> list[str]:
        return [cell.strip() for cell in line.strip().strip("|").split("|")]

    head = "".join(element("th", inline(cell, link)) for cell in cells(lines[0]))
    body = "".join(
        element("tr", "".join(element("td", inline(cell, link)) for cell in cells(line)))
        for line in lines[2:]
    )
    return element(
        "div",
        element("table", element("thead", element("tr", head)) + element("tbody", body)),
        class_="table-wrap",
    )


def section(markdown: str, title: str) -> str | None:
    """The body of the first ``## title`` section of ``markdown`` (up to the next ``## ``
    heading), or None when there is none."""
    match = re.search(rf"^## {re.escape(title)}[ \t]*\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    return match.group(1).strip() if match else None
