"""The plan the CLI tests run on (test_cli.py works its payouts by hand; test_cli_errors.py
breaks it line by line, so its line numbers matter)."""

PLAN = """\
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
