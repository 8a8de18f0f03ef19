"""The torchrun script's template, assembled from real code.

``torchrun_script`` is the script as a module that imports the trainer's helpers
(``from studio.training.optim import scheduled_lr``). The template is its code with:

- a docstring for the person who runs the script (with markers for the graph's name,
  the script's name and the arrays it reads);
- one import block: the module's own imports and those the copied helpers need;
- the model's place (``__MODEL__``);
- each imported helper's source, copied from its one home with every helper of that
  module it uses, in that module's order;
- the module's code below its stand-ins for the graph's values.

Only the code goes in here; the graph's values go in later through ``source_text.fill``.
A helper that needs a name the script cannot have (one from ``studio`` or ``blocks``, a
relative import) or whose name the script already uses is a mistake, refused here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from types import ModuleType

from . import torchrun_script
from .source_text import MARKER

DOCSTRING = '''\
#!/usr/bin/env python
"""__TITLE__: distributed training script exported from Studio.

    torchrun --nproc_per_node=N __SCRIPT__ DATA.npz [--epochs E] [--out WEIGHTS.pt]
    python __SCRIPT__ DATA.npz             (one process, no torchrun)

DATA.npz holds, S samples each:
__ARRAYS__
  and optionally the same arrays with a "_val" suffix: a validation split.

The graph's batch_size (__BATCH__) is the global batch, split over the processes;
each process trains on its own share of every epoch's shuffled order. The
backend is nccl on CUDA and gloo on the CPU. Rank 0 prints one line per epoch
and saves the weights (a state_dict whose keys match Studio's compiled module).
"""
'''

MODEL_SECTION = "# ---- the model, exported from Studio ----------------------------------------\n\n\n__MODEL__"
HELPERS_SECTION = "# ---- from Studio's trainer: its loss, optimizer and learning-rate schedule ------"

_HOME = ("studio", "blocks")  # packages the exported script runs without


def script_template(script: ModuleType = torchrun_script) -> str:
    """The script's source with ``__MARKER__``s where the graph's values go."""
    source = inspect.getsource(script)
    lines = source.splitlines()
    body = ast.parse(source).body
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)):
        raise AssertionError(f"{script.__name__}: the module starts with its docstring")
    # in this order: its own imports, the shared ones, the stand-ins, the code
    imports, shared, stand_ins, code = [], [], [], []
    for node in body[1:]:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not (stand_ins or code):
            if _module_of(node).startswith(_HOME):
                shared.append(node)
            elif shared:
                raise AssertionError(f"{script.__name__} line {node.lineno}: an import after the shared ones")
            else:
                imports.append(node)
        elif _stand_in(node) and not code:
            stand_ins.append(node)
        else:
            code.append(node)
    if not stand_ins or not code:
        raise AssertionError(f"{script.__name__}: stand-ins for the graph's values, then the code")
    code_text = "\n".join(lines[stand_ins[-1].end_lineno:])  # with the comments above the code
    for node in code:
        for inner in ast.walk(node):
            if isinstance(inner, (ast.Import, ast.ImportFrom)) and _module_of(inner).startswith(_HOME):
                raise AssertionError(f"{script.__name__} line {inner.lineno}: the script imports {_module_of(inner)}")
    markers = {m.group(0) for m in MARKER.finditer(code_text)}
    filled = {node.targets[0].id for node in stand_ins}
    if markers != filled:
        raise AssertionError(f"{script.__name__}: the code's markers {sorted(markers)} "
                             f"are not the stand-ins {sorted(filled)}")

    helpers, needed = inline(shared, script)
    taken = _bound_names(code) | _names_of(imports)
    clash = sorted(_bound_names(ast.parse(helpers).body) & taken)
    if clash:
        raise AssertionError(f"{script.__name__} defines {clash}, which the copied helpers define too")
    import_block = render_imports(imports + needed)
    return "\n".join([DOCSTRING, import_block, "", MODEL_SECTION, "", "", HELPERS_SECTION, "", "",
                      helpers, "", "", code_text.strip("\n"), ""])


def inline(imports: list[ast.ImportFrom], host: ModuleType) -> tuple[str, list[ast.stmt]]:
    """The source of what ``imports`` name, with every top-level helper of their modules they use,
    and the import statements that source needs which ``host`` does not make.

    The chunks keep their module's order, so a constant comes before the class that reads it."""
    chunks: list[str] = []
    needed: list[ast.stmt] = []
    for statement in imports:
        if not isinstance(statement, ast.ImportFrom) or statement.level:
            raise AssertionError(f"{host.__name__} line {statement.lineno}: shared helpers are imported "
                                 "as 'from studio.<module> import <name>'")
        module = importlib.import_module(statement.module)
        definitions, bindings = _top_level(module)
        todo = [alias.name for alias in statement.names]
        wanted: set[str] = set()
        while todo:
            name = todo.pop()
            if name in wanted:
                continue
            if name not in definitions:
                raise AssertionError(f"{module.__name__}.{name} is not defined at the top of its module")
            wanted.add(name)
            for used in _names_used(definitions[name][0]):
                if used in definitions:
                    todo.append(used)
                elif used in bindings:
                    needed.extend(_import_needed(bindings[used], used, module, host))
        chunks.extend(text for name, (_, text) in definitions.items() if name in wanted)
    return "\n\n\n".join(chunks), needed


def render_imports(statements: list[ast.stmt]) -> str:
    """One import block, grouped (``__future__``, the standard library, the rest) and sorted as
    isort sorts them, with from-imports of one module merged."""
    plain: set[tuple[str, str | None]] = set()
    froms: dict[str, set[tuple[str, str | None]]] = {}
    for statement in statements:
        if isinstance(statement, ast.Import):
            plain.update((a.name, a.asname) for a in statement.names)
        elif isinstance(statement, ast.ImportFrom):
            froms.setdefault(statement.module, set()).update((a.name, a.asname) for a in statement.names)
    groups: list[list[str]] = [[], [], []]
    for name, asname in sorted(plain):
        groups[_group(name)].append(f"import {name}" + (f" as {asname}" if asname else ""))
    for module in sorted(froms):
        names = sorted(froms[module], key=lambda a: (_kind(a[0]), a[0]))
        shown = ", ".join(n + (f" as {a}" if a else "") for n, a in names)
        groups[_group(module)].append(f"from {module} import {shown}")
    for group in groups:  # isort: plain imports first, then from-imports, each by module
        group.sort(key=lambda line: (line.startswith("from "), line.split()[1]))
    return "\n\n".join("\n".join(group) for group in groups if group)


# ---- helpers --------------------------------------------------------------------

def _module_of(node: ast.Import | ast.ImportFrom) -> str:
    if isinstance(node, ast.ImportFrom):
        return "." * node.level + (node.module or "")
    return node.names[0].name


def _stand_in(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and MARKER.fullmatch(node.targets[0].id) is not None)


def _first_line(node: ast.stmt) -> int:
    """The first line of ``node``, its decorators included."""
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _top_level(module: ModuleType) -> tuple[dict[str, tuple[ast.stmt, str]], dict[str, ast.stmt]]:
    """A module's top-level definitions (name -> (node, source)) and the import that binds each
    imported name (those under ``if TYPE_CHECKING:`` too), in file order."""
    source = inspect.getsource(module)
    lines = source.splitlines()
    definitions: dict[str, tuple[ast.stmt, str]] = {}
    bindings: dict[str, ast.stmt] = {}
    for node in ast.parse(source).body:
        text = "\n".join(lines[_first_line(node) - 1:node.end_lineno])
        for name in _bound_names([node]):
            definitions[name] = (node, text)
        for inner in ast.walk(node):
            if isinstance(inner, (ast.Import, ast.ImportFrom)):
                for alias in inner.names:
                    bindings[(alias.asname or alias.name).split(".")[0]] = inner
    return definitions, bindings


def _bound_names(body: list[ast.stmt]) -> set[str]:
    """Names that top-level definitions and assignments of ``body`` bind (imports left out)."""
    names: set[str] = set()
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _names_of(imports: list[ast.stmt]) -> set[str]:
    """Names the import statements bind (``import torch.nn`` binds ``torch``)."""
    return {(alias.asname or alias.name).split(".")[0] for statement in imports for alias in statement.names}


def _names_used(node: ast.stmt) -> set[str]:
    """Every plain name ``node`` reads (annotations included), its own locals among them."""
    return {inner.id for inner in ast.walk(node) if isinstance(inner, ast.Name)}


def _import_needed(statement: ast.stmt, name: str, module: ModuleType, host: ModuleType) -> list[ast.stmt]:
    """The import of ``name`` a copied helper of ``module`` needs; none where ``host`` has it already."""
    if isinstance(statement, ast.ImportFrom):
        source = statement.module or ""
        if statement.level or source.startswith(_HOME):
            raise AssertionError(f"{module.__name__} binds {name} from {'.' * statement.level}{source}, "
                                 "which a copy of its helpers cannot import")
        alias = next(a for a in statement.names if (a.asname or a.name) == name)
        needed: ast.stmt = ast.ImportFrom(module=source, names=[alias], level=0)
    else:
        alias = next(a for a in statement.names if (a.asname or a.name).split(".")[0] == name)
        needed = ast.Import(names=[alias])
    value = vars(module)[name]
    if name in vars(host):
        if vars(host)[name] is not value:
            raise AssertionError(f"{host.__name__}.{name} is not the {name} that {module.__name__} uses")
        return []
    return [needed]


def _group(module: str) -> int:
    top = module.split(".")[0]
    return 0 if top == "__future__" else 1 if top in sys.stdlib_module_names else 2


def _kind(name: str) -> int:
    """isort's order of imported names: CONSTANTS, then Classes, then the rest."""
    return 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
