"""What a plan costs in credits: deterministic, documented, always more than zero.

::

    size   = 1 + (rows x columns) / 1,000,000          one extra unit per million cells
    folds  = (cv_folds + 1) / 6                         1.0 at the default 5 folds (+1: the final fit)
    model  = 0.50 x model.cost_factor x size x folds    per model node
    step   = 0.50 x step.cost_factor x size            per preprocessing node (cost_factor 0.1)
    plots  = 0.02 x plots x models                      rendering
    cost   = 1.00 + sum(model) + sum(step) + plots      rounded up to the cent

The cost factors live on the plugins (e.g. linear models 0.3-0.5, random forest 2.0, gradient
boosting 2.5, SVM 3.0). A 1,000-row, 10-column dataset with one random forest costs 2.03 credits.
"""

from decimal import ROUND_UP, Decimal

from apps.jobs.plugins import registry
from apps.jobs.workflows.plan import Plan

BASE = Decimal("1.00")
PER_MODEL = Decimal("0.50")
PER_STEP = Decimal("0.50")
PER_PLOT = Decimal("0.02")
CELLS_PER_SIZE_UNIT = 1_000_000
CENT = Decimal("0.01")


def size_factor(*, row_count: int, column_count: int) -> Decimal:
    """1 plus one per million cells."""
    cells = max(int(row_count), 0) * max(int(column_count), 1)
    return 1 + Decimal(cells) / CELLS_PER_SIZE_UNIT


def estimate_cost(*, plan: Plan, row_count: int, column_count: int) -> Decimal:
    """The credits ``plan`` costs on a dataset of ``row_count`` x ``column_count`` (see module doc)."""
    size = size_factor(row_count=row_count, column_count=column_count)
    folds = Decimal(plan.cv_folds + 1) / 6
    cost = BASE
    for step in plan.models:
        cost += PER_MODEL * Decimal(str(registry.model(step.plugin).cost_factor)) * size * folds
    for step in plan.preprocessing:
        cost += PER_STEP * Decimal(str(registry.preprocessor(step.plugin).cost_factor)) * size
    cost += PER_PLOT * len(plan.plots) * len(plan.models)
    return max(cost.quantize(CENT, rounding=ROUND_UP), CENT)
