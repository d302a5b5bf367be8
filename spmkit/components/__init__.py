"""Component types: one class per ``type:``, each carrying its fields, measure
description, earner, explanation and editable fields (see :mod:`spmkit.components.base`)."""

from spmkit.components.base import (
    COMPONENT_TYPES,
    EDITABLE,
    FILTER_COLUMNS,
    Cap,
    Component,
    MeasureSpec,
)
from spmkit.components.bonus import Bonus
from spmkit.components.commission import Band, Commission, Tiers
from spmkit.components.measure import Measure
from spmkit.components.spif import Spif

__all__ = [
    "COMPONENT_TYPES", "EDITABLE", "FILTER_COLUMNS", "Band", "Bonus", "Cap", "Commission",
    "Component", "Measure", "MeasureSpec", "Spif", "Tiers",
]
