"""MkDocs hook: the copy button of each executed block copies a program that runs on its own.

The program is the block (hidden lines included) preceded, in page order, by exactly the earlier
statements of the same markdown-exec session that it needs, found from the code itself with
`ast` (never listed by hand):

- the statements that **bind** a name the block reads (imports, definitions, data), and, in turn,
  the statements those need;
- the earlier statements that may **mutate or consume** an object it needs: a needed name used
  as the receiver of a method call (``model.train()``, ``g.manual_seed(1)``), as an argument of a
  call that may change it (``fit(model, ...)``, ``torch.randn(3, generator=g)``, ``init_(w)``), or
  as the base of an assignment (``w[0] = 1``, ``w += 1``); a name bound by such a statement may
  alias the object (an optimiser holding a model's parameters, a loss holding a graph), so its
  own later mutations count too;
- statements that only print or assert are dropped (a ``print`` inside an included loop too).

Calls that never change their arguments are named once here by where they come from: functions
of ``torch``, ``math``, ``numpy`` and ``notes.checks`` (except ``generator=``/``out=`` arguments
and in-place functions ending in ``_``), a few builtins, and the tensor methods that return new
values. Everything else is assumed to possibly change what it is given, which can only make a
program longer, never wrong.

The block as shown on the page does not change: its source ``<div>`` gets the program in a
``data-notes-copy`` attribute (and its number in ``data-notes-block``), and
``javascripts/notes.js`` hands it to Material's copy button as ``data-clipboard-text``.
"""

from __future__ import annotations

import ast
import builtins
import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from markdown_source import STORE, fenced_blocks  # hooks/ is on sys.path while hooks load
from mkdocs.exceptions import PluginError
from page_code import requirements

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

_EXEC = re.compile(r"""\bexec=["']?(?:1|true|on|yes)\b""", re.IGNORECASE)
_HIDE = re.compile(r"\s*#\s*markdown-exec:\s*hide\s*$")
_SESSION = re.compile(r"""\bsession=["']?([^"'\s]+)""")
_SOURCE = re.compile(r"""\bsource=["']?([^"'\s]+)""")
_PY_DIV = re.compile(
    r'<div class="language-(?:python|py) highlight">(<pre>.*?</pre>)</div>', re.DOTALL
)

# Modules whose functions do not change their arguments (apart from the keywords below and
# in-place functions, whose names end in "_"); a call into anything else may.
_PURE_MODULES = ("torch", "math", "numpy", "notes.checks", "notes.plotting")
_MUTATED_KEYWORDS = {"generator", "out"}
_PURE_BUILTINS = {
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "float", "format", "frozenset",
    "hasattr", "int", "isinstance", "len", "list", "max", "min", "pow", "print", "range", "repr",
    "reversed", "round", "set", "sorted", "str", "sum", "tuple", "type", "zip",
}  # fmt: skip
# Methods that return a new value and leave their receiver (and its storage) alone.
_PURE_METHODS = {
    "abs", "all", "allclose", "amax", "amin", "any", "argmax", "argmin", "argsort", "count",
    "cpu", "cumsum", "diag", "dim", "double", "eq", "exp", "float", "format", "get", "index",
    "isfinite", "item", "items", "keys", "log", "logsumexp", "max", "mean", "median", "min",
    "ne", "norm", "numel", "pow", "prod", "quantile", "size", "softmax", "sort", "sqrt",
    "square", "std", "sum", "tolist", "trace", "values", "var",
    # distributions and flows: they read their parameters, draw only from `generator=`
    "log_prob", "rsample", "sample", "entropy", "cdf", "icdf", "inverse", "call_and_ladj",
    "log_abs_det_jacobian",
}  # fmt: skip


@dataclass
class Statement:
    """One top-level statement of a block, with what it reads, binds and may change."""

    block: int  # 1-based, in page order
    first: int  # first line (0-based, leading comments included) in the block's lines
    last: int  # one past the last line
    reads: set[str]
    binds: set[str]
    mutates: set[str]
    immutable: set[str]  # names it binds by import, def or class
    kills: set[str]  # names it always rebinds (a plain assignment, import or definition)
    only_reports: bool  # a print or an assert (or a bare expression calling only print)
    prints: list[tuple[int, int]] = field(default_factory=list)  # nested print lines to drop


class _Names(ast.NodeVisitor):
    """Names a statement reads (at module level, or free in its nested scopes) and binds."""

    def __init__(self) -> None:
        self.reads: set[str] = set()
        self.binds: set[str] = set()
        self._scopes: list[set[str]] = []  # locals of the nested scopes we are in

    def _local(self, name: str) -> bool:
        return any(name in scope for scope in self._scopes)

    def visit_Name(self, node: ast.Name) -> None:
        # A name the statement binds before it reads it (in evaluation order) is not read from
        # earlier code: ``for k in ks: g = Generator(); draw(generator=g)`` does not need a `g`.
        if isinstance(node.ctx, ast.Load):
            if not self._local(node.id) and node.id not in self.binds:
                self.reads.add(node.id)
        elif not self._scopes:
            if isinstance(node.ctx, ast.Del) and node.id not in self.binds:
                self.reads.add(node.id)
            self.binds.add(node.id)

    # Evaluation order: the value before the targets, the iterable before the loop variable.
    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.visit(ast.Name(node.target.id, ast.Load()))
        else:
            self.visit(node.target)
        self.visit(node.value)
        self.visit(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.annotation)
        self.visit(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for child in [*node.body, *node.orelse]:
            self.visit(child)

    visit_AsyncFor = visit_For

    def _scope(self, params: ast.arguments | None, body: list[ast.AST]) -> None:
        local: set[str] = set()
        if params is not None:
            every = [*params.posonlyargs, *params.args, *params.kwonlyargs]
            every += [a for a in (params.vararg, params.kwarg) if a is not None]
            local |= {a.arg for a in every}
        for child in body:
            for sub in ast.walk(child):
                if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
                    local.add(sub.id)
                elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    local.add(sub.name)
                elif isinstance(sub, ast.alias):
                    local.add((sub.asname or sub.name).split(".")[0])
        self._scopes.append(local)
        for child in body:
            self.visit(child)
        self._scopes.pop()

    def _definition(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        if isinstance(node, ast.ClassDef):
            for base in [*node.bases, *node.keywords]:
                self.visit(base)
            self._scope(None, list(node.body))
        else:
            for default in [*node.args.defaults, *node.args.kw_defaults]:
                if default is not None:
                    self.visit(default)
            for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                if arg.annotation is not None:
                    self.visit(arg.annotation)
            if node.returns is not None:
                self.visit(node.returns)
            self._scope(node.args, list(node.body))
        if not self._scopes:
            self.binds.add(node.name)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _definition

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self._scope(node.args, [node.body])

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        self.visit(node.generators[0].iter)  # evaluated in the enclosing scope
        targets = {
            n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)
        }
        self._scopes.append(targets)
        for i, generator in enumerate(node.generators):
            if i:
                self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        for part in (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,):
            self.visit(part)
        self._scopes.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        if not self._scopes:
            for alias in node.names:
                self.binds.add((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import


def _root(node: ast.AST) -> str | None:
    """``a`` for ``a``, ``a.b.c`` and ``a[0].b``."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _referenced(node: ast.AST) -> set[str]:
    """Names whose objects an expression hands over as they are (not a value computed from them)."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute | ast.Subscript):
        root = _root(node)
        return {root} if root else set()
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return set().union(*(_referenced(e) for e in node.elts))
    if isinstance(node, ast.Dict):
        return set().union(*(_referenced(v) for v in node.values))
    if isinstance(node, ast.Starred):
        return _referenced(node.value)
    if isinstance(node, ast.IfExp):
        return _referenced(node.body) | _referenced(node.orelse)
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
        # `fit_together([models[k] for k in keys])` hands over the objects `models` holds
        element = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        targets = {
            n.id for c in node.generators for n in ast.walk(c.target) if isinstance(n, ast.Name)
        }
        return set().union(*(_referenced(e) for e in element)) - targets
    return set()


def _compound_body(node: ast.AST) -> list[ast.AST]:
    """The statements nested in a loop, ``if``, ``with`` or ``try`` (not inside a ``def``)."""
    found: list[ast.AST] = []
    for name in ("body", "orelse", "finalbody", "handlers"):
        for child in (
            getattr(node, name, [])
            if not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            )
            else []
        ):
            found.append(child)
            found.extend(_compound_body(child))
    return found


_PLAIN = (
    ast.Assign,
    ast.AnnAssign,
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
)


class Session:
    """The statements of one markdown-exec session so far, and where imported names come from."""

    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self.origin: dict[str, str] = {}  # name bound by an import -> dotted module path
        self.lines: dict[int, list[str]] = {}  # block -> its lines
        self.pure: set[str] = set()  # functions defined here that change none of their arguments
        # function defined here -> the module-level names its body may change (``samples`` of
        # ``def record(c, s): samples[c].append(s)``): calling it changes them
        self.effects: dict[str, set[str]] = {}

    def _pure_call(self, call: ast.Call) -> bool:
        func = _dotted(call.func)
        if func is None:
            return False
        root, _, rest = func.partition(".")
        if not rest and root in (_PURE_BUILTINS | self.pure) and root not in self.origin:
            return True
        if rest and root not in self.origin and func.rsplit(".", 1)[-1] in _PURE_METHODS:
            return True
        if func.rsplit(".", 1)[-1].endswith("_"):
            return False
        source = self.origin.get(root)
        if source is None:
            return False
        full = f"{source}.{rest}" if rest else source
        return any(full == m or full.startswith(f"{m}.") for m in _PURE_MODULES)

    def _effects(self, node: ast.AST) -> set[str]:
        """Module-level names changed by the calls `node` makes to functions defined here."""
        found: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                found |= self.effects.get(sub.func.id, set())
        return found

    def _mutates(self, node: ast.AST) -> set[str]:
        """Names used where the object they hold may change."""
        changed: set[str] = self._effects(node)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                func = sub.func
                if isinstance(func, ast.Name) and func.id not in self.origin:
                    changed.add(func.id)  # calling an object (a module's forward) may change it
                if isinstance(func, ast.Attribute) and func.attr not in _PURE_METHODS:
                    receiver = _root(func.value)
                    if receiver is not None and receiver not in self.origin:
                        changed.add(receiver)
                if self._pure_call(sub):
                    args = [k.value for k in sub.keywords if k.arg in _MUTATED_KEYWORDS]
                else:
                    args = [*sub.args, *(k.value for k in sub.keywords)]
                for arg in args:
                    changed |= _referenced(arg)
            elif isinstance(sub, ast.For | ast.comprehension):
                # `for name, flow in models.items(): fit(flow)` changes what `models` holds
                targets = {n.id for n in ast.walk(sub.target) if isinstance(n, ast.Name)}
                inner = sub.body if isinstance(sub, ast.For) else []
                if targets & set().union(*(self._mutates(child) for child in inner)):
                    changed |= {n.id for n in ast.walk(sub.iter) if isinstance(n, ast.Name)} - set(
                        self.origin
                    )
            elif isinstance(sub, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
                targets = sub.targets if isinstance(sub, ast.Assign | ast.Delete) else [sub.target]
                for target in targets:
                    for part in ast.walk(target):
                        if isinstance(part, ast.Attribute | ast.Subscript):
                            root = _root(part)
                            if root is not None:
                                changed.add(root)
                if isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name):
                    changed.add(sub.target.id)  # x += 1 changes a tensor in place
        return changed

    def add_block(self, number: int, code: str) -> None:
        lines = code.splitlines()
        self.lines[number] = lines
        tree = ast.parse(code)
        previous_end = 0
        for node in tree.body:
            visitor = _Names()
            visitor.visit(node)
            immutable: set[str] = set()
            if isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    name = alias.asname or alias.name.split(".")[0]
                    if isinstance(node, ast.ImportFrom):
                        module = "." * node.level + (node.module or "")
                        self.origin[name] = f"{module}.{alias.name}"
                    else:
                        self.origin[name] = alias.name if alias.asname else name
                    immutable.add(name)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                immutable.add(node.name)
                if isinstance(node, ast.FunctionDef):
                    params = {a.arg for a in [*node.args.posonlyargs, *node.args.args]}
                    params |= {a.arg for a in node.args.kwonlyargs}
                    changed = set().union(*(self._mutates(child) for child in node.body))
                    local = {
                        n.id
                        for n in ast.walk(node)
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del)
                    }
                    declared = {
                        name
                        for n in ast.walk(node)
                        if isinstance(n, ast.Global)
                        for name in n.names
                    }
                    self.effects[node.name] = ((changed - params - local) & visitor.reads) | (
                        declared
                    )
                    scoped = any(isinstance(n, ast.Global | ast.Nonlocal) for n in ast.walk(node))
                    if not changed & params and not scoped and not node.args.vararg:
                        self.pure.add(node.name)
            first = node.lineno - 1
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                first = min([first, *(d.lineno - 1 for d in node.decorator_list)])
            while first > previous_end and lines[first - 1].lstrip().startswith("#"):
                first -= 1  # the comments just above a statement go with it
            last = node.end_lineno or node.lineno
            previous_end = last
            reports = isinstance(node, ast.Assert) or (
                isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id == "print"
            )
            prints = [
                (sub.lineno - 1, sub.end_lineno or sub.lineno)
                for sub in _compound_body(node)
                if isinstance(sub, ast.Assert)
                or (
                    isinstance(sub, ast.Expr)
                    and isinstance(sub.value, ast.Call)
                    and isinstance(sub.value.func, ast.Name)
                    and sub.value.func.id == "print"
                )
            ]
            self.statements.append(
                Statement(
                    number,
                    first,
                    last,
                    visitor.reads,
                    visitor.binds,
                    # not what it made itself; but what a function it calls changes, even
                    # a name it never mentions
                    (self._mutates(node) & visitor.reads) | self._effects(node),
                    immutable,
                    visitor.binds if isinstance(node, _PLAIN) else set(),
                    reports,
                    prints,
                )
            )

    def context(self, number: int) -> list[Statement]:
        """The earlier statements (blocks before `number`) that block `number` needs.

        A backward slice: walking back from the block, a statement is kept if it binds a name
        whose value is still needed there, or may change an object that is needed or that a kept
        statement bound (an alias); a kept statement's reads are needed before it, and a plain
        binding satisfies the need for that name. Repeated until nothing changes, because a new
        alias can make a later statement matter.
        """
        own = [s for s in self.statements if s.block == number]
        earlier = [s for s in self.statements if s.block < number and not s.only_reports]
        assigned = set().union(*(s.binds - s.immutable for s in self.statements))
        fixed = set().union(*(s.immutable for s in self.statements)) - assigned
        every = set().union(*(s.binds for s in self.statements))
        fixed |= set(dir(builtins)) - every  # print, zip, ... unless the page rebinds them
        wanted: set[str] = set()
        bound: set[str] = set()
        for statement in own:  # names read before the block binds them
            wanted |= statement.reads - bound - (set(dir(builtins)) - every)
            bound |= statement.binds
        chosen: set[int] = set()
        while True:
            before = len(chosen)
            aliases_at, current = [], set()
            for i, s in enumerate(earlier):
                aliases_at.append(set(current))
                current -= s.kills
                if i in chosen:
                    current |= s.binds
            needed = set(wanted)
            for i in range(len(earlier) - 1, -1, -1):
                s = earlier[i]
                changes = s.mutates - fixed
                if i in chosen or s.binds & needed or changes & (needed | aliases_at[i]):
                    chosen.add(i)
                    needed = (needed - s.kills) | s.reads
            if len(chosen) == before:
                return [s for i, s in enumerate(earlier) if i in chosen]

    def source(self, statement: Statement) -> list[str]:
        """The statement's lines, a nested print or assert replaced by ``pass``."""
        lines = self.lines[statement.block]
        skip: set[int] = set()
        for start, end in statement.prints:
            line = lines[start]
            indent = line[: len(line) - len(line.lstrip())]
            skip |= set(range(start + 1, end))
            lines = [*lines[:start], f"{indent}pass", *lines[start + 1 :]]
        return [lines[i] for i in range(statement.first, statement.last) if i not in skip]


def program(session: Session, number: int, code: str, header: str) -> str:
    """Block `number` of `session` (already added) with the earlier statements it needs."""
    parts = [header]
    current = None
    for statement in session.context(number):
        if statement.block != current:
            parts.append(f"\n# from block {statement.block}")
            current = statement.block
        parts.extend(session.source(statement))
    parts.append(f"\n# block {number}" if current is not None else "")
    parts.append(code.strip("\n"))
    return "\n".join(p for p in parts if p != "") + "\n"


@dataclass(frozen=True)
class Copy:
    number: int  # among the page's executed blocks, 1-based
    shown: str  # the source as the page shows it (hidden lines removed)
    program: str


def page_copies(markdown: str, page_title: str, page_url: str) -> list[Copy]:
    """The program each executed Python block of a page copies, in order."""
    sessions: dict[str, Session] = {}
    copies = []
    number = 0
    for block in fenced_blocks(markdown):
        language, _, options = block.info.partition(" ")
        if language not in {"python", "py"} or not _EXEC.search(options):
            continue
        number += 1
        code = "\n".join(_HIDE.sub("", line) for line in block.lines)
        shown = "\n".join(line for line in block.lines if not _HIDE.search(line))
        session_name = _SESSION.search(options)
        # A block without a session runs alone: a session of its own.
        session = sessions.setdefault(session_name[1] if session_name else f"#{number}", Session())
        try:
            session.add_block(number, code)
        except SyntaxError as error:
            raise PluginError(f"{page_url}: block {number} does not parse: {error}") from error
        header = (
            f'# From the notes page "{page_title}" ({page_url}), block {number}, with the earlier\n'
            "# statements it needs. Needs {needs} (README: Run a page's code)."
        )
        source = _SOURCE.search(options)
        if source is None or source[1] in {"false", "0", "off", "no"}:
            continue  # the source is not shown: no copy button
        text = program(session, number, code, header)
        text = text.replace("{needs}", requirements([text]), 1)
        copies.append(Copy(number, shown.strip("\n"), text))
    return copies


def _text(pre: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", pre)).strip("\n")


def attach(page_html: str, copies: list[Copy], where: str) -> str:
    """Give each executed block's source ``<div>`` its program."""
    out, position = [], 0
    pending = list(copies)
    for match in _PY_DIV.finditer(page_html):
        if not pending:
            break
        if _text(match[1]).strip() != pending[0].shown.strip():
            continue
        copy = pending.pop(0)
        out.append(page_html[position : match.start()])
        out.append(
            f'<div class="language-python highlight" data-notes-block="{copy.number}" '
            f'data-notes-copy="{html.escape(copy.program, quote=True)}">{match[1]}</div>'
        )
        position = match.end()
    if pending:
        raise PluginError(f"{where}: the source of block {pending[0].number} was not found")
    return "".join(out) + page_html[position:]


_copies: dict[str, list[Copy]] = {}
# (source, title, url) -> its copies: a pure function of the page's source, kept across the
# preview's rebuilds
_made: dict[object, object] = STORE.setdefault("copies", {})


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Work out the programs from the page's own source (before any hook adds lines)."""
    src = page.file.src_uri
    source = page.file.content_string
    title = page.title or src
    heading = re.search(r"^#\s+(.+?)\s*$", source, re.MULTILINE)
    if heading:
        title = heading[1]
    key = (source, title, page.file.url or "/")
    if key not in _made:
        _made[key] = page_copies(*key)
    _copies[src] = _made[key]  # type: ignore[assignment]
    return markdown


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    copies = _copies.pop(page.file.src_uri, [])
    return attach(html_text, copies, page.file.src_uri) if copies else html_text
