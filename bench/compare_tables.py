"""Compare two renderings of a results file (bench/demo.py's markdown) cell by cell: what a regeneration changed.

    python bench/compare_tables.py docs/demo.md ../regen-ROOT/docs/demo.md [--tolerance 0]

Tables are matched by the heading above them, rows by their leading text cells (weak, strong, loss, method, ...),
columns by their header, so a table rendered over more pretraining seeds is compared on the columns both have
(each seed's own PGR, the weak models' accuracy per seed). Prints, per table, how many numbers both files have and
how many differ by more than the tolerance, with the largest differences; exit status 1 where any does.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

NUMBER = re.compile(r"[−-]?\d+\.\d+")
NUMERIC_CELL = re.compile(r"[\d.\s±\[\],*−-]*\d[\d.\s±\[\],*−-]*")
SEEDS = re.compile(r" over \d+ pretraining seeds?")  # in a header: the same column over more seeds


def tables(text: str) -> dict[str, list[dict[str, str]]]:
    """Each markdown table under its heading (the nearest line starting with '##' above it; the headline's is the
    title, which names the config and seeds, so it is called "headline"), as rows of header -> cell."""
    found, heading, header, rows = {}, "headline", None, []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header is None:
                names = [SEEDS.sub("", c) for c in cells]
                # a repeated name (two "weak" columns: the model, its accuracy) gets its position
                header = [c if names.index(c) == i else f"{c} ({i})" for i, c in enumerate(names)]
            elif not set("".join(cells)) <= set("-: "):
                rows.append(dict(zip(header, cells, strict=False)))
            continue
        if header is not None:
            name = heading if heading not in found else f"{heading} ({len(found)})"
            found[name], header, rows = rows, None, []
        if line.startswith("## "):
            heading = line[3:].strip()
    return found


def numbers(cell: str) -> list[float]:
    return [float(n.replace("−", "-")) for n in NUMBER.findall(cell)]


def row_key(row: dict[str, str]) -> tuple[str, ...]:
    """A row's identity: its cells that are not numbers (names, losses, methods)."""
    return tuple(v for v in row.values() if v and not NUMERIC_CELL.fullmatch(v))


def compare(old: str, new: str, tolerance: float) -> tuple[list[str], int]:
    lines, differing = [], 0
    old_tables, new_tables = tables(old), tables(new)
    for name, old_rows in old_tables.items():
        new_rows = {row_key(r): r for r in new_tables.get(name, [])}
        compared, diffs = 0, []
        for row in old_rows:
            other = new_rows.get(row_key(row))
            if other is None:
                continue
            for column, cell in row.items():
                a, b = numbers(cell), numbers(other.get(column, ""))
                if not a or len(a) != len(b):
                    continue
                compared += len(a)
                for x, y in zip(a, b, strict=True):
                    if abs(x - y) > tolerance:
                        diffs.append((abs(x - y), " / ".join(row_key(row)), column, x, y))
        differing += len(diffs)
        lines.append(f"{name}: {compared} numbers compared, {len(diffs)} differ")
        for gap, row, column, x, y in sorted(diffs, reverse=True)[:5]:
            lines.append(f"  {row} | {column}: {x} -> {y} ({gap:.3f})")
    return lines, differing


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--tolerance", type=float, default=0.0)
    args = parser.parse_args()
    lines, differing = compare(
        Path(args.old).read_text(), Path(args.new).read_text(), args.tolerance
    )
    print("\n".join(lines))
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
