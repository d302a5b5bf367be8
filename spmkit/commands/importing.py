"""``spmkit import``: your own files -> spmkit's canonical data folder, by a mapping."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import", help="build spmkit's tables from your own files with a mapping",
        description="Read the source files a mapping YAML names (docs/mapping.md), keep, "
                    "rename and recode their rows, and write deals.csv, roster.csv, ... into "
                    "OUT (all or nothing). Prints what was kept, dropped and recoded.")
    p.add_argument("--mapping", required=True, metavar="YAML", help="the mapping file")
    p.add_argument("--out", required=True, metavar="DIR", help="output data folder")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from spmkit.errors import InputError
    from spmkit.mapping import apply_mapping, load_mapping, write_imported

    mapping = load_mapping(args.mapping)
    tables, report = apply_mapping(mapping)
    for w in report.warnings:
        print(f"spmkit import: warning: {w}", file=sys.stderr)
    if args.strict and report.warnings:
        raise InputError(f"{len(report.warnings)} warning(s) and --strict; nothing was written")
    for line in report.lines():
        print(line)
    for path in write_imported(tables, args.out):
        print(f"wrote {path}")
    return 0
