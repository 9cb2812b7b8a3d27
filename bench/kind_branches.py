"""Where the code branches on the task kind: each `if`, `elif`, conditional expression and comprehension filter in
w2s/ whose test names a kind's marker (a predicate such as is_generative, a params key, a column only that kind's
files have), per module, outside the kind's own module (w2s/kinds/<kind>.py).

    python bench/kind_branches.py [--by-module]

The count the issue's table asks for: how many places outside a kind's module decide something by that kind. The
markers are lexical, so a branch counts once per kind it names; classification is the other kinds' `else`, so its
row counts only the tests that name it. (Generative finetuning is a method, not a kind; the config's `pairs` are
pairs of models.)
"""

from __future__ import annotations

import argparse
import ast
import re
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARKERS = {
    # `generative` alone (a flag for this kind), not generative finetuning (a method on any kind)
    "generated answers": r"is_generative|\bgenerative\b(?![ _]finetun)|answer_lengths|answer_format"
    r"|\"answers\"|\.answers\b|\"generated\"|\[\"answer\"\] == pl|\bANSWERS\b|\.name == \"answers\"",
    # params' and tasks' "pairs" flag (a comparison task), not the config's `pairs` of models
    "comparisons": r"is_pairwise|(params|task)\.get\(\"pairs\"\)|COMPLETIONS|\"preference\"|\bCOMPARISONS\b"
    r"|\.name == \"comparisons\"",
    "classification": r"is_classification|\bCLASSIFICATION\b|\.name == \"classification\"",
}


def tests_in(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.If, ast.IfExp, ast.While)):
            yield node.test
        elif isinstance(node, ast.comprehension):
            yield from node.ifs


def count(root: Path) -> dict[str, Counter]:
    found = {kind: Counter() for kind in MARKERS}
    for path in sorted((root / "w2s").rglob("*.py")):
        source = path.read_text()
        module = str(path.relative_to(root))
        for test in tests_in(ast.parse(source)):
            text = ast.get_source_segment(source, test) or ""
            for kind, pattern in MARKERS.items():
                own = module == f"w2s/kinds/{kind.split()[-1]}.py"
                if not own and re.search(pattern, text):
                    found[kind][module] += 1
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--root", default=str(REPO), help="a checkout to count in (default: this one)"
    )
    parser.add_argument("--by-module", action="store_true")
    args = parser.parse_args()
    found = count(Path(args.root))
    print("| kind | branches outside its module | modules |\n|---|---|---|")
    for kind, modules in found.items():
        print(f"| {kind} | {sum(modules.values())} | {len(modules)} |")
    if args.by_module:
        for kind, modules in found.items():
            print(f"\n{kind}: " + ", ".join(f"{m} {n}" for m, n in modules.most_common()))


if __name__ == "__main__":
    main()
