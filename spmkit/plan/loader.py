"""Read and write plan YAML: safe loading, no duplicate or unknown keys, errors with lines.

Every error names the file, the line and the key path (``components[1].tiers.bands[2].from``).
Numbers are read from the YAML text as exact decimals.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from spmkit.components.base import component_type
from spmkit.errors import PlanError, Problem
from spmkit.plan.model import COMPONENT_TYPES, Component, Plan

Path_ = tuple[str | int, ...]


def _key_path(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in
               ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")}


class _Reader:
    """Turns a composed YAML node tree into Python values, remembering each key's line."""

    def __init__(self, source: str, loader: yaml.SafeLoader):
        self.source = source
        self.loader = loader
        self.lines: dict[Path_, int] = {}
        self.problems: list[Problem] = []

    def read(self, node: yaml.Node, path: Path_ = ()) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if node.tag not in _PLAIN_TAGS:
            self._problem(node, path, f"the YAML tag {node.tag!r} is not allowed in a plan "
                          "(plans hold plain values only)")
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self._problem(key_node, path, "merge keys ('<<') are not supported in plans")
                    continue
                key = self.read_scalar(key_node)
                if isinstance(key, (list, dict)):
                    self._problem(key_node, path, "a key must be a plain name")
                    continue
                child = path + (key,)
                if key in out:
                    self._problem(key_node, child, f"duplicate key {key!r}")
                    continue
                self.lines[child] = key_node.start_mark.line + 1
                out[key] = self.read(value_node, child)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.lines[path + (i,)] = item.start_mark.line + 1
                items.append(self.read(item, path + (i,)))
            return items
        return self.read_scalar(node)

    def read_scalar(self, node: yaml.Node) -> Any:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _PLAIN_TAGS:
            return self.read(node)
        if node.tag == "tag:yaml.org,2002:float":
            try:
                value = Decimal(node.value.replace("_", ""))
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite():
                return node.value  # let validation say it is not a number
            return value
        if node.tag == "tag:yaml.org,2002:int":
            try:
                return int(node.value.replace("_", ""), 0)
            except ValueError:
                return self._construct(node)
        return self._construct(node)

    def _construct(self, node: yaml.Node) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as exc:
            self._problem(node, (), f"cannot read the value {node.value!r} ({exc})")
            return None

    def _problem(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.problems.append(
            Problem(self.source, message, where=f"line {node.start_mark.line + 1}",
                    column=None if not path else _key_path(path))
        )


def _parse(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark else None
        problem = Problem(source, f"not valid YAML: {exc.problem or exc}", where=where)
        raise PlanError(problem) from None
    except yaml.YAMLError as exc:
        raise PlanError(Problem(source, f"not valid YAML: {exc}")) from None
    finally:
        loader.dispose()
    if node is None:
        raise PlanError(Problem(source, "the plan file is empty"))
    reader = _Reader(source, loader)
    data = reader.read(node)
    if reader.problems:
        raise PlanError(reader.problems)
    if not isinstance(data, dict):
        raise PlanError(Problem(source, "a plan must be a mapping of keys "
                                "(plan:, year_start:, ...)", where="line 1"))
    return data, reader.lines


def _line_for(lines: dict[Path_, int], loc: tuple) -> int | None:
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _validation_problems(exc: ValidationError, source: str, lines: dict[Path_, int],
                         data: dict, prefix: Path_ = ()) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = prefix + _real_loc(tuple(err["loc"]), data)
        msg = err["msg"].removeprefix("Value error, ")
        kind = err["type"]
        if kind == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}" if loc else "unknown key"
        elif kind == "literal_error":
            msg = f"unsupported value {err.get('input')!r}: {msg.lower()}"
        elif kind == "missing":
            msg = f"missing required key {loc[-1]!r}" if loc else "missing required key"
        line = _line_for(lines, loc)
        problems.append(Problem(source, msg, where=f"line {line}" if line else None,
                                column=_key_path(loc) if loc else None))
    return problems


def _real_loc(loc: tuple, data: dict) -> tuple:
    """Drop pydantic's internal location parts (union tags, function names)."""
    out: list[Any] = []
    node: Any = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(part, str) and not any(c in part for c in "[]()"):
            out.append(part)
            node = None
        elif isinstance(part, int) and node is None:
            out.append(part)
    return tuple(out)


def load_plan(source: str | Path | dict, *, name: str | None = None) -> Plan:
    """Load a plan from a YAML file path, YAML text or a dict.

    Parameters
    ----------
    source : path, str or dict
        A path to a ``.yaml`` file, YAML text (anything containing a newline), or a
        mapping with the plan's keys.
    name : str, optional
        The name used in error messages (default: the file name, or ``<plan>``).

    Raises
    ------
    PlanError
        Naming the file, line and key of every problem found.
    """
    if isinstance(source, dict):
        data, lines, label = source, {}, name or "<plan>"
    else:
        if isinstance(source, Path) or "\n" not in str(source):
            path = Path(source)
            label = name or str(path)
            try:
                text = path.read_text(encoding="utf-8-sig")
            except FileNotFoundError:
                raise PlanError(Problem(label, "no such plan file")) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise PlanError(Problem(label, f"cannot read the plan file ({exc})")) from None
        else:
            text, label = str(source), name or "<plan>"
        data, lines = _parse(text, label)
    return _validate(data, lines, label)


def _validate(data: dict, lines: dict[Path_, int], label: str) -> Plan:
    """Validate components one by one (so errors carry their index), then the plan."""
    problems: list[Problem] = []

    def add(loc: Path_, message: str) -> None:
        line = _line_for(lines, loc)
        problems.append(Problem(label, message, where=f"line {line}" if line else None,
                                column=_key_path(loc)))

    comps = data.get("components")
    built: list[Component] = []
    had_component_problems = False
    if isinstance(comps, list):
        for i, item in enumerate(comps):
            loc: Path_ = ("components", i)
            if not isinstance(item, dict):
                add(loc, "a component must be a mapping with 'id' and 'type'")
                continue
            kind_name = item.get("type")
            try:
                kind = component_type(str(kind_name)) if kind_name is not None else None
            except ValueError as exc:  # a module named in $SPMKIT_COMPONENTS fails to import
                add(loc + ("type",), str(exc))
                continue
            if kind_name is None:
                add(loc, "missing required key 'type'")
            elif kind is None:
                known = ", ".join(sorted(COMPONENT_TYPES))
                add(loc + ("type",), f"unknown component type {kind_name!r}; known types: {known}")
            else:
                try:
                    built.append(kind.model_validate(item))
                except ValidationError as exc:
                    for p in _validation_problems(exc, label, lines, item, prefix=loc):
                        problems.append(p)
        data = {**data, "components": built}
        had_component_problems = bool(problems)
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        for p in _validation_problems(exc, label, lines, data):
            if had_component_problems and (p.column or "").startswith("components"):
                continue
            problems.append(p)
        raise PlanError(problems) from None
    if problems:
        raise PlanError(problems)
    return plan


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    text = format(value, "f")
    if "." not in text:
        return dumper.represent_scalar("tag:yaml.org,2002:int", text)
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_Dumper.add_representer(Decimal, _represent_decimal)
_Dumper.add_representer(tuple, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v))


def plan_to_dict(plan: Plan) -> dict:
    """The plan as plain data, in the YAML's key names, without defaults left unset."""
    return plan.model_dump(by_alias=True, exclude_none=True, mode="python")


def dump_plan(plan: Plan, header: str | None = None) -> str:
    """YAML text for ``plan``; ``header`` lines become a leading comment block."""
    body = yaml.dump(plan_to_dict(plan), Dumper=_Dumper, sort_keys=False,
                     default_flow_style=None, allow_unicode=True, width=100)
    if header:
        comment = "\n".join(f"# {line}".rstrip() for line in header.strip().splitlines())
        return comment + "\n" + body
    return body
