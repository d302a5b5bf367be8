"""Read and write plan YAML: safe loading, no duplicate or unknown keys, errors with lines.

Every error names the file, the line and the key path (``components[1].tiers.bands[2].from``).
Numbers are read from the YAML text as exact decimals.

Reading is bounded, so a hostile or mistaken file cannot exhaust time or memory: a YAML
file may be at most :data:`MAX_YAML_BYTES`, nest at most :data:`MAX_YAML_DEPTH` levels and
hold at most :data:`MAX_YAML_VALUES` values, where an alias counts every time it is used
(a "billion laughs" file of nested aliases is refused, not expanded).  :func:`safe_load_yaml`
applies the same limits to any other YAML file the project reads (manifests, mappings).
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from spmkit.components.base import component_type
from spmkit.errors import InputError, PlanError, Problem, SpmkitError
from spmkit.plan.model import COMPONENT_TYPES, MAX_COMPONENTS, Component, Plan

Path_ = tuple[str | int, ...]

#: Largest YAML file read (bytes): plans are a few kB; 5 MB is far beyond any real one.
MAX_YAML_BYTES = 5_000_000
#: Most values (mappings, lists, keys and scalars) in one YAML document, counting each use
#: of an alias again: a table of 10,000 tier bands takes about 50,000.
MAX_YAML_VALUES = 100_000
#: Deepest nesting of mappings and lists (a plan needs 7).
MAX_YAML_DEPTH = 50


class YamlLimitError(Exception):
    """A YAML document passed one of the reading limits; ``line`` is 1-based or None."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


def _line_of(mark: Any) -> int | None:
    line = getattr(mark, "line", None)
    return line + 1 if isinstance(line, int) else None


class _Limits:
    """Composer mixin: refuse documents nested or sized past the limits while composing."""

    def _start_limits(self) -> None:
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            return Composer.compose_node(self, parent, index)  # type: ignore[arg-type]
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise YamlLimitError(f"too large to read: nested more than {MAX_YAML_DEPTH} "
                                     "levels deep",
                                     _line_of(self.peek_event().start_mark))  # type: ignore
            if self._nodes > MAX_YAML_VALUES:
                raise YamlLimitError(f"too large to read: more than {MAX_YAML_VALUES:,} "
                                     "values",
                                     _line_of(self.peek_event().start_mark))  # type: ignore
            return Composer.compose_node(self, parent, index)  # type: ignore[arg-type]
        finally:
            self._depth -= 1


_LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))

if _LIBYAML:  # libyaml's C parser: about 5x faster
    from yaml._yaml import CParser

    class _Loader(_Limits, CParser, Composer, SafeConstructor, Resolver):  # type: ignore[misc]
        """libyaml's event parser, PyYAML's composer (with the limits), safe constructors."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start_limits()

        get_single_node = Composer.get_single_node
        compose_document = Composer.compose_document
else:  # pragma: no cover - PyYAML without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Loader(_Limits, Reader, Scanner, Parser, Composer,  # type: ignore[no-redef]
                  SafeConstructor, Resolver):
        """PyYAML's pure-Python safe loader, with the limits."""

        def __init__(self, text: str) -> None:
            Reader.__init__(self, text)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._start_limits()


def _too_big(size: int, what: str) -> str:
    return (f"the {what} is {size:,} bytes; at most {MAX_YAML_BYTES:,} bytes "
            f"({MAX_YAML_BYTES / 1e6:g} MB) are read")


def read_yaml_text(path: str | Path, *, label: str | None = None, what: str = "file",
                   error: type[SpmkitError] = InputError) -> str:
    """The text of a YAML file: UTF-8 (a BOM is dropped), at most :data:`MAX_YAML_BYTES`.

    The size is checked before the file is read.

    Raises
    ------
    SpmkitError (``error``)
        Missing, unreadable, too large or not UTF-8, naming the file.
    """
    path = Path(path)
    label = label or str(path)
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_YAML_BYTES:
                raise error(Problem(label, _too_big(size, what)))
            data = fh.read(MAX_YAML_BYTES + 1)
    except FileNotFoundError:
        raise error(Problem(label, f"no such {what}")) from None
    except IsADirectoryError:
        raise error(Problem(label, f"is a folder, not a {what}")) from None
    except OSError as exc:
        raise error(Problem(label, f"cannot read the {what} ({exc.strerror or exc})")) from None
    if len(data) > MAX_YAML_BYTES:  # grew while read, or a device
        raise error(Problem(label, _too_big(len(data), what)))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(Problem(label, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the "
                            f"{what} as UTF-8", where=f"line {line}")) from None


def compose_yaml(text: str, source: str, *, what: str = "file",
                 error: type[SpmkitError] = InputError) -> tuple[yaml.Node | None, Any]:
    """Parse one YAML document into its node tree, within the size and nesting limits.

    Returns ``(node, loader)``: ``node`` is None for an empty document; the loader (already
    disposed) constructs scalar values.  Errors name ``source`` and the line.
    """
    size = len(text) if len(text) * 4 <= MAX_YAML_BYTES else len(
        text.encode("utf-8", "surrogatepass"))
    if size > MAX_YAML_BYTES:
        raise error(Problem(source, _too_big(size, what)))
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
    except YamlLimitError as exc:
        where = f"line {exc.line}" if exc.line else None
        raise error(Problem(source, exc.message, where=where)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = _line_of(mark)
        problem = Problem(source, f"not valid YAML: {exc.problem or exc}",
                          where=f"line {line}" if line else None)
        raise error(problem) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow
        before = text.encode("utf-8", "surrogatepass")[: exc.position] if _LIBYAML else \
            text[: exc.position]
        line = before.count(b"\n" if _LIBYAML else "\n") + 1  # type: ignore[arg-type]
        char = exc.character if isinstance(exc.character, int) else ord(exc.character or "?")
        raise error(Problem(source, f"not valid YAML: the character #x{char:04x} is not "
                            f"allowed ({exc.reason})", where=f"line {line}")) from None
    except UnicodeError as exc:  # a lone surrogate in text handed in by a caller
        raise error(Problem(source, f"not valid YAML: not valid text ({exc})")) from None
    except (yaml.YAMLError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise error(Problem(source, f"not valid YAML: {reason}")) from None
    finally:
        if loader is not None:
            loader.dispose()
    return node, loader


#: What PyYAML's safe constructors raise on a value they cannot build (a tagged scalar such
#: as ``!!bool 'maybe'`` or ``!!timestamp 'x'`` fails with KeyError or AttributeError).
_BAD_VALUE = (yaml.YAMLError, ValueError, TypeError, OverflowError, KeyError, AttributeError,
              IndexError)

def _why(exc: BaseException, node: yaml.Node | None = None) -> str:
    """Why a value could not be built, in words (not a Python exception's repr)."""
    if isinstance(exc, (yaml.YAMLError, ValueError, OverflowError)):
        return str(exc)
    if node is None:
        return "a value does not match its tag, such as !!bool or !!timestamp"
    return f"not a valid {node.tag.rsplit(':', 1)[-1]}"


_LOOP = "cannot read: an alias is used inside the value it names (an endless loop)"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_expansion(node: yaml.Node) -> None:
    """Refuse a node graph that expands past the limits once its aliases are followed.

    The expanded size and depth of every distinct node are computed once (a "billion
    laughs" document of nested aliases is measured, never expanded), without recursion.

    Raises
    ------
    YamlLimitError
        More than :data:`MAX_YAML_VALUES` values or :data:`MAX_YAML_DEPTH` levels after
        expansion, or an alias used inside the value it names (a cycle).
    """
    done: dict[int, tuple[int, int]] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        item, finished = stack.pop()
        key = id(item)
        kids = _children(item)
        if finished:
            open_.discard(key)
            size = 1 + sum(done[id(k)][0] for k in kids)
            depth = 1 + max((done[id(k)][1] for k in kids), default=0)
            line = item.start_mark.line + 1
            if size > MAX_YAML_VALUES:
                raise YamlLimitError(f"too large to read: more than {MAX_YAML_VALUES:,} "
                                     "values once its aliases are expanded", line)
            if depth > MAX_YAML_DEPTH:
                raise YamlLimitError(f"too large to read: nested more than {MAX_YAML_DEPTH} "
                                     "levels deep once its aliases are expanded", line)
            done[key] = (size, depth)
            continue
        if key in done:
            continue
        if key in open_:
            raise YamlLimitError(_LOOP,
                                 item.start_mark.line + 1)
        open_.add(key)
        stack.append((item, True))
        for kid in kids:
            if id(kid) in open_:
                raise YamlLimitError(_LOOP,
                                     kid.start_mark.line + 1)
            if id(kid) not in done:
                stack.append((kid, False))


def safe_load_yaml(source: str | Path, *, text: str | None = None, label: str | None = None,
                   what: str = "file", error: type[SpmkitError] = InputError) -> Any:
    """``yaml.safe_load`` with limits, for every YAML file the project reads.

    Reads ``source`` (a path) unless ``text`` is given, refuses files over
    :data:`MAX_YAML_BYTES`, documents nested deeper than :data:`MAX_YAML_DEPTH` or holding
    more than :data:`MAX_YAML_VALUES` values once aliases are expanded, and returns the
    document's plain Python value (None for an empty file).  Only YAML's standard tags are
    constructed (``safe_load``'s rules).

    Parameters
    ----------
    source : path
        The file; also the name used in messages unless ``label`` is given.
    text : str, optional
        The YAML text, when it has already been read.
    what : str
        What the file is, for messages ("manifest", "column mapping").
    error : SpmkitError subclass
        The error raised (default :class:`~spmkit.errors.InputError`).

    Raises
    ------
    SpmkitError (``error``)
        One problem naming the file and, where known, the line.
    """
    label = label or str(source)
    if text is None:
        text = read_yaml_text(source, label=label, what=what, error=error)
    node, loader = compose_yaml(text, label, what=what, error=error)
    if node is None:
        return None
    try:
        check_expansion(node)
    except YamlLimitError as exc:
        raise error(Problem(label, exc.message,
                            where=f"line {exc.line}" if exc.line else None)) from None
    try:
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        line = _line_of(exc.problem_mark or exc.context_mark)
        raise error(Problem(label, f"not valid YAML: {exc.problem or exc}",
                            where=f"line {line}" if line else None)) from None
    except _BAD_VALUE as exc:
        raise error(Problem(label, f"not valid YAML: a value cannot be read ({_why(exc)})")) \
            from None


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

    def __init__(self, source: str, loader: Any):
        self.source = source
        self.loader = loader
        self.lines: dict[Path_, int] = {}
        self.problems: list[Problem] = []
        self.values = 0

    def read(self, node: yaml.Node, path: Path_ = ()) -> Any:
        self.values += 1
        if self.values > MAX_YAML_VALUES or len(path) >= MAX_YAML_DEPTH:
            what = (f"more than {MAX_YAML_VALUES:,} values" if self.values > MAX_YAML_VALUES
                    else f"nested more than {MAX_YAML_DEPTH} levels deep")
            raise YamlLimitError(f"too large to read: {what}", node.start_mark.line + 1)
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
                if not isinstance(key_node, yaml.ScalarNode):
                    self._problem(key_node, path, "a key must be a plain name")
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
        except _BAD_VALUE as exc:  # e.g. !!bool 'maybe', !!timestamp 'x', 2026-02-30
            self._problem(node, (), f"cannot read the value {_short(node.value)} "
                          f"({_why(exc, node)})")
            return None

    def _problem(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.problems.append(
            Problem(self.source, message, where=f"line {node.start_mark.line + 1}",
                    column=None if not path else _key_path(path))
        )


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters (messages never echo a huge value)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _parse(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    node, loader = compose_yaml(text, source, what="plan", error=PlanError)
    if node is None:
        raise PlanError(Problem(source, "the plan file is empty"))
    reader = _Reader(source, loader)
    try:
        check_expansion(node)
        data = reader.read(node)
    except YamlLimitError as exc:
        raise PlanError(Problem(source, exc.message,
                                where=f"line {exc.line}" if exc.line else None)) from None
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
            msg = f"unsupported value {_short(err.get('input'))}: {msg.lower()}"
        elif kind in ("decimal_parsing", "decimal_type", "finite_number"):
            msg = f"{_short(err.get('input'))} is not a finite number"
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
    """Load a plan from a YAML file, YAML text or a dict.

    Parameters
    ----------
    source : Path, str or dict
        A :class:`~pathlib.Path` is always a file.  A ``str`` is a file path, unless it
        holds a newline and names no existing file: then it is YAML text (kept for
        convenience in tests and notebooks).  Code that passes a path from a user, which
        may hold any character, should pass a ``Path`` or call :func:`load_plan_file`;
        :func:`load_plan_text` reads text only.  A dict holds the plan's keys.
    name : str, optional
        The name used in error messages (default: the file name, or ``<plan>``).

    Raises
    ------
    PlanError
        Naming the file, line and key of every problem found.
    """
    if isinstance(source, dict):
        return _validate(source, {}, name or "<plan>")
    if isinstance(source, Path) or "\n" not in str(source) or os.path.isfile(str(source)):
        return load_plan_file(source, name=name)
    return load_plan_text(str(source), name=name)


def load_plan_file(path: str | Path, *, name: str | None = None) -> Plan:
    """Load the plan file at ``path`` (any characters; never read as YAML text).

    Raises
    ------
    PlanError
        A missing, unreadable, too large or non-UTF-8 file, or any problem in the plan,
        naming the file (``name`` if given), the line and the key.
    """
    label = name or str(path)
    text = read_yaml_text(path, label=label, what="plan file", error=PlanError)
    return load_plan_text(text, name=label)


def load_plan_text(text: str, *, name: str | None = None) -> Plan:
    """Load a plan from YAML ``text``; ``name`` is used in messages (default ``<plan>``)."""
    label = name or "<plan>"
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
    if isinstance(comps, list) and len(comps) > MAX_COMPONENTS:
        add(("components",), f"{len(comps):,} components: a plan may have at most "
            f"{MAX_COMPONENTS:,}")
        raise PlanError(problems)
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
    """The plan as plain data, in the YAML's key names, without defaults left unset.

    ``allow_negative`` appears only on the components that set it.
    """
    data = plan.model_dump(by_alias=True, exclude_none=True, mode="python")
    for comp in data.get("components", ()):
        if comp.get("allow_negative") is False:
            del comp["allow_negative"]
    return data


def dump_plan(plan: Plan, header: str | None = None) -> str:
    """YAML text for ``plan``; ``header`` lines become a leading comment block."""
    body = yaml.dump(plan_to_dict(plan), Dumper=_Dumper, sort_keys=False,
                     default_flow_style=None, allow_unicode=True, width=100)
    if header:
        comment = "\n".join(f"# {line}".rstrip() for line in header.strip().splitlines())
        return comment + "\n" + body
    return body
