"""MkDocs hook: every implementation excerpt is whole, and offers a form that runs without `notes`.

- **Whole definitions.** A page shows library code with ``--8<-- "notes/<path>.py:<name>"``
  (pymdownx.snippets), between ``# --8<-- [start:<name>]`` and ``# --8<-- [end:<name>]`` in the
  module. The section must hold complete top-level ``def``s or ``class``es and nothing else (a
  method body cut out of its class is refused): the build fails otherwise.
- **Standalone form.** Under each excerpt, collapsed, the same definitions with every function,
  class and constant of the package they use, found in the source with `ast` and copied in
  dependency order, and only ``torch``, ``math``, ``numpy`` and a few modules of the standard
  library (typing helpers, ``operator``, ``itertools``, ``functools``, ``contextlib``) imported: a reader can paste it into a project without installing `notes`.
  The docstring's example stays, its ``from notes... import`` lines dropped (the names are
  defined above it), so the form's doctest runs as it is. ``standalone.json`` in the site lists
  every form, for the tests.
"""

from __future__ import annotations

import ast
import builtins
import doctest
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from copy_context import _Names  # hooks/ is on sys.path while hooks load
from markdown_source import STORE, segments, sources_digest
from mkdocs.exceptions import PluginError

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

SRC = Path(__file__).resolve().parent.parent / "src"
_SNIPPET = re.compile(
    r"""^(?P<indent>[ \t]*)--8<--\s+["'](?P<path>notes/[^"':]+\.py):(?P<name>[\w-]+)["']\s*$"""
)
# torch, math, numpy; from the standard library only typing helpers and a few pure-function
# modules (nothing a reader must install).
_ALLOWED = (
    "torch", "math", "numpy", "__future__", "typing", "collections.abc", "dataclasses",
    "operator", "itertools", "functools", "contextlib",
)  # fmt: skip
_DOCTEST_IMPORT = re.compile(r"^(?P<indent>\s*)>>> (?:from notes[\w.]* import|import notes)\b")
_DEFINITION = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


class ExcerptError(ValueError):
    """An excerpt that is not whole, or whose standalone form cannot be made."""


@dataclass
class _Module:
    name: str  # notes.flows.coupling
    lines: list[str]
    tree: ast.Module

    def top(self, name: str) -> ast.stmt | None:
        """The top-level definition or assignment of `name`."""
        for node in self.tree.body:
            if isinstance(node, _DEFINITION) and node.name == name:
                return node
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    return node
        return None

    def imported(self, name: str) -> tuple[str, str | None] | None:
        """Where `name` is imported from: (module, attribute) or (module, None) for a module."""
        body = list(self.tree.body)
        for node in self.tree.body:  # `if TYPE_CHECKING:` imports too
            if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
                body += node.body
        for node in body:
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        return node.module, alias.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname == name:
                        return alias.name, None
                    if alias.asname is None and alias.name.split(".")[0] == name:
                        return name, None
        return None


_modules: dict[str, _Module] = {}


def _module(name: str) -> _Module:
    if name not in _modules:
        base = SRC.joinpath(*name.split("."))
        path = (
            base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
        )
        if not path.is_file():
            raise ExcerptError(f"no source for module {name}")
        text = path.read_text(encoding="utf-8")
        _modules[name] = _Module(name, text.splitlines(), ast.parse(text))
    return _modules[name]


def _is_notes_module(name: str) -> bool:
    if name != "notes" and not name.startswith("notes."):
        return False
    base = SRC.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def section(path: str, name: str) -> tuple[_Module, list[str]]:
    """The module of a snippet and the names of the whole definitions its section holds."""
    module_name = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    module = _module(module_name)
    start = end = None
    for i, line in enumerate(module.lines):
        if re.fullmatch(rf"\s*# --8<-- \[start:{re.escape(name)}\]\s*", line):
            start = i
        elif re.fullmatch(rf"\s*# --8<-- \[end:{re.escape(name)}\]\s*", line):
            end = i
    if start is None or end is None:
        raise ExcerptError(f"{path}: no section markers for {name!r}")
    if module.lines[start] != module.lines[start].lstrip():
        raise ExcerptError(
            f"{path}:{start + 1}: excerpt {name!r} is indented: a method or a body cut out of "
            "its definition; an excerpt must be whole top-level defs or classes"
        )
    names, covered = [], set()
    for node in module.tree.body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
        last = node.end_lineno or node.lineno
        if last <= start or first >= end:
            continue
        if first < start or last > end or not isinstance(node, _DEFINITION):
            raise ExcerptError(
                f"{path}:{node.lineno}: excerpt {name!r} must hold whole top-level defs or "
                f"classes only, not part of one or a {type(node).__name__}"
            )
        names.append(node.name)
        covered |= set(range(first, last))
    for i in range(start + 1, end):
        text = module.lines[i].strip()
        if i not in covered and text and not text.startswith("#"):
            raise ExcerptError(f"{path}:{i + 1}: excerpt {name!r} holds code outside a def/class")
    if not names:
        raise ExcerptError(f"{path}: excerpt {name!r} holds no definition")
    return module, names


def _summaries_only(lines: list[str], node: ast.stmt, first: int) -> list[str]:
    """Each docstring in `node` cut to its first line (`lines` start at line `first`)."""
    lines = list(lines)
    definitions = [n for n in ast.walk(node) if isinstance(n, _DEFINITION)]
    for sub in sorted(definitions, key=lambda n: -n.lineno):
        doc = sub.body[0] if sub.body else None
        if not (
            isinstance(doc, ast.Expr)
            and isinstance(doc.value, ast.Constant)
            and isinstance(doc.value.value, str)
        ):
            continue
        start, end = doc.lineno - 1 - first, (doc.end_lineno or doc.lineno) - first
        if end - start <= 1:
            continue
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        summary = doc.value.value.strip().splitlines()[0].strip().replace('"', "'")
        lines[start:end] = [f'{indent}r"""{summary}"""']
    return lines


def _definition_time(node: ast.stmt) -> set[str]:
    """Names evaluated when the definition itself runs (not when it is called)."""
    parts: list[ast.AST] = []
    if isinstance(node, ast.ClassDef):
        parts = [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        parts = [*node.decorator_list, *node.args.defaults]
        parts += [d for d in node.args.kw_defaults if d is not None]
    elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
        parts = [node.value]
    return {n.id for part in parts for n in ast.walk(part) if isinstance(n, ast.Name)}


class _Standalone:
    """Collects definitions and imports, dependencies first."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.needs_first: list[tuple[str, set[str]]] = []  # name, names its definition runs
        self.emitted: dict[str, tuple[str, str]] = {}  # name -> (module, name) it stands for
        self.imports: dict[str, str] = {}  # bound name -> import line
        self._visiting: set[tuple[str, str]] = set()

    def add(self, module: _Module, name: str, *, primary: bool = False) -> str:
        """Make `name` of `module` available; return the name it is emitted under.

        A helper (not `primary`) keeps only the first line of its docstrings: the form stays
        short, and only the excerpt's own examples run.
        """
        key = (module.name, name)
        node = module.top(name)
        if node is None:
            origin = module.imported(name)
            if origin is None:
                if hasattr(builtins, name):
                    return name
                raise ExcerptError(f"{module.name}: cannot resolve {name!r}")
            source, attribute = origin
            if _is_notes_module(source):
                if attribute is None:
                    raise ExcerptError(f"{module.name}: module alias {name!r} used bare")
                target = _module(source)
                if target.top(attribute) is None and _is_notes_module(f"{source}.{attribute}"):
                    raise ExcerptError(f"{module.name}: {name!r} is a module, used bare")
                return self.add(target, attribute)
            self._import(module, name, source, attribute)
            return name
        if name in self.emitted:
            if self.emitted[name] != key:
                raise ExcerptError(
                    f"two helpers named {name!r}: {self.emitted[name][0]} and {module.name}"
                )
            return name
        if key in self._visiting:
            return name
        self._visiting.add(key)
        text = self._dependencies(module, node, primary=primary)
        self._visiting.discard(key)
        if name not in self.emitted:
            self.emitted[name] = key
            self.chunks.append(text)
            self.needs_first.append((name, _definition_time(node)))
            if primary:  # after the definition: an example may use a subclass of it
                self._example_names(module, node)
        return name

    def _import(self, module: _Module, name: str, source: str, attribute: str | None) -> None:
        if not any(source == a or source.startswith(f"{a}.") for a in _ALLOWED):
            raise ExcerptError(
                f"{module.name} uses {source}, which a standalone form cannot import"
            )
        if attribute is None:
            line = f"import {source}" if source == name else f"import {source} as {name}"
        else:
            line = f"from {source} import {attribute}" + (
                f" as {name}" if attribute != name else ""
            )
        if self.imports.get(name, line) != line:
            raise ExcerptError(f"{name!r} is imported two ways: {self.imports[name]} / {line}")
        self.imports[name] = line

    def _dependencies(self, module: _Module, node: ast.stmt, *, primary: bool) -> str:
        """Add what `node` uses; return its source, module aliases (``check.x``) resolved."""
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
        lines = module.lines[first : node.end_lineno]
        edits: list[tuple[int, int, int, str]] = []  # line, start col, end col, replacement
        # names local to the definition: a helper emitted under one of them would be shadowed
        # (``check.generator(...)`` inside ``def f(generator)``), so it is called by an alias
        local = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(
            n.ctx, ast.Load
        )} | {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}  # fmt: skip
        for sub in ast.walk(node):
            if (
                isinstance(sub, ast.Attribute)
                and isinstance(sub.value, ast.Name)
                and (origin := module.imported(sub.value.id)) is not None
                and origin[1] is not None
                and _is_notes_module(f"{origin[0]}.{origin[1]}")
            ):
                emitted = self.add(_module(f"{origin[0]}.{origin[1]}"), sub.attr)
                if emitted in local:
                    emitted = self._alias(f"_{emitted}", emitted)
                edits.append(
                    (sub.lineno - 1 - first, sub.col_offset, sub.end_col_offset or 0, emitted)
                )
        visitor = _Names()
        visitor.visit(node)
        own = node.name if isinstance(node, _DEFINITION) else None
        for name in sorted(visitor.reads):
            if name == own or any(
                (o := module.imported(name)) is not None
                and o[1] is not None
                and _is_notes_module(f"{o[0]}.{o[1]}")
                for _ in [0]
            ):
                continue  # module aliases are resolved attribute by attribute above
            emitted = self.add(module, name)
            if emitted != name:
                # imported under another name (``from notes._validate import generator as
                # _generator``, beside a parameter named ``generator``): bind that name too
                self._alias(name, emitted)
        for row, start, end, replacement in sorted(edits, reverse=True):
            lines[row] = lines[row][:start] + replacement + lines[row][end:]
        lines = self._doctest(lines) if primary else _summaries_only(lines, node, first)
        return "\n".join(lines)

    def _alias(self, alias: str, target: str) -> str:
        """Bind `alias` to the emitted `target` at module level; return `alias`."""
        if self.emitted.get(alias, ("=", target)) != ("=", target):
            raise ExcerptError(f"{alias!r} would stand for two things: {target} and another")
        if alias not in self.emitted:
            self.emitted[alias] = ("=", target)
            self.chunks.append(f"{alias} = {target}")
            self.needs_first.append((alias, {target}))
        return alias

    def _doctest(self, lines: list[str]) -> list[str]:
        """Drop the example's imports from notes, adding what they import."""
        out: list[str] = []
        pending: list[str] | None = None  # a parenthesised import, line by line
        for line in lines:
            if pending is not None:
                pending.append(line.strip().removeprefix("...").strip())
                if ")" in line:
                    self._imports_from_notes(" ".join(pending))
                    pending = None
                continue
            if _DOCTEST_IMPORT.match(line) is None:
                out.append(line)
                continue
            statement = line.split(">>> ", 1)[1].strip()
            if statement.endswith("("):
                pending = [statement]
                continue
            self._imports_from_notes(statement)
        return out

    def _example_names(self, module: _Module, node: ast.stmt) -> None:
        """Add what the docstring examples use from the module's globals (as doctest runs them)."""
        bound: set[str] = set()
        reads: set[str] = set()
        for sub in ast.walk(node):
            if not isinstance(sub, _DEFINITION):
                continue
            for example in doctest.DocTestParser().get_examples(ast.get_docstring(sub) or ""):
                try:
                    tree = ast.parse(example.source)
                except SyntaxError:
                    continue
                visitor = _Names()
                visitor.visit(tree)
                reads |= visitor.reads - bound
                bound |= visitor.binds
        for name in sorted(reads - bound):
            if module.top(name) is not None or module.imported(name) is not None:
                self.add(module, name)

    def _imports_from_notes(self, statement: str) -> None:
        for node in ast.parse(statement).body:
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.add(_module(node.module), alias.name)
            else:
                raise ExcerptError(f"an example imports notes as a module: {statement}")

    def text(self, title: str) -> str:
        self.imports.pop("annotations", None)
        imports = sorted(set(self.imports.values()), key=lambda s: (not s.startswith("import"), s))
        header = (
            f'"""{title}.\n\n'
            "Generated from the notes package source: only torch, math and numpy are imported,\n"
            "and the helpers it calls are copied above it. Run its example with\n"
            '`python -m doctest -o ELLIPSIS -o NORMALIZE_WHITESPACE this_file.py`.\n"""\n'
        )
        head = [header, "from __future__ import annotations", ""]
        return "\n".join([*head, *imports, "", "", "\n\n\n".join(self._ordered()), ""])

    def _ordered(self) -> list[str]:
        """The chunks, each after those its definition evaluates (bases, defaults, values)."""
        names = {name for name, _ in self.needs_first}
        done: set[str] = set()
        order: list[str] = []
        left = list(zip(self.needs_first, self.chunks, strict=True))
        while left:
            for i, ((name, needs), chunk) in enumerate(left):
                if (needs & names) - done - {name} <= set():
                    order.append(chunk)
                    done.add(name)
                    del left[i]
                    break
            else:  # a cycle at definition time cannot run in any order: keep the given one
                order += [chunk for _, chunk in left]
                break
        return order


def standalone(path: str, name: str) -> tuple[list[str], str]:
    """The definitions of section `name` in `path`, and their standalone form."""
    module, names = section(path, name)
    collector = _Standalone()
    for definition in names:
        collector.add(module, definition, primary=True)
    title = f"Standalone {', '.join(f'{module.name}.{n}' for n in names)}"
    title = title if len(title) <= 90 else f"Standalone {module.name}:{name}"
    return names, collector.text(title)


_forms: list[dict[str, str]] = []
_pending: dict[str, list[tuple[list[str], list[tuple[list[str], str]]]]] = {}
_PY_DIV = re.compile(
    r'<div class="language-(?:python|py) highlight"[^>]*>(<pre>.*?</pre>)</div>', re.DOTALL
)


def section_text(path: str, name: str) -> str:
    """The section as pymdownx.snippets includes it (the lines between the markers)."""
    module_name = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    lines = _module(module_name).lines
    start = next(i for i, line in enumerate(lines) if line.strip() == f"# --8<-- [start:{name}]")
    end = next(i for i, line in enumerate(lines) if line.strip() == f"# --8<-- [end:{name}]")
    return "\n".join(lines[start + 1 : end]).strip()


def _details(names: list[str], code: str) -> str:
    """The standalone form, collapsed (pymdownx.details markup), as plain code.

    Plain, not highlighted: Pygments' spans would make a page several times heavier.
    """
    label = ", ".join(f"<code>{n}</code>" for n in names)
    return (
        f'<details class="example notes-standalone"><summary>Standalone {label}: runs without '
        "installing notes</summary>\n<p>The excerpt with the helpers it calls from the package, "
        "importing only torch, math and numpy; its example runs with <code>python -m doctest"
        "</code>.</p>\n"
        f'<div class="language-python highlight"><pre><span></span><code>{html.escape(code)}'
        "</code></pre></div>\n</details>\n"
    )


# (digest of the package's sources, path, name) -> the standalone form: kept across the
# preview's rebuilds, and made again whenever any source file changes
_made: dict[object, object] = STORE.setdefault("excerpts", {})
_digest = {"sources": ""}


def on_files(files: Files, config: MkDocsConfig) -> Files:
    _forms.clear()
    _modules.clear()  # read the sources afresh on every build
    _digest["sources"] = sources_digest(SRC)
    return files


def _standalone(path: str, name: str) -> tuple[list[str], str]:
    key = (_digest["sources"], path, name)
    if key not in _made:
        _made[key] = standalone(path, name)
    return _made[key]  # type: ignore[return-value]


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Check each excerpt is whole and make its standalone form (shown under it later)."""
    fences = []
    for is_code, text in segments(markdown):
        if not is_code:
            continue
        texts, forms = [], []
        for line in text.splitlines():
            match = _SNIPPET.match(line)
            if match is None:
                continue
            try:
                names, code = _standalone(match["path"], match["name"])
            except ExcerptError as error:
                raise PluginError(f"{page.file.src_uri}: {error}") from error
            texts.append(section_text(match["path"], match["name"]))
            forms.append((names, code))
            excerpt = f"{match['path']}:{match['name']}"
            _forms.append({"page": page.file.src_uri, "excerpt": excerpt, "code": code})
        if forms:
            fences.append((texts, forms))
    _pending[page.file.src_uri] = fences
    return markdown


def _plain(pre: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", pre))


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Put each excerpt's standalone form, collapsed, right under the excerpt."""
    fences = _pending.pop(page.file.src_uri, [])
    out, position = [], 0
    for match in _PY_DIV.finditer(html_text):
        if not fences:
            break
        shown = _plain(match[1])
        texts, forms = fences[0]
        if not all(text in shown for text in texts):
            continue
        fences.pop(0)
        out.append(html_text[position : match.end()])
        out.extend(_details(names, code) for names, code in forms)
        position = match.end()
    if fences:
        where = page.file.src_uri
        raise PluginError(f"{where}: excerpt {fences[0][1][0][0]} was not found in the HTML")
    return "".join(out) + html_text[position:]


def on_post_build(config: MkDocsConfig) -> None:
    target = Path(config.site_dir) / "standalone.json"
    target.write_text(json.dumps(_forms, indent=1) + "\n", encoding="utf-8")
    print(f"\nexcerpts: {len(_forms)} standalone forms")
