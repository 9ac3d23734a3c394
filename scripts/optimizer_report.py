"""Regenerate the measured tables of docs/optimizer.md: node counts before and after optimization for an MLP and an
LSTM step, with and without their gradients, and the rule table read from the rules' own comments.

    python scripts/optimizer_report.py           # rewrite the tables in docs/optimizer.md
    python scripts/optimizer_report.py --check   # exit 1 if docs/optimizer.md is not what this script writes
"""

import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import graphc  # noqa: E402
from graphc.models import lstm_step, mlp  # noqa: E402
from graphc.passes import simplify  # noqa: E402

DOC = ROOT / "docs" / "optimizer.md"
BEGIN, END = "<!-- generated:begin -->", "<!-- generated:end -->"


def counts(outputs) -> dict:
    return graphc.Graph([o.node for o in outputs]).count_by_op()


def row(name, outputs) -> str:
    raw = counts(outputs)
    _, report = graphc.optimize(outputs, report=True, fuse=False)
    unfused = report.after
    fused = counts(graphc.optimize(outputs))
    kernels = fused.get("fused", 0)
    elementwise = sum(n for op, n in raw.items() if graphc.OPS[op].elementwise)
    return (f"| {name} | {sum(raw.values())} | {sum(unfused.values())} | {sum(fused.values())} | "
            f"{elementwise} | {kernels} |")


def by_op(outputs) -> list[str]:
    raw, fused = counts(outputs), counts(graphc.optimize(outputs))
    _, report = graphc.optimize(outputs, report=True, fuse=False)
    lines = ["| op | raw | optimized | optimized + fused |", "|---|---|---|---|"]
    for op in sorted(set(raw) | set(report.after) | set(fused)):
        lines.append(f"| {op} | {raw.get(op, 0)} | {report.after.get(op, 0)} | {fused.get(op, 0)} |")
    return lines


def rules_table() -> list[str]:
    """Each rule's name and algebra, from the comment that follows it in simplify.py."""
    source = pathlib.Path(simplify.__file__).read_text()
    lines = ["| rule | family | algebra |", "|---|---|---|"]
    groups = (("algebra", simplify.ALGEBRA), ("linear algebra", simplify.LINEAR_ALGEBRA),
              ("stability", simplify.STABILITY), ("slices", simplify.SLICES),
              ("unsafe (off by default)", simplify.UNSAFE))
    families = {r.name: family for family, rules in groups for r in rules}
    for match in re.finditer(r'Rule\("([^"]+)".*?#\s*(.+?)\n(?=\s*(?:Rule\(|\)|#))', source, re.S):
        name, algebra = match.group(1), match.group(2).strip().replace("|", "\\|")
        lines.append(f"| `{name}` | {families[name]} | {algebra} |")
    if len(lines) - 2 != len(simplify.RULES):
        raise SystemExit("every rule in simplify.py needs its algebra in a comment after it")
    return lines


def generate() -> str:
    model = mlp.build(sizes=(64, 128, 10), activation="tanh")
    cell = lstm_step.build(inputs=64, hidden=256, dtype="float32")
    mlp_all = [model.loss] + graphc.grad(model.loss, model.params)
    cell_all = [cell.loss] + graphc.grad(cell.loss, cell.params + [cell.inputs["h"], cell.inputs["c"]])
    lines = [
        BEGIN,
        "",
        "Node counts (every node of the graph: inputs, parameters and constants included). \"optimized\" is",
        "`graphc.optimize(outputs, fuse=False)`, \"fused\" the default pipeline; \"element-wise\" counts the",
        "element-wise nodes before optimization, \"kernels\" the fused nodes that replace them.",
        "",
        "| graph | raw | optimized | optimized + fused | element-wise (raw) | kernels |",
        "|---|---|---|---|---|---|",
        row("MLP 64-128-10 forward (loss)", [model.loss]),
        row("MLP forward + gradients of all parameters", mlp_all),
        row("LSTM step (n=64, m=256) forward (h, c, loss)", [*cell.outputs.values(), cell.loss]),
        row("LSTM step forward + gradients (W, U, b, h, c)", cell_all),
        "",
        "The LSTM step with its gradients, op by op:",
        "",
        *by_op(cell_all),
        "",
        "The rewrite rules (`graphc/passes/simplify.py`), in the order they are tried:",
        "",
        *rules_table(),
        "",
        END,
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/optimizer.md is out of date")
    arguments = parser.parse_args()
    text = DOC.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    updated = text[:start] + generate() + text[end:]
    if arguments.check:
        if updated != text:
            print("docs/optimizer.md is out of date: run python scripts/optimizer_report.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
