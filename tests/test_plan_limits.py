"""Plan files that ask too much or hold numbers out of range: one clear error, never a hang.

Issue 13: a 700-byte plan of nested YAML aliases ("billion laughs") took 16 s and 1.35 GB
(MemoryError two levels deeper); a 50 MB plan of 879k bands ran for minutes; numbers such
as ``rate: 1e1000000`` or ``year_start: 9999-12-01`` ended in "internal error" (exit 1);
negative rates were accepted silently.  Each is now refused with one message naming the
file, the line and the key (exit 2), within the limits documented in docs/semantics.md.
"""

from __future__ import annotations

import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from spmkit.errors import InputError, PlanError
from spmkit.plan import load_plan, load_plan_file, load_plan_text, plan_to_dict
from spmkit.plan.loader import MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_VALUES, safe_load_yaml
from spmkit.plan.model import MAX_BANDS, MAX_COMPONENTS

BASE = """\
plan: AE 2026
currency: USD
year_start: 2026-01-01
period: quarter
components:
  - id: commission
    type: commission
    tiers:
      bands:
        - {from: 0, rate: 0.05}
        - {from: 1, bcr_multiple: 1.5}
  - id: bonus
    type: bonus
    weight: 0.25
    curve: [[0.5, 0.0], [1.0, 1.0]]
  - id: spif
    type: spif
    window: [2026-03-01, 2026-05-31]
    per_deal: 100
"""


def billion_laughs(depth: int, width: int = 10) -> str:
    """A plan whose ``plan:`` value expands to ``width ** depth`` strings through aliases."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, depth + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + f"\nplan: *a{depth}\n"


def error_of(text: str, name: str = "plans/ae.yaml") -> str:
    with pytest.raises(PlanError) as info:
        load_plan_text(text, name=name)
    return str(info.value)


def assert_one(message: str, line: int, key: str, *words: str) -> None:
    """One problem, naming the file, the line and the key, with the given words."""
    assert "problems" not in message, message
    assert message.startswith("plans/ae.yaml, "), message
    assert f"line {line}," in message or message.endswith(f"line {line}"), message
    assert f"column '{key}'" in message, message
    for w in words:
        assert w in message, message


# --------------------------------------------------------------------------- YAML limits


@pytest.mark.parametrize("depth", [7, 9, 30])
def test_billion_laughs_is_refused_at_once(depth: int) -> None:
    text = billion_laughs(depth)
    assert len(text) < 2500
    start = time.perf_counter()
    message = error_of(text)
    assert time.perf_counter() - start < 2  # was 16 s and 1.35 GB at depth 7
    assert "plans/ae.yaml, line " in message
    assert f"more than {MAX_YAML_VALUES:,} values once its aliases are expanded" in message


def test_aliases_within_the_limit_still_work() -> None:
    text = BASE.replace("        - {from: 0, rate: 0.05}", "        - &first {from: 0, rate: 0.05}")
    text = text.replace("    curve: [[0.5, 0.0], [1.0, 1.0]]",
                        "    curve: [&p [0.5, 0.0], [1.0, 1.0]]\n  - id: again\n"
                        "    type: bonus\n    curve: [*p]")
    plan = load_plan_text(text)
    assert plan.component("again").curve == ((Decimal("0.5"), Decimal("0.0")),)


@pytest.mark.parametrize("tail", ["loop: &r [*r]\n", "loop: &r {a: *r}\n",
                                  "phasing: &r [1, *r]\n", "x: &a {*a : 1}\n"])
def test_an_alias_inside_its_own_value_is_refused(tail: str) -> None:
    message = error_of(BASE + tail)
    assert "plans/ae.yaml, line 20" in message and "(an endless loop)" in message


@pytest.mark.parametrize("body", [
    "phasing: " + "[" * 60 + "]" * 60 + "\n",
    "phasing: " + "{a: " * 60 + "1" + "}" * 60 + "\n",
    "".join(" " * i + "a:\n" for i in range(60)) + " " * 60 + "a: 1\n",
    "phasing: " + "[" * 100_000 + "]" * 100_000 + "\n",
])
def test_deep_nesting_is_refused(body: str) -> None:
    message = error_of(BASE + body)
    assert "plans/ae.yaml, line " in message
    assert (f"nested more than {MAX_YAML_DEPTH} levels deep" in message
            or "maximum nesting depth" in message), message


def test_too_many_values_are_refused_while_parsing() -> None:
    text = BASE + "phasing: [" + ", ".join(["0"] * (MAX_YAML_VALUES + 10)) + "]\n"
    start = time.perf_counter()
    message = error_of(text)
    assert time.perf_counter() - start < 20
    assert f"plans/ae.yaml, line 20: too large to read: more than {MAX_YAML_VALUES:,} values" \
        == message


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(BASE + "# " + "x" * (MAX_YAML_BYTES - len(BASE)) + "\n", encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert time.perf_counter() - start < 1
    assert str(info.value) == (f"{path}: the plan file is {path.stat().st_size:,} bytes; at "
                               f"most {MAX_YAML_BYTES:,} bytes (5 MB) are read")
    with pytest.raises(PlanError, match="the plan is .* bytes; at most 5,000,000"):
        load_plan_text(path.read_text(encoding="utf-8"))


def test_band_and_component_counts_are_limited() -> None:
    bands = "\n".join(f"        - {{from: {i / 20}, rate: 0.1}}" for i in range(1, MAX_BANDS + 1))
    text = BASE.replace("        - {from: 1, bcr_multiple: 1.5}", bands)
    assert_one(error_of(text), 9, "components[0].tiers.bands",
               f"{MAX_BANDS + 1:,} bands: a tier table may have at most {MAX_BANDS:,} bands")
    comp = "  - {id: c%d, type: spif, window: [2026-01-01, 2026-01-31], per_deal: 1}"
    text = BASE.split("components:")[0] + "components:\n" + "\n".join(
        comp % i for i in range(MAX_COMPONENTS + 1)) + "\n"
    assert_one(error_of(text), 5, "components", f"{MAX_COMPONENTS + 1:,} components: a plan "
               f"may have at most {MAX_COMPONENTS:,}")


def test_huge_values_are_not_echoed_in_messages() -> None:
    message = error_of(BASE + "period2: " + "9" * 50_000 + "\n")
    assert len(message) < 400
    message = error_of(BASE.replace("period: quarter", "period: " + "x" * 50_000))
    assert len(message) < 400 and "unsupported value" in message
    message = error_of(BASE.replace("weight: 0.25", "weight: 0." + "1" * 50_000))
    assert_one(message, 14, "components[1].weight", "more than 30 decimal places")
    assert len(message) < 300


@pytest.mark.parametrize("text, words", [
    (BASE + "x: \x00\n", "line 20: not valid YAML: the character #x0000 is not allowed"),
    (BASE + "x: \udc80\n", "not valid YAML: not valid text"),
])
def test_characters_yaml_does_not_allow(text: str, words: str) -> None:
    assert words in error_of(text)


@pytest.mark.parametrize("value, words", [
    ("!!bool 'maybe'", "cannot read the value 'maybe' (not a valid bool)"),
    ("!!timestamp 'x'", "cannot read the value 'x' (not a valid timestamp)"),
    ("2026-02-30", "cannot read the value '2026-02-30' (day is out of range for month)"),
])
def test_tagged_values_that_cannot_be_built(value: str, words: str) -> None:
    # these raised KeyError / AttributeError out of PyYAML: "internal error"
    assert f"plans/ae.yaml, line 20: {words}" == error_of(BASE + f"x: {value}\n")
    with pytest.raises(InputError, match="m.yaml: not valid YAML: a value"):
        safe_load_yaml("m.yaml", text=f"x: {value}\n")


def test_periods_refuse_a_plan_year_past_9999() -> None:
    from datetime import date

    from spmkit.periods import plan_periods

    assert plan_periods(date(9998, 12, 1), "month").labels[-1] == "9999-11"
    with pytest.raises(ValueError, match="must end before 9999-12-31"):
        plan_periods(date(9999, 1, 1), "quarter")


# --------------------------------------------------------------------- the shared helper


def test_safe_load_yaml_reads_what_safe_load_reads(tmp_path: Path) -> None:
    text = ("out: reports\nreports:\n  - {name: a, baseline: b.yaml, scenarios: [c.yaml]}\n"
            "  - &r {name: d, when: 2026-01-01, n: 3, x: 1.5, on: true, none: ~}\n")
    path = tmp_path / "reports.yaml"
    path.write_text("\ufeff" + text, encoding="utf-8")
    assert safe_load_yaml(path) == yaml.safe_load(text)
    assert safe_load_yaml("ignored.yaml", text=text) == yaml.safe_load(text)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    assert safe_load_yaml(empty) is None


def test_safe_load_yaml_applies_the_limits_and_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "reports.yaml"
    path.write_text(billion_laughs(9).replace("plan:", "reports:"), encoding="utf-8")
    with pytest.raises(InputError, match=r"reports\.yaml, line \d+: too large to read: more "
                       r"than 100,000 values once its aliases are expanded"):
        safe_load_yaml(path, what="manifest")
    path.write_text("a: &r [*r]\n", encoding="utf-8")
    with pytest.raises(InputError,
                       match=r"reports\.yaml, line 1: cannot read: .*\(an endless loop\)"):
        safe_load_yaml(path)
    path.write_bytes(b"x" * (MAX_YAML_BYTES + 1))
    with pytest.raises(InputError, match="the manifest is 5,000,001 bytes; at most"):
        safe_load_yaml(path, what="manifest")
    path.write_bytes("out: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"line 1: not UTF-8 text \(byte 0xe9\)"):
        safe_load_yaml(path, what="manifest")
    path.write_text("a: [1,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"reports\.yaml, line 2: not valid YAML"):
        safe_load_yaml(path)
    with pytest.raises(InputError, match="no such manifest"):
        safe_load_yaml(tmp_path / "missing.yaml", what="manifest")
    path.write_text("a: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        safe_load_yaml(path)
    with pytest.raises(PlanError):
        safe_load_yaml(path, error=PlanError)


# ------------------------------------------------------------------ numbers out of range


@pytest.mark.parametrize("old, new, line, key, words", [
    ("rate: 0.05", "rate: 1e1000000", 10, "components[0].tiers.bands[0].rate",
     "1E+1000000 is out of range: must be between 0 and 10"),
    ("rate: 0.05", "rate: .inf", 10, "components[0].tiers.bands[0].rate",
     "'.inf' is not a finite number"),
    ("rate: 0.05", "rate: .nan", 10, "components[0].tiers.bands[0].rate",
     "not a finite number"),
    ("rate: 0.05", "rate: 11", 10, "components[0].tiers.bands[0].rate", "between 0 and 10"),
    ("rate: 0.05", "rate: 1e-1000000", 10, "components[0].tiers.bands[0].rate",
     "more than 30 decimal places"),
    ("{from: 1,", "{from: 1e30,", 11, "components[0].tiers.bands[1].from",
     "1E+30 is out of range: must be between 0 and 1,000"),
    ("bcr_multiple: 1.5", "bcr_multiple: 1e30", 11,
     "components[0].tiers.bands[1].bcr_multiple", "between 0 and 100"),
    ("weight: 0.25", "weight: 1e30", 14, "components[1].weight", "between 0 and 10"),
    ("[1.0, 1.0]]", "[1e9, 1.0]]", 15, "components[1].curve[1][0]", "between 0 and 1,000"),
    ("[1.0, 1.0]]", "[1.0, 1e9]]", 15, "components[1].curve[1][1]", "between 0 and 100"),
    ("per_deal: 100", "per_deal: 1e30", 19, "components[2].per_deal",
     "between 0 and 1,000,000,000"),
    ("per_deal: 100", "per_deal: 100\n    cap: {amount: 1e30}", 20,
     "components[2].cap.amount", "between 0 and 1,000,000,000"),
    ("    tiers:\n", "    cap: {ti_multiple: 1e1000000}\n    tiers:\n", 8,
     "components[0].cap.ti_multiple", "between 0 and 100"),
    ("year_start: 2026-01-01", "year_start: 9999-12-01", 3, "year_start",
     "year_start 9999-12-01 is out of range: it must be between 1900-01-01 and 9998-12-01 "
     "(the plan year must end before 9999-12-31)"),
    ("year_start: 2026-01-01", "year_start: 0001-01-01", 3, "year_start", "out of range"),
    ("[2026-03-01, 2026-05-31]", "[0001-01-01, 2026-05-31]", 18, "components[2].window[0]",
     "0001-01-01 is out of range: plan dates are between 1900-01-01 and 9999-12-31"),
    ("period: quarter", "period: quarter\nphasing: [1e30, 0, 0, 0]", 5, "phasing[0]",
     "between 0 and 1"),
    ("plan: AE 2026", "plan: " + "x" * 201, 1, "plan", "at most 200 characters"),
])
def test_numbers_and_dates_out_of_range(old: str, new: str, line: int, key: str,
                                        words: str) -> None:
    assert old in BASE
    assert_one(error_of(BASE.replace(old, new)), line, key, words)


def test_the_widest_dates_are_accepted() -> None:
    plan = load_plan_text(BASE.replace("2026-01-01", "9998-12-01").replace(
        "[2026-03-01, 2026-05-31]", "[1900-01-01, 9999-12-31]"))
    assert str(plan.year_start) == "9998-12-01"


@pytest.mark.parametrize("value, words", [
    ("", "needs a list of values, e.g. [Widget Pro] (it is empty)"),
    ("[]", "needs at least one value"),
    ("[[a]]", "a filter value must be plain text, not a list"),
    ("[~]", "a filter value must be plain text, not nothing"),
    ("[yes]", "reads as true/false: quote it"),
    ("['  ']", "a filter value must not be empty"),
    ("{a: 1}", "needs a list of values"),
])
def test_filter_values_are_non_empty_lists_of_text(value: str, words: str) -> None:
    text = BASE.replace("    type: spif\n", f"    type: spif\n    filter: {{product: {value}}}\n")
    assert_one(error_of(text), 18, "components[2].filter.product", words)


def test_filter_values_that_are_numbers_read_as_text() -> None:
    text = BASE.replace("    type: spif\n", "    type: spif\n    filter: {product: [2026, 'X']}\n")
    assert load_plan_text(text).component("spif").filter == {"product": ("2026", "X")}


# ---------------------------------------------------------------------- negative rates


@pytest.mark.parametrize("old, new, key", [
    ("rate: 0.05", "rate: -0.05", "components[0].tiers.bands[0].rate"),
    ("bcr_multiple: 1.5", "bcr_multiple: -1.5", "components[0].tiers.bands[1].bcr_multiple"),
    ("per_deal: 100", "per_deal: -100", "components[2].per_deal"),
    ("per_deal: 100", "rate: -0.01", "components[2].rate"),
])
def test_negative_rates_need_the_opt_in(old: str, new: str, key: str) -> None:
    text = BASE.replace(old, new)
    line = next(i + 1 for i, t in enumerate(text.splitlines()) if new in t)
    assert_one(error_of(text), line, key, "is negative; a negative value is refused unless "
               "its component says 'allow_negative: true'")
    comp = "commission" if key.startswith("components[0]") else "spif"
    opted = text.replace(f"  - id: {comp}\n", f"  - id: {comp}\n    allow_negative: true\n")
    plan = load_plan_text(opted)
    assert plan.component(comp).allow_negative is True
    assert load_plan_text(plan.to_yaml()) == plan  # round trip keeps the opt-in
    assert plan_to_dict(plan)["components"][0 if comp == "commission" else 2][
        "allow_negative"] is True
    # the opt-in allows negatives, still bounded
    too_far = opted.replace(new, new.replace("-", "-9999999999"))
    assert "out of range" in error_of(too_far)


def test_the_opt_in_is_a_real_boolean_and_absent_by_default() -> None:
    plan = load_plan_text(BASE)
    assert all(c.allow_negative is False for c in plan.components)
    assert all("allow_negative" not in c for c in plan_to_dict(plan)["components"])
    assert "allow_negative" not in plan.to_yaml()
    text = BASE.replace("rate: 0.05", "rate: -0.05").replace(
        "    type: commission\n", "    type: commission\n    allow_negative: 'yes'\n")
    message = error_of(text)
    assert "components[0].allow_negative" in message and "valid boolean" in message


def test_negative_rates_are_refused_from_a_dict_too() -> None:
    data = yaml.safe_load(BASE.replace("rate: 0.05", "rate: -0.05"))
    with pytest.raises(PlanError, match=r"bands\[0\]\.rate.*is negative"):
        load_plan(data)
    data["components"][0]["allow_negative"] = True
    assert load_plan(data).component("commission").tiers.bands[0].rate == Decimal("-0.05")


# ------------------------------------------------------------------- text versus path


def test_a_path_with_a_newline_is_a_file_not_yaml_text(tmp_path: Path) -> None:
    folder = tmp_path / "odd\nfolder"
    folder.mkdir()
    path = folder / "plan\n1.yaml"
    path.write_text(BASE, encoding="utf-8")
    assert load_plan(str(path)).plan == "AE 2026"  # an existing file wins over text
    assert load_plan(path).plan == "AE 2026"
    assert load_plan_file(str(path)).plan == "AE 2026"
    with pytest.raises(PlanError, match="no such plan file"):
        load_plan_file(str(folder / "missing\n.yaml"))
    with pytest.raises(PlanError, match="no such plan file"):
        load_plan_file("plan: x\nperiod: month\n")  # never read as text
    assert load_plan(BASE).plan == "AE 2026"  # text, as documented
    assert load_plan_text(BASE, name="x.yaml").plan == "AE 2026"


# ------------------------------------------------------------------------ the CLI


DEALS = ("deal_id,rep_id,close_date,amount,currency,product,deal_type,region,account\n"
         "D1,A1,2026-02-10,60000.00,USD,Widget,new,East,Acme\n")
QUOTAS = "rep_id,year,quota\nA1,2026,400000\n"


@pytest.mark.parametrize("name, text, words", [
    ("laughs.yaml", billion_laughs(9), "line 5: too large to read: more than 100,000 values"),
    ("huge.yaml", None, "the plan file is 5,000,100 bytes; at most 5,000,000 bytes (5 MB)"),
    ("rate.yaml", BASE.replace("rate: 0.05", "rate: 1e1000000"),
     "line 10, column 'components[0].tiers.bands[0].rate': 1E+1000000 is out of range"),
    ("weight.yaml", BASE.replace("weight: 0.25", "weight: 1e30"),
     "line 14, column 'components[1].weight': 1E+30 is out of range"),
    ("year.yaml", BASE.replace("2026-01-01", "9999-12-01"),
     "line 3, column 'year_start': year_start 9999-12-01 is out of range"),
    ("filter.yaml", BASE.replace("    type: spif\n", "    type: spif\n    filter: {product: }\n"),
     "line 18, column 'components[2].filter.product': needs a list of values"),
])
def test_cli_refuses_with_one_message_and_exit_2(tmp_path: Path, name: str, text: str | None,
                                                 words: str) -> None:
    (tmp_path / "deals.csv").write_text(DEALS, encoding="utf-8")
    (tmp_path / "quotas.csv").write_text(QUOTAS, encoding="utf-8")
    plan = tmp_path / name
    if text is None:
        plan.write_text(BASE + "#" * (MAX_YAML_BYTES + 100 - len(BASE) - 1) + "\n",
                        encoding="utf-8")
    else:
        plan.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "spmkit.cli", "validate", "--plan", str(plan),
                           "--deals", str(tmp_path / "deals.csv"),
                           "--quotas", str(tmp_path / "quotas.csv")],
                          capture_output=True, text=True, timeout=120)
    assert time.perf_counter() - start < 60
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"spmkit validate: error: {plan}")
    assert words in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
