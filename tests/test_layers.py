"""graphc's layers import only downward: every import in the package, at module level or inside a function (a lazy
import is still an arrow), goes from a module to one in its own layer or a layer below it.

The layer order is the data below, from the bottom; docs/architecture.md draws it. A module belongs to the layer
of the longest prefix that names it.
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "graphc"

LAYERS = (
    ("foundations", ("graphc.errors", "graphc.types", "graphc.files", "graphc.version")),
    ("ir", ("graphc.ir",)),
    ("tensor", ("graphc.tensor",)),
    ("initializers", ("graphc.init",)),
    ("ops", ("graphc.ops",)),
    ("autodiff", ("graphc.autodiff",)),
    ("loops", ("graphc.loops",)),
    ("passes", ("graphc.passes",)),
    ("interpreter", ("graphc.backends.reference", "graphc.gradcheck")),
    ("lowering", ("graphc.backends.lowering",)),
    ("runtime kernels", ("graphc.backends.runtime",)),
    ("code generation", ("graphc.backends.codegen",)),
    ("compiled functions", ("graphc.backends.compiled", "graphc.backends")),
    ("optim", ("graphc.optim",)),
    ("render", ("graphc.render",)),
    ("model", ("graphc.summary", "graphc.model", "graphc.data", "graphc.modelfile")),
    ("nn", ("graphc.nn", "graphc.interop")),
    ("distributed", ("graphc.distributed",)),
    ("train", ("graphc.train",)),
    ("cli", ("graphc.cli", "graphc.__main__")),
    ("public API", ("graphc",)),
    ("built-in models", ("graphc.models",)),  # model files, written against the public API as a user's are
)


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    base = PACKAGE.parent.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imported_modules(path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, module) for every graphc module that ``path`` imports anywhere in its code."""
    return imports_in(path.read_text(), module_name(path), path.name == "__init__.py")


def imports_in(source: str, name: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) for every graphc module that the source of module ``name`` imports, at any depth."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "graphc"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "graphc":
                continue
            for alias in node.names:  # ``from . import ops`` imports the module graphc.ops, not graphc
                target = f"{source}.{alias.name}"
                found.append((node.lineno, target if is_module(target) else source))
    return found


def layer_of(module: str) -> int:
    best, rank = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), index
    if rank is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return rank


# The package's own modules: not the generated programs that `graphc cache --precompile` keeps beside the
# runtime's machine code (`__pycache__/programs`), whose number grows with every code generator seen.
MODULES = sorted(path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts)


def test_every_module_has_a_layer():
    for path in MODULES:
        layer_of(module_name(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_go_only_downward(path):
    importer = module_name(path)
    upward = [f"{path.relative_to(PACKAGE.parent)}:{line} imports {target} "
              f"({LAYERS[layer_of(target)][0]} is above {LAYERS[layer_of(importer)][0]})"
              for line, target in imported_modules(path) if layer_of(target) > layer_of(importer)]
    assert not upward, "\n".join(upward)


def test_the_checker_sees_lazy_and_relative_imports():
    """An import inside a function counts, ``from .. import x`` is the module x when there is one (else the package),
    and an upward import is reported."""
    source = """
from ..ir import Node
from . import registry
def later():
    from ..passes import optimize
    from .. import __version__
    import graphc.backends.compiled
"""
    imports = [target for _, target in imports_in(source, "graphc.ops.shape", is_package=False)]
    assert imports == ["graphc.ir", "graphc.ops.registry", "graphc.passes", "graphc", "graphc.backends.compiled"]
    upward = [t for t in imports if layer_of(t) > layer_of("graphc.ops.shape")]
    assert upward == ["graphc.passes", "graphc", "graphc.backends.compiled"]
    assert layer_of("graphc.backends.compiled.cpu") > layer_of("graphc.backends.codegen.cpu") > layer_of("graphc.ops")
