"""The plan explorer's view: ipywidgets controls and outputs over a :class:`PlanExplorer`.

Presentation only: every number shown comes from the controller's
:class:`~spmkit.explore.Snapshot` (which the library computed); this module formats it,
draws it with :mod:`spmkit.report.figures` and forwards control changes to the
controller.  An edit the controller refuses shows its message in the error label of the
control's group and leaves the figures at the last good plan.

Use ``ExplorerView(controller).widget`` in a notebook (see ``notebooks/plan_explorer.ipynb``).
Controls are reachable by key for tests (``view.controls["commission.bands[1].rate"]``)
and carry a CSS class ``spmkit-<key slug>`` for browser tests.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ipywidgets as w
import numpy as np
import pandas as pd

from spmkit.errors import SpmkitError
from spmkit.explore import PlanExplorer, Snapshot, plan_threshold, slugify
from spmkit.money import money_text
from spmkit.plan import Plan, load_plan

_RATIO_LABELS = {
    "cost_of_sales": "Cost of sales",
    "payout_pct_of_target": "Payout % of target",
    "median_attainment": "Median attainment",
    "share_at_or_above_100": "Reps at or above quota",
}
_MONEY_LABELS = {
    "total_payout_cents": "Total payout",
    "credited_revenue_cents": "Credited revenue",
    "target_incentive_cents": "Target incentive",
}
_CSS_CLASS = {
    "total_payout_cents": "spmkit-total-cost",
    "cost_of_sales": "spmkit-cost-of-sales",
}
_TABLE_CSS = ("<style>.spmkit-headline td, .spmkit-headline th, .spmkit-movers td, "
              ".spmkit-movers th {padding: 2px 10px}</style>")
_WIDE = w.Layout(width="320px")
_STYLE = {"description_width": "130px"}


def _float(value: Decimal | float | None) -> float:
    return 0.0 if value is None else float(value)


def _money(cents: int, sign: bool = False) -> str:
    text = money_text(cents)
    return f"+{text}" if sign and cents > 0 else text


def _ratio(value: float, sign: bool = False, points: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    if points:
        return f"{value * 100:+.2f} pts"
    return f"{value:+.2%}" if sign else f"{value:.2%}"


def _error_html(message: str) -> str:
    text = html.escape(message).replace("\n", "<br>")
    return f'<span class="spmkit-error" style="color:#b00020">{text}</span>'


class ExplorerView:
    """ipywidgets over a :class:`~spmkit.explore.PlanExplorer`.

    Parameters
    ----------
    controller : PlanExplorer
    movers : int
        How many reps to list among the biggest gains and losses.

    Attributes
    ----------
    widget : ipywidgets.Widget
        The whole explorer; display it.
    controls : dict[str, ipywidgets.Widget]
        Every control by key: ``start``, ``reset``, ``period``, ``uplift``, and per
        component ``<id>.basis``, ``<id>.method``, ``<id>.weight``, ``<id>.threshold``,
        ``<id>.cap_kind``, ``<id>.cap``, ``<id>.above_last``,
        ``<id>.bands[i].from``, ``<id>.bands[i].rate`` / ``.bcr_multiple``,
        ``<id>.curve[i].attainment``, ``<id>.curve[i].payout``; and ``save.name``,
        ``save.note``, ``save.overwrite``, ``save.button``.
    errors : dict[str, ipywidgets.HTML]
        The error label of each control group: ``start``, ``plan``, ``uplift``, each
        component id, ``save``.
    headline, movers_table : ipywidgets.HTML
    pay_curve_image, distribution_image : ipywidgets.Image
    """

    def __init__(self, controller: PlanExplorer, *, movers: int = 5):
        self.controller = controller
        self.movers = movers
        self.controls: dict[str, w.Widget] = {}
        self.errors: dict[str, w.HTML] = {}
        self._getters: dict[str, Callable[[Plan], Any]] = {}
        self._syncing = False
        self._structure: tuple = ()

        self.headline = w.HTML(layout=w.Layout(width="100%"))
        self.movers_table = w.HTML()
        self.pay_curve_image = w.Image(format="png", layout=w.Layout(width="48%"))
        self.distribution_image = w.Image(format="png", layout=w.Layout(width="48%"))
        self._components_box = w.VBox()

        top = self._build_top()
        save = self._build_save()
        self._rebuild_components()
        outputs = w.VBox([
            w.HTML("<h3>Edited plan vs baseline</h3>"), self.headline,
            w.HBox([self.pay_curve_image, self.distribution_image]),
            w.HTML("<h4>Reps who gain and lose most</h4>"), self.movers_table,
        ])
        controls = w.VBox([top, self._components_box, save],
                          layout=w.Layout(min_width="420px", max_width="480px"))
        self.widget = w.HBox([controls, outputs])
        self.widget.add_class("spmkit-explorer")
        self._sync_values()
        self._render(controller.snapshot)

    # ------------------------------------------------------------------ building

    def _register(self, key: str, widget: w.Widget,
                  getter: Callable[[Plan], Any] | None = None) -> w.Widget:
        self.controls[key] = widget
        widget.add_class("spmkit-" + slugify(key.replace(".", "-").replace("[", "-")))
        if getter is not None:
            self._getters[key] = getter
        return widget

    def _error_label(self, group: str) -> w.HTML:
        label = w.HTML(layout=w.Layout(width="100%"))
        label.add_class("spmkit-error-" + slugify(group))
        self.errors[group] = label
        return label

    def _bind(self, key: str, group: str, action: Callable[[Any], Snapshot]) -> None:
        def handler(change: dict[str, Any]) -> None:
            if not self._syncing:
                self._act(group, lambda: action(change["new"]))

        self.controls[key].observe(handler, names="value")

    def _build_top(self) -> w.Widget:
        c = self.controller
        files = c.scenario_files()
        options = [(p.name, str(p)) for p in files]
        current = next((str(p) for p in files if p.name == c.start_source), None)
        if current is None:  # started from a Plan object: select the file that holds it
            current = next((str(p) for p in files if _holds(p, c.start)), None)
        start = self._register("start", w.Dropdown(
            options=options, value=current, description="Start from", style=_STYLE,
            layout=_WIDE))
        start.observe(self._on_start, names="value")
        reset = self._register("reset", w.Button(description="Reset edits",
                                                  tooltip="Back to the starting plan"))
        reset.on_click(lambda _b: self._act("start", c.reset, rebuild=True))

        period = self._register("period", w.Dropdown(
            options=["month", "quarter", "year"], description="Payout period", style=_STYLE,
            layout=_WIDE), lambda p: p.period)
        self._bind("period", "plan", c.set_period)

        uplift = self._register("uplift", w.FloatSlider(
            value=0.0, min=-0.3, max=0.3, step=0.01, description="Sales uplift",
            readout_format="+.0%", continuous_update=False, style=_STYLE, layout=_WIDE))
        self._bind("uplift", "uplift", c.set_uplift)

        return w.VBox([
            w.HTML("<h3>Plan explorer</h3>"),
            w.HBox([start, reset]), self._error_label("start"),
            period, self._error_label("plan"),
            uplift, self._error_label("uplift"),
        ])

    def _rebuild_components(self) -> None:
        plan = self.controller.plan
        for key in [k for k in self.controls if "." in k and not k.startswith("save.")]:
            del self.controls[key]
            self._getters.pop(key, None)
        for comp in plan.components:
            self.errors.pop(comp.id, None)
        self._components_box.children = [self._component_group(comp)
                                         for comp in plan.components]
        self._structure = _structure(plan)

    def _component_group(self, comp: Any) -> w.Widget:
        c, cid = self.controller, comp.id
        rows: list[w.Widget] = [w.HTML(f"<b>{html.escape(cid)}</b> ({comp.type})")]

        def comp_of(plan: Plan) -> Any:
            return plan.component(cid)

        editable = comp.editable_fields()  # what the component offers the explorer
        if "attainment" in editable:
            rows.append(self._register(f"{cid}.basis", w.ToggleButtons(
                options=["ytd", "period"], description="Attainment", style=_STYLE),
                lambda p: comp_of(p).attainment))
            self._bind(f"{cid}.basis", cid, lambda v: c.set_attainment_basis(cid, v))
        if "weight" in editable:
            rows.append(self._register(f"{cid}.weight", w.FloatText(
                description="Weight", step=0.05, style=_STYLE, layout=_WIDE),
                lambda p: _float(comp_of(p).weight)))
            self._bind(f"{cid}.weight", cid, lambda v: c.set_weight(cid, v))
        if "threshold" in editable:
            rows.append(self._register(f"{cid}.threshold", w.FloatText(
                description="Threshold (x quota)", step=0.05, style=_STYLE, layout=_WIDE),
                lambda p: _float(plan_threshold(p, cid))))
            self._bind(f"{cid}.threshold", cid, lambda v: c.set_threshold(cid, v))
        if "tiers" in editable:
            method = self._register(f"{cid}.method", w.Dropdown(
                options=["marginal", "retroactive"], description="Tier method", style=_STYLE,
                layout=_WIDE), lambda p: comp_of(p).tiers.method)
            self._bind(f"{cid}.method", cid, lambda v: c.set_method(cid, v))
            rows.append(method)
            for i, band in enumerate(comp.tiers.bands):
                rows.append(self._band_row(cid, i, band))
            rows.append(self._add_button(f"{cid}.bands.add", "Add band", cid,
                                         lambda: c.add_band(cid)))
        if "curve" in editable:
            above = self._register(f"{cid}.above_last", w.Dropdown(
                options=["cap", "extend"], description="After last point", style=_STYLE,
                layout=_WIDE), lambda p: comp_of(p).above_last)
            self._bind(f"{cid}.above_last", cid, lambda v: c.set_above_last(cid, v))
            rows.append(above)
            for i, point in enumerate(comp.curve):
                rows.append(self._curve_row(cid, i, point))
            rows.append(self._add_button(f"{cid}.curve.add", "Add point", cid,
                                         lambda: c.add_curve_point(cid)))

        if "cap" in editable:
            rows.append(self._cap_row(cid, comp))
        rows.append(self._error_label(cid))
        box = w.VBox(rows, layout=w.Layout(border="1px solid #ddd", padding="4px",
                                           margin="4px 0"))
        box.add_class("spmkit-component-" + slugify(cid))
        return box

    def _band_row(self, cid: str, i: int, band: Any) -> w.Widget:
        c = self.controller
        start = self._register(f"{cid}.bands[{i}].from", w.FloatText(
            description=f"Band {i + 1} from", step=0.05, style={"description_width": "90px"},
            layout=w.Layout(width="170px")),
            lambda p: _float(p.component(cid).tiers.bands[i].start))
        self._bind(f"{cid}.bands[{i}].from", cid, lambda v: c.set_band(cid, i, start=v))
        if band.bcr_multiple is not None:
            key, top = f"{cid}.bands[{i}].bcr_multiple", max(5.0, 2 * float(band.bcr_multiple))
            slider = w.FloatSlider(min=0, max=top, step=0.05, description="x BCR",
                                   readout_format=".2f")

            def get(p: Plan) -> float:
                return _float(p.component(cid).tiers.bands[i].bcr_multiple)

            def act(v: Any) -> Snapshot:
                return c.set_band(cid, i, bcr_multiple=v)
        else:
            key, top = f"{cid}.bands[{i}].rate", max(0.5, 2 * abs(float(band.rate)))
            slider = w.FloatSlider(min=min(0.0, float(band.rate)), max=top, step=0.0025,
                                   description="rate", readout_format=".4f")

            def get(p: Plan) -> float:
                return _float(p.component(cid).tiers.bands[i].rate)

            def act(v: Any) -> Snapshot:
                return c.set_band(cid, i, rate=v)
        slider.continuous_update = False
        slider.style = {"description_width": "40px"}
        slider.layout = w.Layout(width="250px")
        self._register(key, slider, get)
        self._bind(key, cid, act)
        if i == 0:  # the tiers start at 0: the first band stays
            return w.HBox([start, slider])
        return w.HBox([start, slider, self._remove_button(
            f"{cid}.bands[{i}].remove", f"Remove band {i + 1}", cid,
            lambda: c.remove_band(cid, i))])

    def _curve_row(self, cid: str, i: int, point: tuple) -> w.Widget:
        c = self.controller
        att = self._register(f"{cid}.curve[{i}].attainment", w.FloatText(
            description=f"Point {i + 1} at", step=0.05, style={"description_width": "90px"},
            layout=w.Layout(width="170px")),
            lambda p: _float(p.component(cid).curve[i][0]))
        self._bind(f"{cid}.curve[{i}].attainment", cid,
                   lambda v: c.set_curve_point(cid, i, attainment=v))
        pay = self._register(f"{cid}.curve[{i}].payout", w.FloatSlider(
            min=0, max=max(3.0, 2 * float(point[1])), step=0.05, description="pays",
            readout_format=".2f", continuous_update=False, style={"description_width": "40px"},
            layout=w.Layout(width="250px")),
            lambda p: _float(p.component(cid).curve[i][1]))
        self._bind(f"{cid}.curve[{i}].payout", cid,
                   lambda v: c.set_curve_point(cid, i, payout=v))
        return w.HBox([att, pay, self._remove_button(
            f"{cid}.curve[{i}].remove", f"Remove point {i + 1}", cid,
            lambda: c.remove_curve_point(cid, i))])

    def _remove_button(self, key: str, tooltip: str, group: str,
                       action: Callable[[], Snapshot]) -> w.Widget:
        button = self._register(key, w.Button(description="\u2212", tooltip=tooltip,
                                              layout=w.Layout(width="32px")))
        button.on_click(lambda _b: self._act(group, action))
        return button

    def _add_button(self, key: str, text: str, group: str,
                    action: Callable[[], Snapshot]) -> w.Widget:
        button = self._register(key, w.Button(description=text, tooltip=text,
                                              layout=w.Layout(width="110px")))
        button.on_click(lambda _b: self._act(group, action))
        return button

    def _cap_row(self, cid: str, comp: Any) -> w.Widget:
        c = self.controller

        def kind(p: Plan) -> str:
            cap = p.component(cid).cap
            if cap is None:
                return "none"
            return "amount" if cap.amount is not None else "ti_multiple"

        def value(p: Plan) -> float:
            cap = p.component(cid).cap
            if cap is None:
                return 0.0
            return _float(cap.amount if cap.amount is not None else cap.ti_multiple)

        options = ["none", *comp.cap_kinds]
        kind_w = self._register(f"{cid}.cap_kind", w.Dropdown(
            options=options, description="Cap", style={"description_width": "80px"},
            layout=w.Layout(width="190px")), kind)
        value_w = self._register(f"{cid}.cap", w.FloatText(
            layout=w.Layout(width="120px")), value)

        def set_kind(k: str) -> Snapshot:
            if k == "none":
                return c.set_cap(cid)
            v = value_w.value or (3 if k == "ti_multiple" else 100_000)
            return c.set_cap(cid, **{k: v})

        def set_value(v: Any) -> Snapshot:
            k = kind_w.value
            if k == "none":
                return c.set_cap(cid, amount=v)  # typing an amount turns the cap on
            return c.set_cap(cid, **{k: v})

        self._bind(f"{cid}.cap_kind", cid, set_kind)
        self._bind(f"{cid}.cap", cid, set_value)
        return w.HBox([kind_w, value_w])

    def _build_save(self) -> w.Widget:
        name = self._register("save.name", w.Text(
            value=self.controller.plan.plan, description="Plan name", style=_STYLE,
            layout=_WIDE))
        note = self._register("save.note", w.Textarea(
            placeholder="What changed and why (goes into the file's comment)",
            description="Note", style=_STYLE, layout=_WIDE))
        overwrite = self._register("save.overwrite", w.Checkbox(
            value=False, description="Overwrite an existing file", indent=False))
        button = self._register("save.button", w.Button(
            description="Save as scenario", button_style="primary", icon="save"))
        button.on_click(self._on_save)
        self.save_status = w.HTML()
        self.save_status.add_class("spmkit-save-status")
        return w.VBox([w.HTML("<h4>Save as scenario</h4>"), name, note, overwrite, button,
                       self.save_status, self._error_label("save")])

    # ------------------------------------------------------------------ actions

    def _act(self, group: str, action: Callable[[], Snapshot], *, rebuild: bool = False
             ) -> bool:
        """Run a controller action; show its error in ``group``'s label or refresh."""
        try:
            snap = action()
        except SpmkitError as exc:
            self.errors[group].value = _error_html(str(exc))
            return False
        for label in self.errors.values():
            label.value = ""
        if rebuild or _structure(snap.plan) != self._structure:
            self._rebuild_components()
        self._sync_values()
        self._render(snap)
        return True

    def _on_start(self, change: dict[str, Any]) -> None:
        if self._syncing or change["new"] is None:
            return
        if self._act("start", lambda: self.controller.start_from(change["new"]), rebuild=True):
            self._set_quietly(self.controls["save.name"], self.controller.plan.plan)

    def _on_save(self, _button: Any) -> None:
        self.errors["save"].value = ""
        try:
            path = self.controller.save(note=self.controls["save.note"].value,
                                        name=self.controls["save.name"].value,
                                        overwrite=self.controls["save.overwrite"].value)
        except SpmkitError as exc:
            self.save_status.value = ""
            self.errors["save"].value = _error_html(str(exc))
            return
        self.save_status.value = (f'<span class="spmkit-saved">Saved '
                                  f'{html.escape(str(path))}</span>')
        files = self.controller.scenario_files()
        start = self.controls["start"]
        self._syncing = True
        try:
            current = start.value
            start.options = [(p.name, str(p)) for p in files]
            start.value = current if current in [str(p) for p in files] else None
        finally:
            self._syncing = False

    def _set_quietly(self, widget: w.Widget, value: Any) -> None:
        self._syncing = True
        try:
            widget.value = value
        finally:
            self._syncing = False

    def _sync_values(self) -> None:
        plan = self.controller.plan
        self._syncing = True
        try:
            for key, getter in self._getters.items():
                widget, value = self.controls[key], getter(plan)
                if isinstance(widget, w.FloatSlider):
                    widget.max = max(widget.max, value)
                    widget.min = min(widget.min, value)
                if widget.value != value:
                    widget.value = value
            self.controls["uplift"].value = self.controller.uplift
        finally:
            self._syncing = False

    # ------------------------------------------------------------------ outputs

    def _render(self, snap: Snapshot) -> None:
        self.headline.value = self._headline_html(snap)
        self.movers_table.value = self._movers_html(snap)
        from spmkit.report import figures

        self.pay_curve_image.value = _png(figures.plot_pay_curves, snap.pay_curves,
                                          "Pay curve (typical rep)")
        self.distribution_image.value = _png(figures.plot_payout_distribution, snap.outcomes,
                                             "Payout distribution")

    @staticmethod
    def _headline_html(snap: Snapshot) -> str:
        rows = []
        for metric, row in snap.headline.iterrows():
            css = _CSS_CLASS.get(str(metric), "")
            if metric in _MONEY_LABELS:
                label = _MONEY_LABELS[metric]
                base, new, delta = _money(row["baseline"]), _money(row["scenario"]), _money(
                    row["delta"], sign=True)
                if row["baseline"]:
                    delta += f" ({row['delta'] / row['baseline']:+.1%})"
            elif metric in _RATIO_LABELS:
                label = _RATIO_LABELS[metric]
                base, new = _ratio(row["baseline"]), _ratio(row["scenario"])
                delta = _ratio(row["delta"], points=True)
            else:
                label = str(metric).replace("_", " ").capitalize()
                base, new, delta = f"{row['baseline']:,}", f"{row['scenario']:,}", (
                    f"{row['delta']:+,}")
            rows.append(
                f'<tr><td>{html.escape(label)}</td><td style="text-align:right">{base}</td>'
                f'<td style="text-align:right" class="{css}">{new}</td>'
                f'<td style="text-align:right" class="{css + "-delta" if css else ""}">'
                f'{delta}</td></tr>')
        label = snap.scenario_label  # "edited: NAME" after edits, "NAME (no edits)" before
        label = html.escape(label[:1].upper() + label[1:])
        uplift = f" with sales {snap.uplift:+.0%}" if snap.uplift else ""
        shown = list(snap.changes[:3]) + ([f"and {len(snap.changes) - 3} more edits"]
                                          if len(snap.changes) > 3 else [])
        edits = ("".join(f'<br><small class="spmkit-edit">{html.escape(t)}</small>'
                         for t in shown))
        return (_TABLE_CSS + f'<table class="spmkit-headline" style="border-collapse:collapse">'
                f'<tr><th style="text-align:left">{snap.plan.currency}</th>'
                f'<th>Baseline</th><th class="spmkit-edited-label">{label}'
                f'{html.escape(uplift)}{edits}</th><th>Change</th></tr>'
                + "".join(rows) + "</table>")

    def _movers_html(self, snap: Snapshot) -> str:
        movers = snap.movers(self.movers)
        if movers.empty:
            return "<p>No rep's payout changes.</p>"
        head = ("<tr><th>Rep</th><th>Name</th><th>Region</th><th>Role</th><th>Attainment</th>"
                "<th>Baseline</th><th>Edited</th><th>Change</th></tr>")
        body = []
        for r in movers.itertuples(index=False):
            color = "#1b5e20" if r.direction == "gain" else "#b00020"
            att = r.attainment if isinstance(r.attainment, float) else np.nan
            body.append(
                f"<tr><td>{html.escape(str(r.rep_id))}</td><td>{_text(r.name)}</td>"
                f"<td>{_text(r.region)}</td><td>{_text(r.role)}</td>"
                f'<td style="text-align:right">{_ratio(att)}</td>'
                f'<td style="text-align:right">{_money(r.baseline_payout_cents)}</td>'
                f'<td style="text-align:right">{_money(r.payout_cents)}</td>'
                f'<td style="text-align:right;color:{color}">'
                f"{_money(r.delta_cents, sign=True)}</td></tr>")
        return (_TABLE_CSS + '<table class="spmkit-movers" style="border-collapse:collapse">' + head
                + "".join(body) + "</table>")


def _text(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    return html.escape(str(value))


def _holds(path: Any, plan: Plan) -> bool:
    try:
        return load_plan(path) == plan
    except SpmkitError:
        return False


def _structure(plan: Plan) -> tuple:
    """What decides which controls exist: components, band kinds, curve length."""
    out = []
    for comp in plan.components:
        bands = tuple("bcr" if b.bcr_multiple is not None else "rate"
                      for b in comp.tiers.bands) if "tiers" in comp.editable_fields() else ()
        curve = len(comp.curve) if "curve" in comp.editable_fields() else 0
        out.append((comp.id, comp.type, bands, curve))
    return tuple(out)


def _png(plot: Callable[..., Any], data: Any, title: str) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 3.4), dpi=96, layout="tight")
    ax = fig.subplots()
    plot(data, ax=ax)
    ax.set_title(title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
