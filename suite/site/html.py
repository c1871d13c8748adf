"""Small HTML builders: escaped text, elements, and tables whose cells carry a sort key.

Every page of the site is assembled from these (no templates); anything that comes from a
results folder passes through ``escape`` on its way in.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from suite.wording import Sentence, Strong


def escape(text: Any) -> str:
    """``text`` as HTML text (quotes escaped too, so it is safe in attributes)."""
    return html.escape("" if text is None else str(text), quote=True)


def element(name: str, content: str = "", **attributes: Any) -> str:
    """``<name attributes>content</name>``; ``content`` is HTML already.

    Attribute names take ``_`` for ``-`` and a trailing ``_`` is dropped (``class_``);
    attributes that are None or False are left out, True gives a bare attribute.
    """
    parts = [name]
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        parts.append(key if value is True else f'{key}="{escape(value)}"')
    return f"<{' '.join(parts)}>{content}</{name}>"


@dataclass(frozen=True)
class Cell:
    """One table cell: what it shows (text, escaped when drawn) and how it sorts.

    ``sort`` is a number for numeric columns (None: missing, sorted last) or text; ``html``
    marks ``text`` as HTML already (a link).
    """

    text: str
    sort: float | str | None = None
    html: bool = False
    title: str | None = None


@dataclass(frozen=True)
class Table:
    """A sortable, filterable table: its column names, rows of cells and a caption."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    caption: str = ""
    name: str = ""  # what the filter box says it filters ("runs", "contenders")
    sortable: bool = True  # False: a plain table of facts, no filter and no sorting


def number(value: Any, digits: int = 4, *, style: str = "f") -> Cell:
    """A numeric cell: ``value`` formatted (``f``: fixed digits, ``g``: significant, ``,``:
    thousands), sorted by its value; empty where it is missing or not finite."""
    value = finite(value)
    if value is None:
        return Cell("", None)
    text = f"{value:,.0f}" if style == "," else f"{value:.{digits}{style}}"
    return Cell(text, value)


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or None."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def text(value: Any, title: str | None = None) -> Cell:
    """A text cell, sorted alphabetically; empty where the value is missing (NaN, None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Cell("", "")
    return Cell(str(value), str(value).lower(), title=title)


def render_table(table: Table, table_id: str) -> str:
    """The table as HTML: a filter box, a header row of sortable buttons, the rows.

    Sorting and filtering are done in the browser by ``assets/site.js`` from the cells'
    ``data-sort`` keys; without scripts the table still reads.
    """
    head = "".join(
        element(
            "th",
            element("button", escape(name), type="button") if table.sortable else escape(name),
            scope="col",
        )
        for name in table.headers
    )
    body = "\n".join(element("tr", "".join(_cell(cell) for cell in row)) for row in table.rows)
    caption = element("caption", escape(table.caption)) if table.caption else ""
    if not table.sortable:
        grid = caption + element("thead", element("tr", head)) + element("tbody", body)
        return element(
            "div", element("table", grid, id=table_id, class_="facts"), class_="table-wrap"
        )
    what = table.name or "rows"
    search = element(
        "input",
        "",
        type="search",
        class_="filter",
        placeholder=f"filter {what}…",
        aria_label=f"filter {what}",
        data_table=table_id,
    ).replace("></input>", ">")
    count = element("span", f"{len(table.rows)} {escape(what)}", class_="count")
    tools = element("div", search + count, class_="table-tools")
    grid = element(
        "table",
        caption + element("thead", element("tr", head)) + element("tbody", body),
        id=table_id,
        class_="sortable",
    )
    return tools + element("div", grid, class_="table-wrap")


def _cell(cell: Cell) -> str:
    content = cell.text if cell.html else escape(cell.text)
    numeric = isinstance(cell.sort, float | int)
    return element(
        "td",
        content,
        data_sort="" if cell.sort is None else repr(cell.sort) if numeric else cell.sort,
        data_type="n" if numeric or cell.sort is None else "t",
        class_="num" if numeric else None,
        title=cell.title,
    )


def sentence(text: Sentence | str) -> str:
    """A sentence (``suite.wording``) as HTML: every fragment escaped, bold ones in
    ``<strong>``."""
    if isinstance(text, str) and not isinstance(text, Strong):
        return escape(text)
    return "".join(
        element("strong", escape(part)) if isinstance(part, Strong) else escape(part)
        for part in text
    )


def bullets(items: Iterable[Sentence | str]) -> str:
    """A ``<ul>`` of sentences."""
    return element("ul", "".join(element("li", sentence(item)) for item in items))
