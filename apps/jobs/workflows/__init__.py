"""Workflows: graph validation into an execution :class:`Plan`, and its price in credits.

``validate_workflow(user=, nodes=, edges=)`` answers a :class:`ValidationResult`;
``estimate_cost(plan=, row_count=, column_count=)`` a ``Decimal``. The node format is documented
in :mod:`apps.jobs.workflows.validation`.
"""

from apps.jobs.workflows.plan import Plan, PlanStep
from apps.jobs.workflows.pricing import estimate_cost
from apps.jobs.workflows.validation import ValidationResult, validate_workflow

__all__ = ["Plan", "PlanStep", "ValidationResult", "estimate_cost", "validate_workflow"]
