"""A small CRM export like the one of issue 11, generated for the tests.

``sales_pipeline.csv``: won, lost and open opportunities (open ones have no close date),
owners in ``sales_agent``, a product spelled two ways (``GTXPro`` and ``GTX Pro``), close
dates from March to December 2017 (ten months); ``sales_teams.csv``: agents, their
manager (who appears only in the ``manager`` column) and office; ``products.csv``.  No
quotas, no target incentives.  ``crm.yaml``: the mapping of docs/mapping.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

AGENTS = {"Anna Ames": ("Mia Mgr", "West"), "Bo Bell": ("Mia Mgr", "West"),
          "Cy Cole": ("Mia Mgr", "West"), "Di Dunn": ("Ned Nash", "East"),
          "Ed Egan": ("Ned Nash", "East"), "Flo Fox": ("Ned Nash", "East")}
PRODUCTS = {"GTX Pro": 4821, "MG Special": 55, "GTX Basic": 550}

MAPPING = """\
deals:
  file: sales_pipeline.csv
  columns: {deal_id: opportunity_id, rep_id: sales_agent, close_date: close_date,
            amount: close_value, product: product, account: account}
  where: {deal_stage: [Won]}
  values: {product: {GTXPro: GTX Pro}}
  defaults: {currency: USD}
roster:
  file: sales_teams.csv
  columns: {rep_id: sales_agent, name: sales_agent, manager_id: manager,
            region: regional_office}
  defaults: {role: AE}
  managers: {role: Manager}
  target_incentive: {by_role: {AE: 50000, Manager: 80000}}
"""


def write_crm(folder: Path, *, seed: int = 7, rows: int = 120) -> Path:
    """Write the CRM export and ``crm.yaml`` into ``folder``; returns the mapping path."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    agents = np.array(list(AGENTS))
    stage = rng.choice(["Won", "Won", "Won", "Lost", "Engaging", "Prospecting"], size=rows)
    product = rng.choice(["GTX Pro", "GTXPro", "MG Special", "GTX Basic"], size=rows)
    day = pd.Timestamp("2017-03-01") + pd.to_timedelta(rng.integers(0, 306, size=rows), "D")
    closed = np.isin(stage, ["Won", "Lost"])
    value = np.where(stage == "Won", rng.integers(50, 5000, size=rows), 0)
    pipeline = pd.DataFrame({
        "opportunity_id": [f"OPP{i:04d}" for i in range(rows)],
        "sales_agent": agents[np.arange(rows) % len(agents)],
        "product": product,
        "account": rng.choice(["Acme", "Globex", "Initech", "Umbrella"], size=rows),
        "deal_stage": stage,
        "engage_date": (day - pd.Timedelta(days=30)).strftime("%Y-%m-%d"),
        "close_date": np.where(closed, day.strftime("%Y-%m-%d"), ""),
        "close_value": np.where(closed, value.astype(str), ""),
    })
    pipeline.to_csv(folder / "sales_pipeline.csv", index=False)
    pd.DataFrame({"sales_agent": list(AGENTS), "manager": [m for m, _ in AGENTS.values()],
                  "regional_office": [r for _, r in AGENTS.values()]}).to_csv(
        folder / "sales_teams.csv", index=False)
    pd.DataFrame({"product": list(PRODUCTS), "sales_price": list(PRODUCTS.values())}).to_csv(
        folder / "products.csv", index=False)
    path = folder / "crm.yaml"
    path.write_text(MAPPING, encoding="utf-8")
    return path
