"""The jobs services' door to workflow validation, pricing (``apps.jobs.workflows``) and to the
dataset a plan trains on (``apps.datasets``)."""

from decimal import Decimal
from pathlib import Path
from typing import Any

from apps.core.errors import ErrorCode, HangarError
from apps.jobs.workflows import Plan, estimate_cost, validate_workflow


def validated_plan(*, user: Any, nodes: list, edges: list) -> dict[str, Any]:
    """The plan of a valid workflow as JSON; 400 ``INVALID_WORKFLOW`` with ``errors`` otherwise."""
    result = validate_workflow(user=user, nodes=nodes, edges=edges)
    if not result.valid:
        first = result.errors[0]["message"] if result.errors else "invalid"
        raise HangarError(
            f"Workflow is invalid: {first}",
            error_code=ErrorCode.INVALID_WORKFLOW,
            status_code=400,
            errors=result.errors,
        )
    return result.plan.to_dict()


def plan_of(plan: dict[str, Any]) -> Plan:
    """The stored plan as a :class:`Plan` (400 if it is of a version this Hangar cannot run)."""
    try:
        return Plan.from_dict(plan)
    except (KeyError, TypeError, ValueError) as exc:
        raise HangarError(
            f"This workflow snapshot cannot be run: {exc}", error_code=ErrorCode.INVALID_WORKFLOW, status_code=400
        ) from exc


def price(*, plan: dict[str, Any]) -> Decimal:
    """The credits the plan costs on its dataset version's size."""
    parsed = plan_of(plan)
    return estimate_cost(plan=parsed, row_count=parsed.row_count, column_count=parsed.column_count)


def plan_steps(plan: dict[str, Any]) -> list[tuple[str, str, dict]]:
    """``(node_id, plugin, params)`` of the preprocessing then model nodes."""
    return [
        (step["node_id"], step["plugin"], step.get("params") or {})
        for step in [*(plan.get("preprocessing") or []), *(plan.get("models") or [])]
    ]


def data_path(*, user: Any, plan: dict[str, Any]) -> Path:
    """A local path of the Parquet file of the plan's dataset version (404 if it is gone)."""
    from apps.datasets.selectors import dataset_version_get, dataset_version_local_path

    version = dataset_version_get(user=user, version_id=plan["dataset_version_id"])
    return dataset_version_local_path(version=version)
