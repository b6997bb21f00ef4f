"""Similarity report time for a class of 30 and of 300 synthetic submissions.

    python bench/bench_similarity.py [N ...]     (default: 30 300)

Each synthetic submission takes each contract function (with its helpers) from one of three independent
implementations (alice, vectorised, the reference) at random, renames local names and arguments at random,
shuffles the functions and adds a helper of its own: two submissions share about a third of their code,
as correct solutions of the same equations do. Every tenth submission is a renamed copy of an earlier one
(the pairs that should be flagged). Baseline: copydetect's own CopyDetector (winnowed fingerprints, every
pair, its HTML report) on the same class of 30.
"""

from __future__ import annotations

import ast
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.render.similarity_page import render_similarity_html  # noqa: E402
from grader.similarity.collect import class_similarity  # noqa: E402

BASES = [ROOT / "submissions" / n / "rnn.py" for n in ("alice", "vectorised")] + [ROOT / "reference" / "rnn.py"]
CONTRACT = ("init_params", "forward", "compute_gradients", "clip_gradients", "adagrad_step", "synthesize", "train")
COPY_EVERY = 10


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self.mapping.get(node.arg, node.arg)
        return node


def _pieces(path: Path) -> tuple[list[ast.stmt], dict[str, list[ast.FunctionDef]]]:
    """A base's imports and constants, and for each contract function: it and the helpers it calls."""
    tree = ast.parse(path.read_text())
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    rest = [n for n in tree.body if not isinstance(n, ast.FunctionDef)]
    pieces = {}
    for name in CONTRACT:
        called = {c.func.id for c in ast.walk(functions[name]) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
        pieces[name] = [functions[name]] + [functions[h] for h in sorted(called) if h in functions and h not in CONTRACT]
    return rest, pieces


def renamed(tree: ast.Module, rng: random.Random) -> ast.Module:
    local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    local |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    return _Rename({name: f"{name}_{rng.randrange(10**6)}" for name in local if rng.random() < 0.7}).visit(tree)


def synthetic(bases, rng: random.Random, number: int) -> str:
    body, seen = [], set()
    for rest, _ in bases:
        body += [ast.parse(ast.unparse(n)).body[0] for n in rest if ast.unparse(n) not in seen]
        seen |= {ast.unparse(n) for n in rest}
    functions = []
    for name in CONTRACT:
        for f in rng.choice(bases)[1][name]:
            if f.name not in {g.name for g in functions}:
                functions.append(ast.parse(ast.unparse(f)).body[0])
    rng.shuffle(functions)
    terms = " + ".join(f"{rng.randint(2, 99)} * x ** {k}" for k in range(rng.randint(3, 9)))
    helper = ast.parse(f"def helper_{number}(x):\n    y = {terms}\n    return [y * i for i in range({rng.randint(2, 9)})]\n")
    return ast.unparse(renamed(ast.Module(body=body + functions + helper.body, type_ignores=[]), rng))


def make_class(folder: Path, n: int) -> None:
    rng = random.Random(n)
    bases = [_pieces(p) for p in BASES]
    written = []
    for i in range(n):
        target = folder / f"student{i:03d}"
        target.mkdir(parents=True)
        if i % COPY_EVERY == COPY_EVERY - 1:
            code = ast.unparse(renamed(ast.parse(rng.choice(written)), rng))
        else:
            code = synthetic(bases, rng, i)
        (target / "rnn.py").write_text(code)
        written.append(code)


def timed(folder: Path) -> tuple[float, int]:
    entries = {p.name: p for p in sorted(folder.iterdir())}
    started = time.perf_counter()
    report = class_similarity(entries, template=ROOT / "submissions" / "template" / "rnn.py")
    render_similarity_html(report)
    return time.perf_counter() - started, len(report.flagged)


def copydetect_baseline(folder: Path, out: Path) -> float:
    from copydetect import CopyDetector

    started = time.perf_counter()
    detector = CopyDetector(test_dirs=[str(folder)], extensions=["py"], autoopen=False, silent=True,
                            boilerplate_dirs=[str(ROOT / "submissions" / "template")], out_file=str(out))
    detector.run()
    detector.generate_html_report()
    return time.perf_counter() - started


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [30, 300]
    with tempfile.TemporaryDirectory() as scratch:
        for n in sizes:
            folder = Path(scratch) / f"class{n}"
            make_class(folder, n)
            seconds, flagged = timed(folder)
            pairs = n * (n - 1) // 2
            print(f"{n:4d} submissions, {pairs:6d} pairs: {seconds:6.2f} s ({1e3 * seconds / pairs:.3f} ms a pair), "
                  f"{flagged} pairs flagged")
        folder = Path(scratch) / "baseline"
        make_class(folder, 30)
        baseline = copydetect_baseline(folder, Path(scratch) / "copydetect.html")
        print(f"baseline: copydetect's CopyDetector on 30 submissions (per file, winnowed): {baseline:6.2f} s")


if __name__ == "__main__":
    main()
