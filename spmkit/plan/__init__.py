"""Plans: the frozen model of a plan file and its YAML loader."""

from spmkit.plan.loader import (
    dump_plan,
    load_plan,
    load_plan_file,
    load_plan_text,
    plan_to_dict,
    safe_load_yaml,
)
from spmkit.plan.model import (
    COMPONENT_TYPES,
    Band,
    Bonus,
    Cap,
    Commission,
    Component,
    Plan,
    Spif,
    Tiers,
)

__all__ = [
    "COMPONENT_TYPES", "Band", "Bonus", "Cap", "Commission", "Component", "Plan", "Spif",
    "Tiers", "dump_plan", "load_plan", "load_plan_file", "load_plan_text", "plan_to_dict",
    "safe_load_yaml",
]
