"""A contender's lines of code, counted from the definitions it runs for its model and training.

The rule: a contender's lines are the source lines — not blank, not comments, not
docstrings — of

- its class body, and the body of each base class between it and the shared ``Model``
  contract (class bodies, not the modules they are in);
- every top-level function or class that those definitions name and that is defined in a
  *contender module*, followed transitively (what a counted helper names counts too).

Contender modules are every module under ``suite/models/`` except the contract, the registry
and the facts (``suite/models/base.py``, ``suite/models/__init__.py``,
``suite/models/facts.py`` and this one), every module under ``baselines/``, and the module
the contender class itself is defined in (a plug-in's or a test's, wherever it lives).
Library code (torch, numpy, implicit, ...) and the harness (``suite.data``,
``suite.metrics``, ``suite.early_stopping``, ``suite.threads``, ...) are not counted.

Names are resolved statically from the syntax tree, never by running the code: a bare name
through the defining module's globals (a top-level ``def`` or ``class``, or an import, followed
to where it is defined), and ``module.attr`` where ``module`` is an imported contender module
(torch-ials calls ``wmf.solve_rows``). A name used only in a type annotation is not followed
(with ``from __future__ import annotations`` annotations are never evaluated); module-level
constants are neither functions nor classes, so neither they nor what they name count. A
contender class is found by its qualified name, so one made inside a function (a test's)
counts its own body too. A definition counts once however often it is named. Lines are
counted by tokens, as ``tokenize`` reads them: a line counts when it holds a token that is not
a comment, a docstring or layout.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import io
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: Modules under ``suite.models`` that are the harness's, not a contender's.
NOT_CONTENDER_MODULES = frozenset(
    {"suite.models", "suite.models.base", "suite.models.facts", "suite.models.code_lines"}
)

#: Packages whose modules are contender modules (but ``NOT_CONTENDER_MODULES``).
CONTENDER_PACKAGES = ("suite.models", "baselines")

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True, order=True)
class Definition:
    """A function or class: the module that defines it and its qualified name there (a
    top-level one's name, or a contender class's ``__qualname__``)."""

    module: str
    name: str


@functools.cache
def code_lines(contender: type) -> int:
    """Lines of code of ``contender``'s model and training, by the rule above.

    Parameters
    ----------
    contender : type
        A ``Model`` subclass.

    Returns
    -------
    int
        Its lines: blank lines, comments and docstrings left out.
    """
    return lines_of(definitions(contender))


def lines_of(found: Iterable[Definition]) -> int:
    """The lines of code of the definitions ``found``, each line once."""
    lines: set[tuple[str, int]] = set()
    for definition in found:
        source = _Module.of(definition.module)
        node = source.nodes.get(definition.name) if source is not None else None
        if source is not None and node is not None:
            lines.update((source.path, line) for line in source.code_lines & _span(node))
    return len(lines)


@functools.cache
def definitions(contender: type) -> tuple[Definition, ...]:
    """The definitions ``contender``'s lines are counted from, sorted: its class and its bases
    defined in contender modules (by qualified name), and the top-level definitions they name,
    transitively."""
    home = contender.__module__
    pending = [
        Definition(klass.__module__, klass.__qualname__)
        for klass in contender.__mro__
        if klass is contender or _is_contender_module(klass.__module__, home)
    ]
    found: set[Definition] = set()
    while pending:
        definition = pending.pop()
        source = _Module.of(definition.module)
        node = source.nodes.get(definition.name) if source is not None else None
        if definition in found or node is None:
            continue
        found.add(definition)
        for reference in _references(node):
            named = _resolve(definition.module, reference, home)
            if named is not None:
                pending.append(named)
    return tuple(sorted(found))


def line_numbers(source: str) -> set[int]:
    """The lines of ``source`` that hold code: a token that is not a comment, a docstring
    (a string that starts a statement) or layout (newlines, indentation)."""
    lines: set[int] = set()
    previous = tokenize.INDENT
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        kind = token.type
        docstring = kind == tokenize.STRING and previous in (
            tokenize.INDENT,
            tokenize.NEWLINE,
            tokenize.DEDENT,
        )
        if kind not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER) and not docstring:  # fmt: skip
            lines.update(range(token.start[0], token.end[0] + 1))
        if kind not in (tokenize.COMMENT, tokenize.NL):
            previous = kind
    return lines


def _is_contender_module(module: str, home: str) -> bool:
    """Whether ``module`` is a contender module for a contender defined in ``home``."""
    if module == home:
        return True
    if module in NOT_CONTENDER_MODULES:
        return False
    return any(module == p or module.startswith(f"{p}.") for p in CONTENDER_PACKAGES)


def _span(node: ast.AST) -> set[int]:
    """The lines of a definition, its decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return set(range(first, node.end_lineno + 1))


def _references(node: ast.AST) -> list[list[str]]:
    """Every name ``node`` uses outside type annotations, as a dotted chain:
    ``wmf.solve_rows`` is ``["wmf", "solve_rows"]``, ``helper`` is ``["helper"]``."""
    chains: list[list[str]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        chain = _chain(current)
        if chain is not None:
            chains.append(chain)
        else:
            stack.extend(_children(current))
    return chains


def _chain(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``, ``a`` as ``["a"]``; None for anything else (an
    attribute of a call's result, say, whose parts are then read one by one)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def _children(node: ast.AST) -> list[ast.AST]:
    """``node``'s child nodes, less its type annotations."""
    if isinstance(node, ast.arg | ast.AnnAssign):
        skipped = node.annotation
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        skipped = node.returns
    else:
        skipped = None
    return [child for child in ast.iter_child_nodes(node) if child is not skipped]


def _resolve(module: str, chain: list[str], home: str) -> Definition | None:
    """The top-level definition of a contender module that ``chain`` names in ``module``
    (for a contender defined in ``home``), if any."""
    target = _binding(module, chain[0], home)
    for attribute in chain[1:]:
        if not isinstance(target, str):
            break
        target = _member(target, attribute, home)
    return target if isinstance(target, Definition) else None


#: What a name is bound to: a top-level definition, a module (by name), or nothing counted.
Bound = Definition | str | None


def _binding(module: str, name: str, home: str, seen: frozenset[str] = frozenset()) -> Bound:
    """What ``name`` is in ``module``'s globals: a top-level definition (followed through
    imports to where it is defined), a module (its name), or None: a constant, a builtin, or
    a name from a module that is not a contender module (those are never read)."""
    if module in seen or not _is_contender_module(module, home):
        return None
    source = _Module.of(module)
    if source is None:
        return None
    if name in source.top_level:
        return Definition(module, name)
    if name in source.modules:
        return source.modules[name]
    if name in source.imported:
        origin, attribute = source.imported[name]
        return _member(origin, attribute, home, seen | {module})
    return None


def _member(module: str, attribute: str, home: str, seen: frozenset[str] = frozenset()) -> Bound:
    """``module.attribute``: what ``attribute`` is in ``module``, or its submodule's name."""
    found = _binding(module, attribute, home, seen)
    if found is not None:
        return found
    submodule = f"{module}.{attribute}"
    readable = _is_contender_module(submodule, home) and _Module.of(submodule) is not None
    return submodule if readable else None


@dataclass(frozen=True)
class _Module:
    """A module's source as the rule reads it: its definitions and its imports."""

    path: str
    code_lines: frozenset[int]  # ``line_numbers`` of the whole file
    nodes: dict[str, ast.AST]  # every def and class by qualified name ("C.f", "f.<locals>.C")
    top_level: frozenset[str]  # the names of the top-level ones
    modules: dict[str, str]  # a name ``import`` binds -> the module
    imported: dict[str, tuple[str, str]]  # a name ``from M import A`` binds -> (M, A)

    @staticmethod
    @functools.cache
    def of(module: str) -> _Module | None:
        """The source of ``module``, read (its package imported, not the module itself);
        None for a module without a Python source file."""
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return None
        path = Path(spec.origin)
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        modules: dict[str, str] = {}
        imported: dict[str, tuple[str, str]] = {}
        for statement in tree.body:
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    root = alias.name.partition(".")[0]
                    modules[alias.asname or root] = alias.name if alias.asname else root
            elif isinstance(statement, ast.ImportFrom):
                origin = _absolute(statement, package)
                for alias in statement.names:
                    imported[alias.asname or alias.name] = (origin, alias.name)
        top_level = frozenset(s.name for s in tree.body if isinstance(s, _DEFINITIONS))
        return _Module(
            str(path), frozenset(line_numbers(text)), _qualified(tree), top_level, modules, imported
        )


def _qualified(tree: ast.Module) -> dict[str, ast.AST]:
    """Every def and class of ``tree`` by its ``__qualname__``."""
    found: dict[str, ast.AST] = {}
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _DEFINITIONS):
                name = f"{prefix}{child.name}"
                found.setdefault(name, child)
                inner = "." if isinstance(child, ast.ClassDef) else ".<locals>."
                stack.append((child, f"{name}{inner}"))
            else:
                stack.append((child, prefix))
    return found


def _absolute(statement: ast.ImportFrom, package: str) -> str:
    """The module a ``from ... import`` reads from, a relative one resolved."""
    if not statement.level:
        return statement.module or ""
    base = package.rsplit(".", statement.level - 1)[0]
    return f"{base}.{statement.module}" if statement.module else base
