"""Fuzz targets for the plan loader, the table loaders and ``spmkit validate``.

The contract every target checks: for any bytes in the input files, the call either
succeeds or raises :class:`spmkit.errors.SpmkitError` (which the CLI turns into exit
status 2 and one message).  Any other exception is a bug.  The CLI itself must exit with
0 or 2, print no traceback and no ``internal error``, and stay under 2 GB of memory.

Inputs are mutations of known-good plans and tables, made by functions that take a
:class:`random.Random`: ``tests/test_fuzz.py`` drives them with hypothesis
(``st.randoms``: deterministic in CI, shrinkable), and this module's command line drives
them with plain seeds for a longer campaign that collects every distinct failure::

    .venv/bin/python tests/fuzz_targets.py --seconds 120 --out /tmp/fuzz-report

Nothing here imports spmkit at module level except through the targets, so the
generators can be used from a subprocess driver too.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import random
import re
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent

#: The memory ceiling of the contract (bytes).
MEMORY_LIMIT = 2 << 30
#: Wall-time ceiling for one in-process example (seconds); a hang is a failure.
EXAMPLE_SECONDS = 10.0

# --------------------------------------------------------------------------- seeds

#: The plan of the CLI tests (plan year 2026, the year of :data:`TABLES`).
PLAN_2026 = """\
plan: Test AE
currency: USD
year_start: 2026-01-01
period: quarter
components:
  - id: commission
    type: commission
    attainment: ytd
    tiers:
      method: marginal
      bands:
        - {from: 0, rate: 0.10}
        - {from: 1.0, rate: 0.20}
  - id: bonus
    type: bonus
    weight: 0.5
    attainment: period
    curve: [[0, 0], [1.0, 1.0]]
  - id: spif
    type: spif
    filter: {product: [Widget]}
    window: [2026-01-01, 2026-03-31]
    per_deal: 100
"""

#: One of each remaining feature: monthly phasing, rollup, retroactive tiers, a spif rate
#: with a clawback and an amount cap.
PLAN_MONTHLY = """\
plan: Monthly rollup
currency: USD
year_start: 2026-01-01
period: month
credit: rollup
phasing: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05]
components:
  - id: comm
    type: commission
    attainment: period
    weight: 0.6
    cap: {amount: 50000}
    tiers:
      method: retroactive
      bands:
        - {from: 0, rate: 0}
        - {from: 0.5, bcr_multiple: 1.25}
        - {from: 1.2, rate: 0.15}
  - id: kicker
    type: spif
    filter: {region: [East, West], deal_type: new}
    window: [2026-02-01, 2026-12-31]
    rate: 0.01
    clawback: true
    cap: {amount: 2500.50}
  - id: bonus
    type: bonus
    weight: 0.4
    curve: [[0, 0], [0.8, 0.5], [1, 1], [2, 3]]
    above_last: extend
"""


def seed_plans() -> list[str]:
    """Every known-good plan text: scenarios/*.yaml, the test plans, the two above."""
    plans = [PLAN_2026, PLAN_MONTHLY]
    plans += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "scenarios").glob("*.yaml"))]
    with contextlib.suppress(Exception):  # the conftest plans, when importable
        sys.path.insert(0, str(TESTS))
        from conftest import PLANS

        plans += [t for name, t in sorted(PLANS.items()) if name != "bad.yaml"]
    return plans


#: A small consistent data set for plan year 2026 (that of ``tests/test_cli_errors.py``).
TABLES: dict[str, list[list[str]]] = {
    "deals": [
        ["deal_id", "rep_id", "close_date", "amount", "currency", "product", "deal_type",
         "region", "account", "cancel_date"],
        ["D1", "A1", "2026-02-10", "60000.00", "USD", "Widget", "new", "East", "Acme", ""],
        ["D2", "A1", "2026-03-05", "50000.01", "USD", "Gadget", "new", "East", "Beta", ""],
        ["D3", "A2", "2026-02-20", "10000.33", "EUR", "Widget", "new", "West", "Gamma", ""],
        ["D4", "A2", "2026-01-15", "40000.00", "", "Gadget", "new", "West", "Delta",
         "2026-04-10"],
        ["D5", "A1", "2025-12-20", "5000.00", "USD", "Gadget", "new", "East", "Acme", ""],
        ["D6", "A1", "2026-08-01", "350000.00", "USD", "Gadget", "expansion", "East", "Acme",
         ""],
    ],
    "quotas": [["rep_id", "year", "quota"], ["A1", "2026", "400000"], ["A2", "2026", "400000"],
               ["A3", "2026", "400000"], ["M1", "2026", "1200000"]],
    "roster": [
        ["rep_id", "name", "manager_id", "role", "region", "target_incentive", "base_salary",
         "hire_date", "term_date"],
        ["M1", "Mia Manager", "", "Manager", "East", "0", "150000", "2020-01-01", ""],
        ["A1", "Ann Able", "M1", "AE", "East", "40000", "100000", "2021-03-01", ""],
        ["A2", "Ben Baker", "M1", "AE", "West", "40000", "100000", "2022-05-01", ""],
        ["A3", "Cat Cole", "M1", "AE", "West", "40000", "100000", "2023-07-01", ""],
    ],
    "splits": [["deal_id", "rep_id", "share"], ["D2", "A1", "0.6"], ["D2", "A2", "0.4"]],
    "fx": [["currency", "rate"], ["EUR", "1.1"]],
}
TABLE_NAMES = ("deals", "quotas", "roster", "splits", "fx")

#: Alternative seed rows that reach other code paths (periodic quotas, draws, cents).
ALT_TABLES: dict[str, list[list[str]]] = {
    "quotas": [["rep_id", "period_start", "quota"]] + [
        [rep, f"2026-{m:02d}-01", str(q)] for rep, q in (("A1", 100000), ("A2", 90000),
                                                          ("A3", 80000), ("M1", 300000))
        for m in (1, 4, 7, 10)],
    "roster": [
        ["rep_id", "name", "manager_id", "target_incentive", "draw", "draw_type", "hire_date",
         "term_date", "plan"],
        ["M1", "Mia", "", "0", "", "", "2020-01-01", "", "Test AE"],
        ["A1", "Ann", "M1", "40000", "1000", "recoverable", "2026-03-01", "", "Test AE"],
        ["A2", "Ben", "M1", "40000", "500", "non_recoverable", "2021-01-01", "2026-06-30", ""],
        ["A3", "Cat", "A1", "40000", "", "", "", "", ""],
    ],
    "deals": [["deal_id", "rep_id", "close_date", "amount_cents", "product"],
              ["D1", "A1", "2026-02-10 00:00:00.000", "6000000", "Widget"],
              ["D2", "A1", "2026-03-05", "-5000", "Gadget"],
              ["D3", "A2", "2026-11-30", "1000033", ""]],
    "splits": [["deal_id", "rep_id", "share"], ["D2", "A1", "0.333333333"],
               ["D2", "A2", "0.333333333"], ["D2", "A3", "0.333333334"]],
    "fx": [["currency", "rate"], ["EUR", "1.1"], ["gbp", "1.27"], ["JPY", "0.0067"]],
}

# --------------------------------------------------------------------------- value pools

#: Raw YAML scalars (and small flow collections) to put where a plan value was.
ODD_YAML = [
    # numbers, huge, tiny, signed, odd notations
    "1e1000000", "-1e1000000", "1e-1000000", "1e400", "1e-400", "9" * 60, "0." + "0" * 40 + "1",
    "1" + "0" * 5000, "-1", "-0.5", "-0", "0", "0.0", "1", "2", "12", "0.5", "1.0", "100",
    "1_000", "0x10", "0o17", "0b101", "+5", ".5", "5.", "1e3", "1E-2", "12345678901234567890.5",
    ".inf", "-.inf", ".nan", ".NaN", "NaN", "Infinity", "'1e3'", "'NaN'", "'-0.0'", "'0.1'",
    "'١٢٣'", "'１２'", "'½'", "'1,000'", "'$100'", "'100$'", "'=1+1'", "'10%'",
    # dates and times
    "9999-12-01", "9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01", "2026-02-29",
    "2024-02-29", "2026-01-31", "2026-01-01", "2025-12-31", "2027-01-01", "2026-1-1", "2026-01",
    "2026", "20260101", "2026-01-01T10:00:00+05:00", "2026-01-01 00:00:00Z",
    "2026-01-01t23:59:59.999999-12:00", "'2026-01-01'", "10000-01-01",
    # empties, nulls, booleans
    "''", '""', "null", "~", "Null", "yes", "no", "on", "off", "true", "false", "y", "n",
    # strings
    "'$'", "'='", "a=b", "$HOME", "'é中文🙂'", "'\u202eevil'", '"line\\nbreak"', '"tab\\there"',
    '"\\0nul"', '"\\x7f"', '"\\u2028"', "'  padded  '", "'#notcomment'", "x" * 300,
    "ytd", "period", "month", "quarter", "year", "marginal", "retroactive", "cap", "extend",
    "direct", "rollup", "commission", "bonus", "spif", "USD", "EUR", "usd", "US", "€",
    # collections
    "[]", "{}", "[1, 2]", "[0, 1]", "[[0, 0]]", "[[0, 0], [1, 1]]", "[[1, 1], [0, 0]]",
    "[[0, 0, 0]]", "[[-1, -1]]", "[[0, 1e1000000]]", "{a: 1}", "{from: 0, rate: 0.1}",
    "{from: 0, rate: -0.1}", "{from: -1, rate: 0.1}", "{from: 0, bcr_multiple: -2}",
    "{from: 0, rate: 1e1000000}", "{from: 0}", "{amount: -5}", "{ti_multiple: 1e1000000}",
    "{amount: 1, ti_multiple: 1}", "[2026-01-01, 2025-01-01]", "[9999-12-31, 9999-12-31]",
    "[0001-01-01, 9999-12-31]", "[2026-01-01]", "[2026-01-01, 2026-02-01, 2026-03-01]",
    "{product: []}", "{product: [1, 2.5, null]}", "{product: {a: 1}}", "{nope: [x]}",
    "[0.25, 0.25, 0.25, 0.25]", "[1]", "[0.5, 0.5, 0, 0]", "[1e1000000, -1e1000000, 0, 0]",
    "[-1, 2, 0, 0]", "[" + ", ".join(["0.0833333333333333333333333333333333"] * 12) + "]",
    "[" + ", ".join(["1e-1000000"] * 4) + "]",
    # tags (none may construct anything)
    "!!python/object:os.system {}", "!!python/name:os.system", "!!python/object/apply:os.getcwd []",
    "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]", "!!pairs [a: 1]", "!!str 5",
    "!!int 'x'", "!!float 'abc'", "!!float '1e1000000'", "!!int '99999999999999999999'",
    "!!timestamp '2026-13-45'", "!!timestamp 'x'", "!!bool 'maybe'", "!!null 'x'", "!custom x",
    "!<tag:yaml.org,2002:str> x", "!!map {}", "!!seq []", "!!merge x",
    # aliases (undefined, or to an anchor defined elsewhere by the mutator)
    "*undefined", "&anchor 1",
]

#: Keys a mutation may add (real ones, in the wrong place, and odd ones).
KEYS = [
    "plan", "currency", "year_start", "period", "credit", "phasing", "components", "id", "type",
    "filter", "cap", "weight", "attainment", "tiers", "method", "bands", "from", "rate",
    "bcr_multiple", "amount", "ti_multiple", "curve", "above_last", "window", "per_deal",
    "clawback", "product", "deal_type", "region", "account", "start",
    "unknown", "'plan '", "Plan", "1", "1.5", "true", "null", "~", "2026-01-01", "''", "'$x'",
    "'é'", "[a, b]", "{a: 1}", "<<", "? complex", "'a: b'",
]

#: CSV cell values by the kind of column they replace.
ODD_CELLS: dict[str, list[str]] = {
    "date": ["2026", "2026-03", "20260115", "2026-1-5", "2026-01-15T10:00:00+05:00",
             "2026-01-15T23:30:00-08:00", "2026-01-15 00:00:00Z", "2026-01-15T10:00:00+14:00",
             "2026-02-30", "2026-13-01", "0001-01-01", "9999-12-31", "1677-09-21",
             "2262-04-12", "10000-01-01", "-2026-01-01", "2026-W03", "2026-015",
             "15/01/2026", "01/15/2026", "Jan 15 2026", "now", "today", "NaT", "nan",
             "2026-01-15T25:00", "2026-01-15 00:00:00.000", "1996-07-04 00:00:00.000",
             "2026-01-15T00:00:00.123456789", "2026-01-15 12:00", "   2026-01-15  ",
             "2026-01-15T00:00:00+05:00[Asia/Karachi]", "1970-01-01", "2038-01-19",
             "2026-06-15", "2026-12-31", "2026-01-01"],
    "money": ["9999999999999999.99", "-9999999999999999.99", "99999999999999999999",
              "92233720368547758.07", "92233720368547758.08", "-92233720368547758.08",
              "1e308", "-1e308", "1e309", "1e18", "1e-5", "NaN", "nan", "inf", "-inf",
              "Infinity", "(1234)", "$1,234.50", "1,234.50", "1,5", "1,234,567.891",
              "1.2.3", "0", "-0", "+5", "1e2", "1E-2", "0.005", "1234.565", "-1234.565",
              "١٢٣", "１２３", "½", "1_000", "0x10", "12 34", "--1", "1-", ".5", "5.",
              "00001", "1" + "0" * 400, "0." + "0" * 400 + "1", " 7 ", "€5", "5 USD",
              "-0.001", "0.004999", "100", "1", "-1", "0.01"],
    "share": ["0.5", "0.333333333", "0.3333333333", "1", "1.0", "1.0000000001", "0", "-0.5",
              "1e-9", "1e-10", "NaN", "1/3", "50%", "0.5e0", "5e-1", "1e400", "0.1", "0.9",
              "2"],
    "rate": ["1.1", "0", "-1", "1e-400", "1e400", "1e999999999", "NaN", "sNaN", "-NaN",
             "Infinity", "-Infinity", "1_000", "0x1", "١", "1.1.1", "1e-30", "1" * 60,
             "0.0000001", "1,1", " 2 "],
    "year": ["2026", "2026.0", "2026.5", "0", "-1", "99999", "1e3", "2.026e3", "two",
             "2025", "2027", "9999", "1", "1e308", "nan", "٢٠٢٦"],
    "text": ["", " ", "é", "中文", "\u202e", "=cmd|' /C calc'!A0", "+1", "-1", "@x", "a,b",
             'a"b', "a\nb", "a\r\nb", "null", "NA", "N/A", "#N/A", "None", "nan", "NaN", "-",
             "0", "1.0", "5.0", "D1", "A1", "M1", "A2", "EUR", "USD", "usd", "xx" * 200,
             "\t", "\x00", "\x1b[31m", "\ufeff", "💸", "recoverable", "NON_RECOVERABLE",
             "Widget", "Gadget", "East"],
}

#: Column kinds (for choosing cell values).
COLUMN_KIND = {
    "close_date": "date", "cancel_date": "date", "hire_date": "date", "term_date": "date",
    "period_start": "date", "amount": "money", "amount_cents": "money", "quota": "money",
    "quota_cents": "money", "target_incentive": "money", "base_salary": "money",
    "draw": "money", "share": "share", "rate": "rate", "year": "year",
}

#: Column names a header mutation may introduce.
ODD_COLUMNS = [
    "deal_id", "rep_id", "close_date", "amount", "amount_cents", "currency", "quota", "year",
    "period_start", "quota_cents", "share", "rate", "manager_id", "draw", "draw_type", "plan",
    "Deal_ID", " deal_id ", "DEAL_ID", "\ufeffdeal_id", "", "Unnamed: 0", "deal_id.1", "0",
    "é", "amount ", "rep id", "rep_id\x00", "=SUM(A1)", "a,b", 'q"uote', "x" * 500,
]

BAD_BYTES = [b"\xff", b"\xfe", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
             b"\xc0\xaf", b"\x00", b"\x01", b"\x1b", b"\x7f", b"\r", b"\r\n", b"\n",
             b"\xef\xbb\xbf", b"\xc2\x85", b"\xe2\x80\xa8", b"\xef\xbf\xbe", b"\t", b'"', b"'"]

# --------------------------------------------------------------------------- plan cases


class _Map(list):
    """A mapping as a list of (key, value) pairs, so keys may repeat."""


def _to_tree(data: object) -> object:
    if isinstance(data, dict):
        return _Map([k, _to_tree(v)] for k, v in data.items())
    if isinstance(data, list):
        return [_to_tree(v) for v in data]
    return data if isinstance(data, str) else str(data)


def _emit(node: object, indent: int, rng: random.Random) -> list[str]:
    """Block-style YAML lines for a tree of _Map, list and raw scalar text."""
    pad = " " * indent
    if isinstance(node, (_Map, list)) and (not node or rng.random() < 0.15):
        return [pad + _flow(node)]
    if isinstance(node, _Map):
        lines = []
        for key, value in node:
            if isinstance(value, (_Map, list)) and value and rng.random() > 0.15:
                lines.append(f"{pad}{key}:")
                lines += _emit(value, indent + 2, rng)
            else:
                lines.append(f"{pad}{key}: {_flow(value)}")
        return lines
    if isinstance(node, list):
        lines = []
        for item in node:
            sub = _emit(item, indent + 2, rng)
            sub[0] = pad + "- " + sub[0].lstrip()
            lines += sub
        return lines
    return [pad + str(node)]


def _flow(node: object) -> str:
    if isinstance(node, _Map):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in node) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(_flow(v) for v in node) + "]"
    return str(node)


def _containers(node: object, out: list) -> list:
    if isinstance(node, (_Map, list)):
        out.append(node)
        for item in node:
            _containers(item[1] if isinstance(node, _Map) else item, out)
    return out


def _odd_value(rng: random.Random, tree: object) -> object:
    r = rng.random()
    if r < 0.75:
        return rng.choice(ODD_YAML)
    if r < 0.9:  # a value from elsewhere in the plan (a swap of types and places)
        nodes = _containers(tree, [])
        node = rng.choice(nodes)
        if node:
            item = rng.choice(node)
            return _copy(item[1] if isinstance(node, _Map) else item)
        return "[]"
    return _Map([[rng.choice(KEYS), rng.choice(ODD_YAML)]])


def _mutate_tree(tree: _Map, rng: random.Random) -> None:
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
        nodes = [n for n in _containers(tree, []) if isinstance(n, (_Map, list))]
        node = rng.choice(nodes)
        op = rng.random()
        if not node:
            node.append([rng.choice(KEYS), _odd_value(rng, tree)] if isinstance(node, _Map)
                        else _odd_value(rng, tree))
        elif op < 0.25:  # delete a key or item
            del node[rng.randrange(len(node))]
        elif op < 0.65:  # replace a value
            i = rng.randrange(len(node))
            if isinstance(node, _Map):
                node[i] = [node[i][0], _odd_value(rng, tree)]
            else:
                node[i] = _odd_value(rng, tree)
        elif op < 0.75:  # add a key or item
            if isinstance(node, _Map):
                node.insert(rng.randrange(len(node) + 1), [rng.choice(KEYS),
                                                           _odd_value(rng, tree)])
            else:
                node.append(_odd_value(rng, tree))
        elif op < 0.85:  # repeat a key or item (more bands, components, duplicate keys)
            i = rng.randrange(len(node))
            node.insert(i + 1, _copy(node[i]))
        elif op < 0.92:  # rename a key
            if isinstance(node, _Map):
                i = rng.randrange(len(node))
                node[i] = [rng.choice(KEYS), node[i][1]]
        else:  # wrap a value in a list or a mapping
            i = rng.randrange(len(node))
            value = node[i][1] if isinstance(node, _Map) else node[i]
            wrapped = [value] if rng.random() < 0.5 else _Map([[rng.choice(KEYS), value]])
            if isinstance(node, _Map):
                node[i] = [node[i][0], wrapped]
            else:
                node[i] = wrapped


def _copy(node: object) -> object:
    if isinstance(node, _Map):
        return _Map([_copy(k), _copy(v)] for k, v in node)
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


def billion_laughs(depth: int, width: int) -> str:
    """A plan whose ``plan:`` value expands to width**depth strings through aliases."""
    lines = ["a0: &a0 [lol]"]
    for i in range(1, depth + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + f"\nplan: *a{depth}\n"


def deep_nesting(depth: int, kind: str) -> str:
    if kind == "flow":
        return "plan: x\ncomponents: " + "[" * depth + "]" * depth + "\n"
    if kind == "map":
        return "plan: x\nphasing: " + "{a: " * depth + "1" + "}" * depth + "\n"
    return "".join(" " * i + "a:\n" for i in range(depth)) + " " * depth + "a: 1\n"


def _yaml_feature(text: str, rng: random.Random, heavy: bool) -> str:
    """Insert one YAML feature: anchors/aliases, tags, merge keys, documents, nesting."""
    lines = text.splitlines()
    k = rng.randrange(len(lines) + 1) if lines else 0
    choice = rng.randrange(14)
    if choice == 0:  # anchor a value, alias it elsewhere
        scalar = [i for i, ln in enumerate(lines) if re.search(r": \S", ln)]
        if len(scalar) >= 2:
            a, b = rng.sample(scalar, 2)
            lines[a] = re.sub(r": ", ": &x ", lines[a], count=1)
            lines[b] = re.sub(r": .*", ": *x", lines[b], count=1)
        return "\n".join(lines) + "\n"
    if choice == 1:  # a recursive alias
        return text + rng.choice(["loop: &r [*r]\n", "loop: &r {a: *r}\n",
                                  "components: &r [*r]\n", "phasing: &r [1, *r]\n"])
    if choice == 2:  # a small alias fan-out (big ones only in heavy mode)
        depth, width = (rng.randint(6, 10), rng.randint(6, 10)) if heavy else \
            (rng.randint(1, 3), rng.randint(1, 4))
        return billion_laughs(depth, width) + "\n".join(
            ln for ln in lines if not ln.startswith("plan:")) + "\n"
    if choice == 3:  # deep nesting
        depth = rng.choice([50, 200, 400, 1000, 3000]) if not heavy else \
            rng.choice([10_000, 100_000])
        body = deep_nesting(depth, rng.choice(["flow", "map", "block"]))
        return body if rng.random() < 0.5 else text + body.split("\n", 1)[1]
    if choice == 4:  # merge keys
        lines.insert(k, rng.choice(["<<: {period: month}", "base: &b {period: year}",
                                    "<<: *b", "<<: [*b]"]))
        return "\n".join(lines) + "\n"
    if choice == 5:  # documents and directives
        return rng.choice(["---\n" + text, text + "---\nplan: again\n", "%YAML 1.1\n---\n" + text,
                           "%YAML 2.0\n---\n" + text, "%TAG ! tag:x,2000:\n---\n" + text,
                           text + "...\n", "--- !!map\n" + text, "---\n...\n"])
    if choice == 6:  # a complex key
        lines.insert(k, rng.choice(["? [a, b]\n: 1", "? {a: 1}\n: 2", "? |\n  block\n: 3",
                                    "[a, b]: 1", "{a: 1}: 2", "*undefined : 1"]))
        return "\n".join(lines) + "\n"
    if choice == 7:  # block scalars
        lines.insert(k, rng.choice(["plan: |\n  line one\n  line two",
                                    "plan: >-\n  folded\n  text", "plan: |+\n\n\n",
                                    "currency: |\n  USD"]))
        return "\n".join(lines) + "\n"
    if choice == 8:  # a huge value
        size = 10_000_000 if heavy else 50_000
        return text + rng.choice([f"plan: {'x' * size}\n", f"weight: {'9' * size}\n",
                                  f"weight: 0.{'1' * size}\n", f"weight: 1e{'9' * 50}\n",
                                  f"phasing: [{', '.join(['0'] * (size // 10))}]\n"])
    if choice == 9:  # many components or bands
        n = 20_000 if heavy else 200
        comp = ("  - {id: c%d, type: commission, tiers: {bands: [{from: 0, rate: 0.1}, "
                "{from: 1, rate: 0.2}]}}")
        return (text.split("components:")[0] + "components:\n"
                + "\n".join(comp % i for i in range(n)) + "\n")
    if choice == 10:  # tabs, odd indentation
        lines = [ln.replace("  ", "\t", 1) if rng.random() < 0.2 else ln for ln in lines]
        return "\n".join(lines) + "\n"
    if choice == 11:  # only comments / nothing / a bare scalar or list
        return rng.choice(["", "\n", "# only a comment\n", "plan\n", "- a\n- b\n", "42\n",
                           "null\n", "~\n", "[]\n", "{}\n", "'text'\n", "!!binary aGk=\n",
                           "&a x\n", "*a\n", "?\n", ":\n", "-\n"])
    if choice == 12:  # a tag on a collection
        i = [j for j, ln in enumerate(lines) if ln.rstrip().endswith(":")]
        if i:
            j = rng.choice(i)
            lines[j] += " " + rng.choice(["!!omap", "!!set", "!!python/tuple", "!!seq", "!!str",
                                          "!!map", "!custom"])
        return "\n".join(lines) + "\n"
    # duplicate top-level key, or a key repeated with another value
    top = [ln for ln in lines if re.match(r"^[a-z_]+:", ln)]
    if top:
        lines.insert(k, rng.choice(top))
    return "\n".join(lines) + "\n"


def _mutate_text(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.choice([1, 1, 2, 3])):
        op = rng.randrange(8)
        if not lines:
            lines = [""]
        i = rng.randrange(len(lines))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            lines[i] = (" " * rng.choice([1, 2, 4])) + lines[i] if rng.random() < 0.5 \
                else lines[i].lstrip()
        elif op == 4:  # one character in
            ch = rng.choice([":", "-", "[", "]", "{", "}", "&", "*", "!", "|", ">", "#", "'",
                             '"', "\t", "%", "@", "`", ",", "?", "\x00", "\x01", "\x7f", "\x85",
                             "\ufeff", "\u2028", "\ufffe", "\U0001f4b8", "é", "\\", " "])
            pos = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:pos] + ch + lines[i][pos:]
        elif op == 5:  # a scalar value replaced by an odd one
            lines[i] = re.sub(r"(: |- )[^\n{\[]*$", lambda m: m.group(1) + rng.choice(ODD_YAML),
                              lines[i], count=1)
        elif op == 6:  # a number inside a flow collection replaced
            nums = list(re.finditer(r"-?\d[\d.eE_+-]*", lines[i]))
            if nums:
                m = rng.choice(nums)
                lines[i] = lines[i][:m.start()] + rng.choice(ODD_YAML) + lines[i][m.end():]
        else:  # cut the text short
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: rng.randrange(len(lines[-1]) + 1)]
    return "\n".join(lines)


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    op = rng.randrange(8)
    if op == 0:
        return b"\xef\xbb\xbf" + data
    if op == 1:
        return data.replace(b"\n", b"\r\n")
    if op == 2:
        return data.replace(b"\n", b"\r")
    if op == 3:
        text = data.decode("utf-8", "replace")
        return text.encode(rng.choice(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252",
                                       "utf-8-sig"]), "replace")
    if op == 4:
        return data[: rng.randrange(len(data) + 1)]
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        pos = rng.randrange(len(out) + 1)
        out[pos:pos] = rng.choice(BAD_BYTES)
    return bytes(out)


def plan_case(rng: random.Random, *, heavy: bool = False, seeds: list[str] | None = None
              ) -> bytes:
    """The bytes of one plan file: a mutation of a known-good plan.

    ``heavy`` allows inputs that need the memory and time limits of a subprocess (alias
    bombs, nesting 100,000 deep, values of 10 MB).
    """
    seed = rng.choice(seeds or SEED_PLANS)
    r = rng.random()
    if r < 0.05:
        text = seed  # the plan as it is (keeps the good path exercised)
    elif r < 0.2:
        return plan_leaf_case(rng, [seed])
    elif r < 0.6:
        tree = _to_tree(yaml.load(seed, Loader=yaml.BaseLoader))
        _mutate_tree(tree, rng)
        text = "\n".join(_emit(tree, 0, rng)) + "\n"
    elif r < 0.8:
        text = _mutate_text(seed, rng)
    else:
        text = _yaml_feature(seed, rng, heavy)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.12:
        data = _mutate_bytes(data, rng)
    return data


#: Well-formed but extreme values for one leaf of a plan (they pass the YAML reader and
#: often the model, so they reach the engine).
EXTREME_YAML = [
    "1e1000000", "-1e1000000", "1e400", "1e-400", "1e-1000000", "9" * 60, "0." + "0" * 40 + "1",
    "-1", "-0.5", "-0", "0", "1e-30", "1e30", "1e15", "123456789012345678901234567890",
    "0.000001", "1000000", "0.3333333333333333333333333333333333333", "2", "100",
    "9999-12-01", "9999-12-31", "9999-01-01", "0001-01-01", "0001-02-01", "1900-03-01",
    "2026-02-01", "2026-12-31", "2025-01-01", "2024-02-29", "1970-01-01",
    "month", "year", "quarter", "retroactive", "marginal", "extend", "cap", "rollup", "direct",
    "period", "ytd", "true", "false", "EUR", "JPY", "''",
]


def plan_leaf_case(rng: random.Random, seeds: list[str] | None = None) -> bytes:
    """A good plan with one or two scalar values replaced by extreme, well-formed ones."""
    tree = _to_tree(yaml.load(rng.choice(seeds or SEED_PLANS), Loader=yaml.BaseLoader))
    leaves = []
    for node in _containers(tree, []):
        for i, item in enumerate(node):
            value = item[1] if isinstance(node, _Map) else item
            if isinstance(value, str):
                leaves.append((node, i))
    for _ in range(rng.choice([1, 1, 2])):
        node, i = rng.choice(leaves)
        new = rng.choice(EXTREME_YAML)
        if isinstance(node, _Map):
            node[i] = [node[i][0], new]
        else:
            node[i] = new
    return ("\n".join(_emit(tree, 0, rng)) + "\n").encode()


SEED_PLANS = seed_plans()

# --------------------------------------------------------------------------- table cases


def _cell(rng: random.Random, column: str) -> str:
    kind = COLUMN_KIND.get(column.strip().lower(), "text")
    pool = ODD_CELLS[kind] if rng.random() < 0.8 else ODD_CELLS[rng.choice(list(ODD_CELLS))]
    return rng.choice(pool)


def _mutate_rows(rows: list[list[str]], rng: random.Random, heavy: bool) -> list[list[str]]:
    rows = [list(r) for r in rows]
    header = rows[0]
    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3, 5])):
        op = rng.random()
        width = len(rows[0])
        if op < 0.45 and len(rows) > 1:  # one cell
            r = rng.randrange(1, len(rows))
            c = rng.randrange(max(len(rows[r]), 1))
            if c < len(rows[r]):
                rows[r][c] = _cell(rng, header[c] if c < len(header) else "")
        elif op < 0.52 and len(rows) > 1:  # a whole column
            c = rng.randrange(width)
            value = _cell(rng, header[c])
            for row in rows[1:]:
                if c < len(row):
                    row[c] = value
        elif op < 0.57:  # duplicate a column (same name, or renamed onto another)
            c = rng.randrange(width)
            if rng.random() < 0.5:
                for row in rows:
                    row.append(row[c] if c < len(row) else "")
            else:
                rows[0][rng.randrange(width)] = rows[0][c]
        elif op < 0.63 and width > 1:  # drop a column
            c = rng.randrange(width)
            for row in rows:
                if c < len(row):
                    del row[c]
        elif op < 0.68:  # rename a column
            rows[0][rng.randrange(width)] = rng.choice(ODD_COLUMNS)
        elif op < 0.71:  # add an unknown or known column
            name = rng.choice(ODD_COLUMNS)
            rows[0].append(name)
            for row in rows[1:]:
                row.append(_cell(rng, name))
        elif op < 0.77 and len(rows) > 1:  # delete rows / header only
            if rng.random() < 0.2:
                rows = rows[:1]
            else:
                del rows[rng.randrange(1, len(rows))]
        elif op < 0.84 and len(rows) > 1:  # duplicate a row
            r = rng.randrange(1, len(rows))
            rows.insert(r, list(rows[r]))
        elif op < 0.88:  # ragged row, blank row
            rows.insert(rng.randrange(1, len(rows) + 1),
                        rng.choice([[], [""], [""] * width, ["x"] * (width + 2), ["x"],
                                    [_cell(rng, "")] * (width - 1)]))
        elif op < 0.94 and len(rows) > 1:  # many copies of a row, amounts huge or not
            r = rng.randrange(1, len(rows))
            n = rng.choice([10, 50, 300]) if not heavy else rng.choice([1000, 200_000])
            row = list(rows[r])
            if rng.random() < 0.5:
                for c, name in enumerate(header):
                    if COLUMN_KIND.get(name) == "money" and c < len(row):
                        row[c] = rng.choice(["9999999999999999.99", "92233720368547758.07",
                                             "-9999999999999999.99", "1e18"])
            copies = []
            id_col = header.index("deal_id") if "deal_id" in header else None
            for k in range(n):
                new = list(row)
                if id_col is not None and id_col < len(new) and rng.random() < 0.9:
                    new[id_col] = f"{new[id_col]}x{k}"
                copies.append(new)
            rows[r + 1:r + 1] = copies
        elif op < 0.97:  # shuffle the columns
            order = list(range(width))
            rng.shuffle(order)
            rows = [[row[i] for i in order if i < len(row)] for row in rows]
        else:  # header row twice
            rows.insert(rng.randrange(1, len(rows) + 1), list(rows[0]))
    return rows


def _write_csv(rows: list[list[str]], rng: random.Random) -> bytes:
    buf = io.StringIO()
    quoting = rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL,
                          csv.QUOTE_NONNUMERIC])
    eol = rng.choice(["\n", "\n", "\r\n", "\r"])
    csv.writer(buf, quoting=quoting, lineterminator=eol).writerows(rows)
    text = buf.getvalue()
    if rng.random() < 0.1:
        text = text.rstrip("\r\n")  # no final newline
    if rng.random() < 0.1:
        text = "\ufeff" + text
    encoding = "utf-8" if rng.random() < 0.9 else rng.choice(["latin-1", "cp1252", "utf-16",
                                                              "utf-8-sig"])
    data = text.encode(encoding, "replace" if encoding != "utf-8" else "surrogatepass")
    if rng.random() < 0.1:
        data = _mutate_bytes(data, rng)
    return data


def table_case(rng: random.Random, table: str, *, heavy: bool = False) -> bytes:
    """The bytes of one CSV file for ``table``: a mutation of a known-good table."""
    seed = TABLES[table] if table not in ALT_TABLES or rng.random() < 0.6 else ALT_TABLES[table]
    r = rng.random()
    if r < 0.03:
        return rng.choice([b"", b"\n", b"\xef\xbb\xbf", b",,,\n", b'"', b"\x00" * 10,
                           b"a\n" * 5])
    return _write_csv(_mutate_rows(seed, rng, heavy), rng)


def _valid_csv(table: str, alt: bool = False) -> bytes:
    rows = ALT_TABLES[table] if alt and table in ALT_TABLES else TABLES[table]
    return ("\n".join(",".join(r) for r in rows) + "\n").encode()


def tables_case(rng: random.Random, *, heavy: bool = False) -> dict[str, bytes | None]:
    """All five tables: one or two mutated, the others as they are or left out."""
    out: dict[str, bytes | None] = {}
    mutated = set(rng.sample(TABLE_NAMES, rng.choice([1, 1, 1, 2])))
    for table in TABLE_NAMES:
        if table in mutated:
            out[table] = table_case(rng, table, heavy=heavy)
        elif table not in ("deals", "quotas") and rng.random() < 0.3:
            out[table] = None
        else:
            out[table] = _valid_csv(table, alt=rng.random() < 0.2)
    return out


def validate_case(rng: random.Random, *, heavy: bool = False) -> dict[str, bytes | None]:
    """A plan and its tables: most often one of them mutated."""
    r = rng.random()
    if r < 0.25:
        seed = rng.choice([PLAN_2026, PLAN_MONTHLY])
        plan = plan_leaf_case(rng, seeds=[seed])
        tables = {t: _valid_csv(t, alt=rng.random() < 0.3
                                and not (t == "quotas" and seed == PLAN_MONTHLY))
                  for t in TABLE_NAMES}
    elif r < 0.45:
        plan = plan_case(rng, heavy=heavy, seeds=[PLAN_2026, PLAN_MONTHLY])
        tables = {t: _valid_csv(t) for t in TABLE_NAMES}
    elif r < 0.9:
        plan = rng.choice([PLAN_2026, PLAN_MONTHLY, *SEED_PLANS]).encode()
        tables = tables_case(rng, heavy=heavy)
    else:
        plan = plan_case(rng, heavy=heavy)
        tables = tables_case(rng, heavy=heavy)
    return {"plan": plan, **tables}


# --------------------------------------------------------------------------- known cases


def _good_files() -> dict[str, bytes | None]:
    return {"plan": PLAN_2026.encode(), **{t: _valid_csv(t) for t in TABLE_NAMES}}


def _plan_with(old: str, new: str, plan: str = PLAN_2026) -> bytes:
    assert old in plan, old
    return plan.replace(old, new, 1).encode()


def _validate_with(**files: str | bytes) -> dict[str, bytes | None]:
    out = _good_files()
    for name, value in files.items():
        out[name] = value.encode() if isinstance(value, str) else value
    return out


_DEALS = ",".join(TABLES["deals"][0][:4]) + "\n"

#: Inputs found by fuzzing (or asked for in issue 13) that once broke the contract, kept
#: as fixed cases so a regression fails every run whatever the random generators draw.
#: Each is (id, target, case); the target is "plan" (bytes) or "validate" (files).
KNOWN_CASES: list[tuple[str, str, object]] = [
    ("plan-control-character", "plan", b"plan: Test\x01AE\n"),
    ("plan-noncharacter-U+FFFE", "plan", "plan: x\ufffe\n".encode()),
    ("plan-recursive-alias", "plan", _plan_with("plan: Test AE\n", "plan: Test AE\nx: &r [*r]\n")),
    ("plan-recursive-alias-map", "plan", b"plan: &r {a: *r}\n"),
    ("plan-bad-timestamp-tag", "plan", b"plan: !!timestamp 'x'\n"),
    ("plan-bad-tagged-values", "plan",
     b"a: !!int 'x'\nb: !!float 'x'\nc: !!bool 'x'\nd: !!null 'x'\ne: !!binary '!'\n"),
    ("plan-nesting-1000", "plan", deep_nesting(1000, "flow").encode()),
    ("plan-block-nesting-300", "plan", deep_nesting(300, "block").encode()),
    ("plan-alias-fan-out", "plan", billion_laughs(6, 8).encode()),
    ("plan-int-5000-digits", "plan", _plan_with("weight: 0.5", "weight: 1" + "0" * 5000)),
    ("plan-weight-1e1000000", "plan", _plan_with("weight: 0.5", "weight: 1e1000000")),
    ("plan-negative-rate", "plan", _plan_with("rate: 0.20", "rate: -0.2")),
    ("plan-latin-1", "plan", _plan_with("Test AE", "Test \xc9quipe").decode().encode("latin-1")),
    ("plan-utf-16", "plan", PLAN_2026.encode("utf-16")),
    ("validate-year-start-9999-12", "validate",
     _validate_with(plan=_plan_with("year_start: 2026-01-01", "year_start: 9999-12-01"))),
    ("validate-window-to-9999", "validate",
     _validate_with(plan=_plan_with("window: [2026-01-01, 2026-03-31]",
                                    "window: [2026-01-01, 9999-12-31]"))),
    ("validate-fx-rate-1e999999999", "validate",
     _validate_with(fx="currency,rate\nEUR,1e999999999\n")),
    ("validate-fx-rate-1e-999999999", "validate",
     _validate_with(fx="currency,rate\nEUR,1e-999999999\n")),
    ("validate-amounts-overflow", "validate",
     _validate_with(deals=_DEALS + "".join(f"D{i},A1,2026-02-10,9999999999999999.99\n"
                                           for i in range(10)))),
    ("validate-time-zones", "validate",
     _validate_with(deals=_DEALS + "D1,A1,2026-03-31T23:30:00-08:00,100\n"
                                   "D2,A1,2026-01-15T10:00:00+05:00,100\n")),
    ("validate-partial-dates", "validate",
     _validate_with(deals=_DEALS + "D1,A1,2026,100\nD2,A1,2026-03,100\nD3,A1,20260115,1\n")),
    ("validate-duplicate-headers", "validate",
     _validate_with(deals="deal_id,rep_id,close_date,amount,amount\nD1,A1,2026-01-15,1,2\n",
                    quotas="rep_id,year,quota,year\nA1,2026,1,2027\n")),
    ("validate-not-utf-8", "validate",
     _validate_with(deals=_DEALS.encode() + b"D1,A1,2026-01-15,1\xff\n")),
    # row independence and the date and amount oracles (check_table_rows)
    ("rows-mixed-time-zones", "rows:deals",
     (_DEALS + "D1,A1,2026-03-31T23:30:00-08:00,100\n"
      "D2,A1,2026-01-15T10:00:00+05:00,100\n").encode()),
    ("rows-time-zone-and-plain", "rows:deals",
     (_DEALS + "D1,A1,2026-03-31T23:30:00-08:00,100\nD2,A1,2026-01-15,100\n").encode()),
    ("rows-date-and-date-time", "rows:roster",
     b"rep_id,hire_date\nA1,2026-01-15\nA2,2026-01-15 10:00\n"),
    ("rows-year-only", "rows:deals", (_DEALS + "D1,A1,2026,100\n").encode()),
    ("rows-year-month", "rows:deals", (_DEALS + "D1,A1,2026-03,100\n").encode()),
    ("rows-amount-beyond-int64", "rows:deals",
     (_DEALS + "D1,A1,2026-01-15,92233720368547758.08\n").encode()),
    ("rows-amount-rounding", "rows:deals",
     (_DEALS + "D1,A1,2026-01-15,9999999999999999.995\nD2,A1,2026-01-15,-0.005\n").encode()),
]


def check_known(target: str, case: object, folder: Path) -> str:
    if target == "plan":
        return check_plan(case, folder)
    if target == "validate":
        return check_validate(case, folder)
    return check_table_rows(target.split(":")[1], case, folder)


# --------------------------------------------------------------------------- targets


class FuzzTimeout(Exception):
    """An example ran longer than :data:`EXAMPLE_SECONDS` (a hang is a failure too)."""


class MemoryExceeded(Exception):
    """The process's peak memory crossed :data:`MEMORY_LIMIT` during an example."""


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


@contextlib.contextmanager
def guard(seconds: float = EXAMPLE_SECONDS) -> Iterator[None]:
    """Fail an example that runs too long or pushes peak memory past the limit."""
    before = _peak_rss()
    use_alarm = threading.current_thread() is threading.main_thread() and seconds > 0

    def expire(signum, frame):
        raise FuzzTimeout(f"the example ran longer than {seconds:g} s")

    if use_alarm:
        old = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    after = _peak_rss()
    if before < MEMORY_LIMIT <= after:
        raise MemoryExceeded(f"peak memory rose to {after / 2**30:.2f} GB during the example")


def _write(folder: Path, files: dict[str, bytes | None]) -> dict[str, Path | None]:
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path | None] = {}
    for name, data in files.items():
        if data is None:
            paths[name] = None
            continue
        path = folder / (f"{name}.yaml" if name == "plan" else f"{name}.csv")
        path.write_bytes(data)
        paths[name] = path
    return paths


def check_plan(data: bytes, folder: Path) -> str:
    """``load_plan`` on a file with these bytes: a Plan or a SpmkitError.  A plan that
    loads must also survive ``to_yaml`` and read back equal."""
    from spmkit.errors import SpmkitError
    from spmkit.plan import load_plan

    path = _write(folder, {"plan": data})["plan"]
    try:
        plan = load_plan(path)
    except SpmkitError:
        return "error"
    again = load_plan(plan.to_yaml(), name="round trip")
    assert again == plan, f"plan changed on a to_yaml round trip:\n{plan!r}\n{again!r}"
    return "ok"


def check_table(table: str, data: bytes, folder: Path) -> str:
    """``load_<table>`` on a CSV file with these bytes: a frame or a SpmkitError."""
    from spmkit import tables
    from spmkit.errors import SpmkitError

    path = _write(folder, {table: data})[table]
    loader = getattr(tables, f"load_{table}")
    try:
        loader(path)
    except SpmkitError:
        return "error"
    return "ok"


#: Columns that identify a row of each table in the loaded frame.
KEYS_OF = {"deals": ["deal_id"], "quotas": ["rep_id", "period_start", "year"],
           "roster": ["rep_id"], "splits": ["deal_id", "rep_id"], "fx": ["currency"]}
_PLAIN_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$")
_FULL_DATE = re.compile(r"^\s*\d{4}-?\d{2}-?\d{2}(?![\d-])")


def _csv_rows(data: bytes) -> list[list[str]] | None:
    try:
        text = data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except (UnicodeDecodeError, csv.Error):
        return None
    return rows if rows else None


def _keyed(frame, keys: list[str]) -> dict[tuple, dict]:
    out = {}
    for rec in frame.to_dict("records"):
        out[tuple(str(rec.get(k)) for k in keys)] = rec
    return out


def _same(a: object, b: object) -> bool:
    import pandas as pd

    if a is b:
        return True
    try:
        if pd.isna(a) and pd.isna(b):
            return True
    except (TypeError, ValueError):
        pass
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def check_table_rows(table: str, data: bytes, folder: Path) -> str:
    """Beyond not crashing, for a table that loads:

    - order: the same rows in reverse order load too, to the same values;
    - independence: a row loaded on its own (if it loads) has the values it had among
      the others (a date or an amount must not depend on the other rows);
    - dates: an accepted date was written as a full calendar date (YYYY-MM-DD, with or
      without a time part), never a bare year or year-month;
    - amounts: an accepted plain decimal amount is its exact value in cents, rounded half
      away from zero (so nothing beyond int64 is accepted).
    """
    from decimal import ROUND_HALF_UP, Decimal

    from spmkit import tables
    from spmkit.errors import SpmkitError

    loader = getattr(tables, f"load_{table}")
    path = _write(folder, {table: data})[table]
    try:
        full = loader(path)
    except SpmkitError:
        return "error"
    rows = _csv_rows(data)
    if rows is None or len(rows) < 2:
        return "ok"
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        return "ok"  # which duplicate a loader reads is its own business
    # the header line is kept as it is (BOMs, quotes); the rows are written anew
    first = re.match(rb"[^\r\n]*(\r\n|\r|\n)", data)
    if first is None or _csv_rows(first.group(0)) != [rows[0]]:
        return "ok"
    head = first.group(0)
    keys = KEYS_OF[table]
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    if not body:
        return "ok"

    def write(path: Path, body_rows: list[list[str]]) -> None:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(body_rows)
        path.write_bytes(head + buf.getvalue().encode())

    # order
    rev = folder / f"{table}-reversed.csv"
    write(rev, list(reversed(body)))
    try:
        again = loader(rev)
    except SpmkitError as exc:
        raise AssertionError(f"{table}: loads, but not with its rows reversed: {exc}") from None
    a, b = _keyed(full, keys), _keyed(again, keys)
    assert a.keys() == b.keys(), f"{table}: other rows when reversed: {a.keys() ^ b.keys()}"
    for k, rec in a.items():
        for col, value in rec.items():
            assert _same(value, b[k][col]), (
                f"{table}: row {k} column {col!r} is {value!r} in file order but "
                f"{b[k][col]!r} with the rows reversed")
    # independence, dates, amounts: on one row chosen by the data
    row = body[len(data) % len(body)]
    one = folder / f"{table}-one.csv"
    write(one, [row])
    try:
        alone = loader(one)
    except SpmkitError:
        return "ok"  # a row may need the others (split shares summing to 1, managers)
    if len(alone) != 1:
        return "ok"
    rec = alone.to_dict("records")[0]
    k = tuple(str(rec.get(c)) for c in keys)
    if k in a:
        for col, value in rec.items():
            assert _same(value, a[k][col]), (
                f"{table}: row {k} column {col!r} is {a[k][col]!r} among the other rows "
                f"but {value!r} on its own")
    cells = dict(zip(header, row, strict=False))
    for col, text in cells.items():
        kind = COLUMN_KIND.get(col)
        out_col = col if col in rec else f"{col}_cents" if f"{col}_cents" in rec else None
        if kind is None or out_col is None or not text.strip():
            continue
        value = rec[out_col]
        if kind == "date" and not _same(value, None):
            assert _FULL_DATE.match(text), (
                f"{table}: {col} {text!r} is not a full date (YYYY-MM-DD) but loaded as "
                f"{value!r}")
        if kind == "money" and _PLAIN_NUMBER.match(text):
            exact = Decimal(text.strip())
            if not col.endswith("_cents"):
                exact = (exact * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            assert exact == int(value), (
                f"{table}: {col} {text!r} loaded as {value!r} cents, not {exact} "
                f"({'beyond int64' if abs(exact) >= 2**63 else 'wrong'})")
    return "ok"


def check_inputs(files: dict[str, bytes | None], folder: Path, currency: str | None = "USD"
                 ) -> str:
    """``load_inputs`` on the five tables (cross checks included)."""
    from spmkit.errors import SpmkitError
    from spmkit.tables import load_inputs

    paths = _write(folder, files)
    try:
        load_inputs(paths["deals"], paths["quotas"], paths["roster"], paths["splits"],
                    paths["fx"], currency=currency)
    except SpmkitError:
        return "error"
    return "ok"


def cli_args(paths: dict[str, Path | None]) -> list[str]:
    args = ["validate", "--plan", str(paths["plan"])]
    for table in TABLE_NAMES:
        if paths.get(table) is not None:
            args += [f"--{table}", str(paths[table])]
    return args


def check_validate(files: dict[str, bytes | None], folder: Path) -> str:
    """``spmkit --debug validate`` in process: exit 0, or a SpmkitError (exit 2 without
    --debug) or an OSError (the CLI's exit 2 for unreadable paths); nothing else."""
    from spmkit.cli import main
    from spmkit.errors import SpmkitError

    paths = _write(folder, files)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(["--debug", *cli_args(paths)])
    except (SpmkitError, OSError):
        return "error"
    assert rc == 0, f"spmkit validate returned {rc}; stderr: {err.getvalue()[-2000:]}"
    return "ok"


# --------------------------------------------------------------------------- subprocess


def _limit_memory() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_cli(files: dict[str, bytes | None], folder: Path, timeout: float = 120
            ) -> tuple[int, str, str]:
    """``python -m spmkit.cli validate`` on these files, under a 2 GB address-space limit.
    Returns (exit status, stdout, stderr); a timeout is reported as status -999."""
    import subprocess

    paths = _write(folder, files)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        proc = subprocess.run([sys.executable, "-m", "spmkit.cli", *cli_args(paths)],
                              capture_output=True, text=True, errors="replace", timeout=timeout,
                              preexec_fn=_limit_memory, env=env, cwd=folder)
    except subprocess.TimeoutExpired as exc:
        return -999, "", f"timed out after {timeout:g} s; stderr: {exc.stderr!r}"
    return proc.returncode, proc.stdout, proc.stderr


def cli_problem(rc: int, stderr: str) -> str | None:
    """Why this CLI outcome breaks the contract, or None."""
    if rc not in (0, 2):
        return f"exit status {rc}"
    for word in ("Traceback", "internal error", "MemoryError"):
        if word in stderr:
            return f"{word!r} on stderr"
    if rc == 2 and "error:" not in stderr:
        return "exit 2 without an error message"
    return None


# --------------------------------------------------------------------------- campaign

TARGETS: dict[str, tuple[Callable[[random.Random], object], Callable[[object, Path], str]]] = {
    "plan": (lambda rng: plan_case(rng), check_plan),
    **{f"table:{t}": ((lambda rng, t=t: table_case(rng, t)),
                      (lambda data, folder, t=t: check_table(t, data, folder)))
       for t in TABLE_NAMES},
    **{f"rows:{t}": ((lambda rng, t=t: table_case(rng, t)),
                     (lambda data, folder, t=t: check_table_rows(t, data, folder)))
       for t in TABLE_NAMES},
    "inputs": (lambda rng: tables_case(rng), check_inputs),
    "validate": (lambda rng: validate_case(rng), check_validate),
}


@dataclass
class Failure:
    signature: tuple[str, ...]
    target: str
    case: object
    error: str
    trace: str
    count: int = 1
    seeds: list[int] = field(default_factory=list)


def signature(exc: BaseException) -> tuple[str, ...]:
    """Type, innermost spmkit frame and innermost frame: one bug, one signature."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if "/spmkit/" in f.filename and "/tests/" not in f.filename]
    where = f"{Path(mine[-1].filename).name}:{mine[-1].name}" if mine else "-"
    last = f"{Path(frames[-1].filename).name}:{frames[-1].name}" if frames else "-"
    kind = type(exc).__name__
    if isinstance(exc, AssertionError):
        kind += ":" + str(exc).split("\n")[0][:60]
    return (kind, where, last)


def _size(case: object) -> int:
    if isinstance(case, bytes):
        return len(case)
    if isinstance(case, dict):
        return sum(len(v or b"") for v in case.values())
    return 0


def run_one(target: str, case: object, folder: Path) -> tuple[str, BaseException | None]:
    check = TARGETS[target][1]
    try:
        with guard():
            return check(case, folder), None
    except Exception as exc:  # noqa: BLE001 - everything else is a finding
        return "bug", exc


def minimize(target: str, case: object, sig: tuple[str, ...], folder: Path,
             budget: float = 20.0) -> object:
    """Drop lines (then characters of lines) while the failure keeps its signature."""
    deadline = time.monotonic() + budget

    def fails(c: object) -> bool:
        if time.monotonic() > deadline:
            return False
        _, exc = run_one(target, c, folder)
        return exc is not None and signature(exc) == sig

    def shrink_bytes(data: bytes, rebuild: Callable[[bytes], object]) -> bytes:
        lines = data.splitlines(keepends=True)
        chunk = max(len(lines) // 2, 1)
        while chunk >= 1 and time.monotonic() < deadline:
            i, changed = 0, False
            while i < len(lines):
                trial = lines[:i] + lines[i + chunk:]
                if trial and fails(rebuild(b"".join(trial))):
                    lines, changed = trial, True
                else:
                    i += chunk
            if not changed:
                chunk //= 2
        return b"".join(lines)

    if isinstance(case, bytes):
        return shrink_bytes(case, lambda b: b)
    if isinstance(case, dict):
        case = dict(case)
        for key in list(case):
            if case[key] is None:
                continue
            if key not in ("deals", "quotas", "plan"):  # drop optional tables entirely
                trial = {**case, key: None}
                if fails(trial):
                    case = trial
                    continue
            case[key] = shrink_bytes(case[key], lambda b, k=key, c=case: {**c, k: b})
    return case


def campaign(seconds: float, targets: list[str], seed: int, folder: Path,
             log: Callable[[str], None] = print) -> tuple[dict, dict[str, dict[str, int]]]:
    """Run the targets round-robin on seeds seed, seed+1, ... for ``seconds``."""
    failures: dict[tuple, Failure] = {}
    stats: dict[str, dict[str, int]] = {t: {} for t in targets}
    end = time.monotonic() + seconds
    spent = dict.fromkeys(targets, 0.0)  # each target gets an equal share of the time
    n = 0
    while time.monotonic() < end:
        target = min(targets, key=spent.__getitem__)
        s = seed + n
        n += 1
        start = time.monotonic()
        case = TARGETS[target][0](random.Random(s))
        outcome, exc = run_one(target, case, folder / "work")
        spent[target] += time.monotonic() - start
        stats[target][outcome] = stats[target].get(outcome, 0) + 1
        if exc is None:
            continue
        sig = (target, *signature(exc))
        trace = "".join(traceback.format_exception(exc))
        old = failures.get(sig)
        if old is None:
            failures[sig] = Failure(sig, target, case, f"{type(exc).__name__}: {exc}"[:2000],
                                    trace, seeds=[s])
            log(f"new failure #{len(failures)} {sig} (seed {s})")
        else:
            old.count += 1
            if len(old.seeds) < 5:
                old.seeds.append(s)
            if _size(case) < _size(old.case):
                old.case, old.error, old.trace = case, f"{type(exc).__name__}: {exc}"[:2000], trace
    return failures, stats


def _show(case: object, limit: int = 1500) -> str:
    def one(data: bytes) -> str:
        text = repr(data[:limit])
        return text + (f" ... ({len(data)} bytes)" if len(data) > limit else "")

    if isinstance(case, bytes):
        return one(case)
    if isinstance(case, dict):
        return "\n".join(f"  {k}: {one(v) if v is not None else '(not given)'}"
                         for k, v in case.items())
    return repr(case)


def report(failures: dict, folder: Path, minimize_each: bool = True) -> str:
    out = []
    for i, f in enumerate(sorted(failures.values(), key=lambda f: f.signature), 1):
        case = f.case
        if minimize_each:
            case = minimize(f.target, case, f.signature[1:], folder / "min")
            _, exc = run_one(f.target, case, folder / "min")
            if exc is not None:
                f.error = f"{type(exc).__name__}: {exc}"[:2000]
                f.trace = "".join(traceback.format_exception(exc))
        where = folder / f"failure-{i:02d}"
        where.mkdir(parents=True, exist_ok=True)
        if isinstance(case, bytes):
            name = "plan.yaml" if f.target == "plan" else f"{f.target.split(':')[-1]}.csv"
            (where / name).write_bytes(case)
        elif isinstance(case, dict):
            _write(where, case)
        (where / "traceback.txt").write_text(f.trace)
        out.append(f"## {i}. {f.target}: {' | '.join(f.signature[1:])}  ({f.count} hits, "
                   f"seeds {f.seeds})\n{f.error[:600]}\ninput:\n{_show(case)}\n"
                   f"last frames:\n" + "".join(f.trace.splitlines(True)[-8:]))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--targets", nargs="*", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="folder for repro files")
    parser.add_argument("--no-minimize", action="store_true")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    folder = args.out or Path(tempfile.mkdtemp(prefix="spmkit-fuzz-"))
    failures, stats = campaign(args.seconds, args.targets, args.seed, folder)
    print("outcomes:", stats)
    text = report(failures, folder, minimize_each=not args.no_minimize)
    (folder / "report.md").write_text(text)
    print(text)
    print(f"{len(failures)} distinct failures; files in {folder}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
