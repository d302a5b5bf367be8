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


def test_identical_pay_curves_stay_distinguishable(pay_curves):
    """Three plans paying the same curve: each line has its own dash pattern and marker,
    and the lines drawn first are wider, so the one beneath shows around the one above."""
    same = pd.concat([pay_curves[pay_curves["plan"] == "Base"].assign(plan=name)
                      for name in ("A", "B", "C")], ignore_index=True)
    ax = F.plot_pay_curves(same)
    lines = ax.lines
    assert len(lines) == 3
    assert len({str(line.get_linestyle()) for line in lines}) == 3
    assert len({line.get_marker() for line in lines}) == 3
    widths = [line.get_linewidth() for line in lines]
    assert widths == sorted(widths, reverse=True) and widths[0] > widths[-1]
    assert [line.get_zorder() for line in lines] == sorted(line.get_zorder() for line in lines)


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


def test_payout_distribution_bins_never_show_one_reps_pay():
    """Without targets the bins span a rounded range (1-2-5 steps from 0), so the first and
    last labels are not the lowest and highest rep's pay: 1,234.56 and 87,654.32 give
    0-20k ... 80k-100k."""
    pays = pd.DataFrame({"plan": ["P"] * 3, "payout_cents": [123_456, 4_000_000, 8_765_432],
                         "payout_pct_of_target": [np.nan] * 3})
    ax = F.plot_payout_distribution(pays, ax=new_ax())
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["0-20k", "20k-40k", "40k-60k", "60k-80k", "80k-100k"]


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


# ------------------------------------------------------------------ user text with dollars

#: Matplotlib reads text between two ``$`` as math: ``$$`` failed to draw (ValueError) and
#: ``$\frac{a}{b}$`` was typeset as a fraction.
HOSTILE = r"Plan $$ $\frac{a}{b}$"


def _shown_texts(ax: Axes) -> list[str]:
    """Every text of the drawn figure as matplotlib shows it; fails on any math text."""
    from matplotlib.text import Text

    fig = ax.figure
    fig.canvas.draw()  # raised ValueError (mathtext ParseException) before the escaping
    shown = []
    for t in fig.findobj(Text):
        text, is_math = t._preprocess_math(t.get_text())
        assert not is_math, f"{t.get_text()!r} is drawn as math"
        shown.append(text)
    return shown


def test_user_text_with_dollars_is_drawn_literally(pay_curves, outcomes):
    names = {"Base": HOSTILE, "Richer": "Richer $x$"}
    curves = pay_curves.assign(plan=pay_curves["plan"].map(names))
    outs = outcomes.assign(plan=outcomes["plan"].map(names))
    outs.loc[outs["plan"] == HOSTILE, "attainment"] = 0.1  # two series of bands: notes
    outs.loc[outs["plan"] == HOSTILE, "credit_cents"] = 100
    ch = np.linspace(-0.3, 0.3, 3)
    sens = pd.DataFrame({"plan": np.repeat([HOSTILE, "Richer $x$"], 3),
                         "sales_change": np.tile(ch, 2), "cost_of_sales": 0.05})
    seg = pd.DataFrame({"plan": [HOSTILE, HOSTILE, "B", "B"], "by": "$by$",
                        "segment": ["$East$", "West $$"] * 2, "delta_cents": [100, -50, 1, 2]})
    deltas = pd.DataFrame({"plan": [HOSTILE, HOSTILE, "B"], "delta_cents": [1, -1, 0],
                           "delta_pct": [0.5, -0.5, 0.0]})
    risk = pd.DataFrame({"plan": [HOSTILE, "a$b$" * 6], "p10": [1, 2], "p50": [2, 3],
                         "p90": [3, 4]})
    cases = [(F.plot_pay_curves, curves, {}), (F.plot_payout_distribution, outs, {}),
             (F.plot_attainment_distribution, outs, {}), (F.plot_sensitivity, sens, {}),
             (F.plot_winners_losers, seg, {}), (F.plot_winners_losers, deltas, {}),
             (F.plot_risk, risk, {})]
    for fn, data, options in cases:
        shown = " | ".join(_shown_texts(fn(data, ax=new_ax(), **options))).replace("\n", " ")
        assert HOSTILE in shown, fn.__name__
    assert "$East$" in shown_of(F.plot_winners_losers, seg)
    assert "Payout change by $by$" in shown_of(F.plot_winners_losers, seg)
    # a long name is wrapped before it is escaped: no escape is split across lines
    assert "a$b$a$b$a$b$a$b$\na$b$a$b$" in shown_of(F.plot_risk, risk)


def shown_of(fn, data) -> list[str]:
    return _shown_texts(fn(data, ax=new_ax()))


def test_mpl_text_escapes_every_dollar_and_keeps_the_rest():
    assert F.mpl_text(HOSTILE) == r"Plan \$\$ \$\frac{a}{b}\$"
    assert F.mpl_text("Plain & <b>") == "Plain & <b>"
    assert F.mpl_text(2026) == "2026"


def test_quota_figures_draw_user_text_literally():
    from spmkit.quota.figures import plot_attainment_bands

    bands = pd.DataFrame({"band": ["<50%", "$$", "$x$"], "reps": [1, 2, 3]})
    ax = plot_attainment_bands(bands, ax=new_ax())
    assert [p.get_height() for p in ax.patches] == [1, 2, 3]
    shown = _shown_texts(ax)
    assert "$$" in shown and "$x$" in shown


def test_report_runs_with_a_dollar_plan_name_and_a_newline_in_the_plan_path(
        tmp_path, sample_data, plan_files):
    """`spmkit report` end to end: a plan named with ``$$`` and ``$\\frac{a}{b}$`` used to
    crash the figures, and a plan file whose path holds a newline was read as YAML text in
    the notebook ("<plan>, line 1: a plan must be a mapping")."""
    import json

    from conftest import PLANS, run_cli

    folder = tmp_path / "odd\nfolder"
    folder.mkdir()
    odd = folder / "scenario\n2.yaml"
    odd.write_text(PLANS["accelerator.yaml"].replace("plan: Steeper accelerator",
                                                     f"plan: '{HOSTILE}'"), encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("report", "--data", sample_data, "--baseline", plan_files["baseline"],
                   "--scenarios", odd, "--out", out, "--draws", "50", "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert HOSTILE in metrics and "Baseline 2025" in metrics
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<img" in html and "frac{a}{b}" in html
