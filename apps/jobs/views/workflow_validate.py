"""003's ``POST /api/workflows/validate``: check a workflow graph and price it, without running it."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.environments.views.common import validated
from apps.jobs.workflows import estimate_cost, validate_workflow


class WorkflowGraphInput(serializers.Serializer):
    """The builder's graph. Only the two lists are checked here; their items are the validator's."""

    nodes = serializers.ListField(child=serializers.JSONField(), allow_empty=True)
    edges = serializers.ListField(child=serializers.JSONField(), allow_empty=True)


class ValidationErrorOutput(serializers.Serializer):
    """One problem: the node (null for the whole graph), the field of its ``data``, and why."""

    node_id = serializers.CharField(allow_null=True)
    field = serializers.CharField()
    message = serializers.CharField()


class WorkflowValidationOutput(serializers.Serializer):
    """The verdict and, for a valid workflow, its price in credits."""

    valid = serializers.BooleanField()
    errors = ValidationErrorOutput(many=True)
    estimated_cost = serializers.FloatField(allow_null=True, help_text="Credits; null when invalid")


class WorkflowValidateView(APIView):
    """Validate a workflow: 200 with ``valid`` false and per-node ``errors`` when it is not runnable."""

    @extend_schema(request=WorkflowGraphInput, responses=WorkflowValidationOutput)
    def post(self, request: Request) -> Response:
        graph = validated(WorkflowGraphInput, request)
        result = validate_workflow(user=request.user, nodes=graph["nodes"], edges=graph["edges"])
        cost = None
        if result.plan is not None:
            plan = result.plan
            cost = float(estimate_cost(plan=plan, row_count=plan.row_count, column_count=plan.column_count))
        return Response({"valid": result.valid, "errors": result.errors, "estimated_cost": cost})
