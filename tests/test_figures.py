"""spmkit.report.figures: each plot reads its frame, draws the expected marks, takes an ax."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from spmkit.report import figures as F
from spmkit.scenario import BANDS

PLANS = ["Base", "Richer"]


def new_ax() -> Axes:
    return Figure().add_subplot()


def _bars(ax: Axes) -> int:
    return sum(len(c) for c in ax.containers)


@pytest.fixture
def pay_curves() -> pd.DataFrame:
    a = np.linspace(0, 2, 5)
    return pd.DataFrame({"plan": np.repeat(PLANS, 5), "attainment": np.tile(a, 2),
                         "payout_cents": np.r_[a * 100, a * 120].astype(np.int64),
                         "payout_pct_of_target": np.r_[a, a * 1.2]})


@pytest.fixture
def outcomes() -> pd.DataFrame:
    rows = []
    for plan, factor in zip(PLANS, (1.0, 1.2), strict=True):
        for i, (att, pct) in enumerate([(0.4, 0.2), (0.8, 0.4), (1.0, 0.5), (1.2, 0.6),
                                        (2.5, 2.5)]):
            rows.append({"plan": plan, "rep_id": f"R{i}", "name": f"Secret Name {i}",
                         "region": "East", "role": "AE", "target_incentive_cents": 100,
                         "credit_cents": int(att * 1000), "quota_cents": 1000,
                         "attainment": att, "payout_cents": int(pct * 100 * factor),
                         "payout_pct_of_target": pct * factor})
    return pd.DataFrame(rows)


def test_pay_curves_one_line_per_plan_in_percent_of_target(pay_curves):
    ax = F.plot_pay_curves(pay_curves)
    assert isinstance(ax, Axes)
    assert len(ax.lines) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == PLANS
    np.testing.assert_allclose(ax.lines[1].get_ydata(), np.linspace(0, 2, 5) * 1.2)
    assert "%" in ax.yaxis.get_major_formatter()(0.5, 0)
    given = new_ax()
    assert F.plot_pay_curves(pay_curves[pay_curves["plan"] == "Base"], ax=given) is given
    assert len(given.lines) == 1


def test_payout_distribution_bars_per_bin_and_plan(outcomes):
    ax = F.plot_payout_distribution(outcomes, ax=new_ax())
    assert len(ax.patches) == len(F.PAYOUT_BINS) * 2
    base = [p.get_height() for p in ax.containers[0]]
    # Base: 0.2, 0.4 -> <50%; 0.5, 0.6 -> 50-100%; 2.5 -> >=200%
    assert base == pytest.approx([0.4, 0.4, 0.0, 0.0, 0.2])


def test_payout_distribution_falls_back_to_amounts_without_targets(outcomes):
    no_target = outcomes.assign(payout_pct_of_target=np.nan)
    ax = F.plot_payout_distribution(no_target, ax=new_ax())
    assert len(ax.patches) == 10
    assert sum(p.get_height() for p in ax.containers[0]) == pytest.approx(1.0)


def test_attainment_distribution_from_outcomes_or_bands(outcomes):
    ax = F.plot_attainment_distribution(outcomes, ax=new_ax())
    # both plans have the same attainment: drawn once, as "All plans"
    assert _bars(ax) == len(BANDS)
    heights = [p.get_height() for p in ax.containers[0]]
    assert heights == pytest.approx([0.2, 0.0, 0.2, 0.4, 0.0, 0.2])
    text = " ".join(t.get_text() for t in ax.texts)
    assert "60% of reps at or above quota" in text and "60%-70%" in text
    bands = pd.DataFrame({"plan": np.repeat(PLANS, 6), "band": list(BANDS) * 2,
                          "reps": [1, 2, 3, 4, 0, 0, 0, 2, 3, 4, 1, 0]})
    ax2 = F.plot_attainment_distribution(bands, ax=new_ax())
    assert _bars(ax2) == 12


def test_sensitivity_lines_over_the_cost_of_sales_norm():
    ch = np.linspace(-0.3, 0.3, 13)
    sens = pd.DataFrame({"plan": np.repeat(PLANS, 13), "sales_change": np.tile(ch, 2),
                         "total_payout_cents": 1, "revenue_cents": 1,
                         "cost_of_sales": np.r_[0.05 + ch / 10, 0.06 + ch / 10]})
    ax = F.plot_sensitivity(sens, ax=new_ax())
    assert len(ax.lines) == 2
    spans = [p for p in ax.patches if "cost of sales" in p.get_label()]
    assert len(spans) == 1
    ys = spans[0].get_path().transformed(spans[0].get_patch_transform()).vertices[:, 1]
    assert (min(ys), max(ys)) == pytest.approx(F.COST_OF_SALES_NORM)


def test_winners_losers_buckets_reps_without_naming_them():
    deltas = pd.DataFrame({
        "plan": "Richer", "rep_id": [f"R{i}" for i in range(6)],
        "name": [f"Secret Name {i}" for i in range(6)],
        "delta_cents": [-500, -5, 0, 5, 500, 100],
        "delta_pct": [-0.5, -0.05, 0.0, 0.05, 0.5, np.nan],  # last: baseline paid 0
    })
    ax = F.plot_winners_losers(deltas, ax=new_ax())
    assert [p.get_height() for p in ax.patches] == [1, 1, 1, 1, 2]
    assert "Secret" not in _all_text(ax)


def test_winners_losers_by_segment():
    seg = pd.DataFrame({"plan": np.repeat(PLANS, 4), "by": ["region", "region", "role",
                                                            "role"] * 2,
                        "segment": ["East", "West", "AE", "SDR"] * 2,
                        "delta_cents": [100, -50, 30, 20, 10, 20, 30, 40]})
    ax = F.plot_winners_losers(seg, ax=new_ax())
    assert len(ax.patches) == 4  # 2 regions x 2 plans
    assert [p.get_width() for p in ax.containers[0]] == [100, -50]
    ax2 = F.plot_winners_losers(seg, ax=new_ax(), by="role")
    assert [t.get_text() for t in ax2.get_yticklabels()] == ["AE", "SDR"]


def test_risk_one_bar_per_plan_with_p10_p90_range():
    risk = pd.DataFrame({"plan": PLANS, "p10": [90_00, 100_00], "p50": [100_00, 110_00],
                         "p90": [120_00, 130_00]})
    ax = F.plot_risk(risk, ax=new_ax())
    assert [p.get_height() for p in ax.patches] == [100_00, 110_00]
    assert [t.get_text() for t in ax.get_xticklabels()] == PLANS
    one = F.plot_risk(pd.Series({"p10": 1, "p50": 2, "p90": 3}))
    assert [p.get_height() for p in one.patches] == [2]  # the bar is the P50


def _all_text(ax: Axes) -> str:
    fig = ax.figure
    fig.canvas.draw()
    return " ".join(t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text")))


def test_no_rep_identity_in_any_figure(pay_curves, outcomes):
    deltas = outcomes.assign(baseline_payout_cents=1, delta_cents=0, delta_pct=0.0)
    for fn, data in [(F.plot_payout_distribution, outcomes),
                     (F.plot_attainment_distribution, outcomes),
                     (F.plot_winners_losers, deltas), (F.plot_pay_curves, pay_curves)]:
        text = _all_text(fn(data, ax=new_ax()))
        assert "Secret" not in text and "R1" not in text, fn.__name__


def test_importing_the_report_package_pulls_in_no_heavy_modules():
    code = ("import sys, spmkit.report; "
            "print(any(m in sys.modules for m in ('papermill', 'matplotlib', 'nbconvert')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_figures_work_without_pyplot_and_set_no_backend():
    code = ("import sys, pandas as pd; from spmkit.report import figures as F; "
            "ax = F.plot_risk(pd.Series({'p10': 1, 'p50': 2, 'p90': 3})); "
            "ax.figure.canvas.print_png(open('/dev/null', 'wb')); "
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
