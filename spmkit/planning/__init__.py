"""Sales planning: how much the team can sell (capacity, hires) and who sells to whom
(territories, their quotas and overlays).

Pure computation: functions take and return DataFrames (money in int64 cents) and never
print.  Conventions and worked examples: ``docs/planning.md``.
"""

from spmkit.planning.capacity import (
    KELLBLOG_RAMP,
    RAMP_NORM_MONTHS,
    CapacityPlan,
    RampCurve,
    attrition_from_history,
    capacity_cents,
    parse_target,
    plan_capacity,
    plan_capacity_from_files,
    productivity_from_history,
    ramp_from_history,
    rep_equivalents,
    selling_reps,
)
from spmkit.planning.opportunities import generate_opportunities, load_opportunities
from spmkit.planning.outlook import (
    Outlook,
    backtest_outlook,
    outlook_from_files,
    project_outlook,
)
from spmkit.planning.sample_accounts import generate_accounts, write_accounts
from spmkit.planning.territory import (
    TerritoryPlan,
    design_territories,
    load_accounts,
    overlay_quotas,
    region_hierarchy,
    territory_index,
    territory_quotas,
    territory_reps,
)

__all__ = [
    "KELLBLOG_RAMP", "RAMP_NORM_MONTHS", "CapacityPlan", "RampCurve", "TerritoryPlan",
    "attrition_from_history", "capacity_cents", "design_territories", "generate_accounts",
    "load_accounts", "overlay_quotas", "parse_target", "plan_capacity",
    "region_hierarchy", "plan_capacity_from_files",
    "productivity_from_history", "ramp_from_history", "rep_equivalents", "selling_reps",
    "territory_index", "territory_quotas", "territory_reps", "write_accounts",
    "Outlook", "backtest_outlook", "generate_opportunities", "load_opportunities",
    "outlook_from_files", "project_outlook",
]
