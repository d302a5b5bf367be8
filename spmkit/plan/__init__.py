"""Plans: the frozen model of a plan file and its YAML loader."""

from spmkit.plan.loader import dump_plan, load_plan, plan_to_dict
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
    "Tiers", "dump_plan", "load_plan", "plan_to_dict",
]
