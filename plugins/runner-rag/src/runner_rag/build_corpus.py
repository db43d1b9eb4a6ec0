"""Build the shipped corpus: module docstrings of the Python standard library, one file each.

Run once (``python -m runner_rag.build_corpus``) to regenerate ``data/corpus/*.txt``. The texts
are the docstrings of CPython 3.11's modules (PSF license, see ``data/NOTICE``); the evaluation
questions in ``data/questions*.jsonl`` were written by reading these files, so rebuilding with
another Python version may change a text and must be followed by re-checking the questions.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import warnings
from pathlib import Path

#: The modules whose docstrings make up the corpus (document id = module name).
MODULES: tuple[str, ...] = (
    "argparse",
    "ast",
    "chunk",
    "cmd",
    "codeop",
    "collections",
    "colorsys",
    "compileall",
    "configparser",
    "copy",
    "csv",
    "dbm",
    "difflib",
    "doctest",
    "errno",
    "fileinput",
    "ftplib",
    "gc",
    "getopt",
    "hashlib",
    "heapq",
    "inspect",
    "io",
    "itertools",
    "json",
    "marshal",
    "mimetypes",
    "optparse",
    "os",
    "pdb",
    "plistlib",
    "pprint",
    "pyclbr",
    "pydoc",
    "random",
    "re",
    "rlcompleter",
    "sched",
    "shelve",
    "site",
    "smtplib",
    "socket",
    "socketserver",
    "sqlite3",
    "ssl",
    "statistics",
    "string",
    "struct",
    "subprocess",
    "sys",
    "tempfile",
    "time",
    "timeit",
    "tokenize",
    "trace",
    "typing",
    "unittest",
    "uuid",
    "wave",
    "zipimport",
    "zlib",
)

DEFAULT_OUT = Path(__file__).parent / "data" / "corpus"


def module_text(name: str) -> str:
    """The cleaned docstring of module ``name`` (indentation removed, trailing spaces stripped)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = importlib.import_module(name)
    doc = inspect.cleandoc(module.__doc__ or "")
    return "\n".join(line.rstrip() for line in doc.splitlines()).strip() + "\n"


def build(out_dir: Path = DEFAULT_OUT) -> list[Path]:
    """Write one ``<module>.txt`` per module into ``out_dir``; return the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in MODULES:
        path = out_dir / f"{name}.txt"
        path.write_text(module_text(name), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: ``python -m runner_rag.build_corpus [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    files = build(args.out)
    total = sum(p.stat().st_size for p in files)
    print(
        f"wrote {len(files)} documents ({total} bytes) to {args.out} "
        f"with Python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
