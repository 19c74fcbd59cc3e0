"""003's ``/api/plugins/*``: the static catalogue of models, preprocessing, metrics and plots.

The catalogue only changes with a deploy, so every answer carries an ``ETag`` (a hash of the body)
and ``Cache-Control: private, max-age=3600``; a client that sends the ETag back in
``If-None-Match`` gets ``304 Not Modified`` with no body. ``private``: the routes need a token.
"""

import hashlib
import json
from functools import lru_cache
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ErrorCode, HangarError, NotFound
from apps.environments.views.common import validated_query
from apps.jobs.plugins import registry
from apps.jobs.plugins.base import PROBLEM_TYPES, UnknownPlugin

CACHE_CONTROL = "private, max-age=3600"


class ProblemTypeQuery(serializers.Serializer):
    """``?problem_type=`` (empty means no filter)."""

    problem_type = serializers.ChoiceField(choices=PROBLEM_TYPES, required=False, allow_blank=True)


class CategoryQuery(serializers.Serializer):
    """``?category=`` (empty means no filter)."""

    category = serializers.ChoiceField(choices=registry.CATEGORY_KEYS, required=False, allow_blank=True)


class PluginSummaryOutput(serializers.Serializer):
    """003's summary fields."""

    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    icon = serializers.CharField()
    problemTypes = serializers.ListField(child=serializers.ChoiceField(choices=PROBLEM_TYPES))
    category = serializers.CharField()
    bestFor = serializers.CharField()


class HyperparameterOutput(serializers.Serializer):
    """003's Hyperparameter Definition (``options``: ``[{"value", "label"}]`` for selects)."""

    key = serializers.CharField()
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["number", "integer", "select", "boolean", "string"])
    default = serializers.JSONField(allow_null=True)
    description = serializers.CharField()
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)
    step = serializers.FloatField(allow_null=True)
    options = serializers.ListField(child=serializers.DictField())
    required = serializers.BooleanField()
    nullable = serializers.BooleanField()


class HyperparameterGroupsOutput(serializers.Serializer):
    """Parameters shown at once (``main``) and behind a toggle (``advanced``)."""

    main = HyperparameterOutput(many=True)
    advanced = HyperparameterOutput(many=True)


class CapabilitiesOutput(serializers.Serializer):
    """Slugs of the metrics and plots a model can report."""

    metrics = serializers.ListField(child=serializers.CharField())
    plots = serializers.ListField(child=serializers.CharField())


class ModelDetailOutput(PluginSummaryOutput):
    """A model plugin in full."""

    hyperparameters = HyperparameterGroupsOutput()
    capabilities = CapabilitiesOutput()


class PreprocessingDetailOutput(PluginSummaryOutput):
    """A preprocessing plugin in full; ``appliesTo`` says which columns it transforms."""

    hyperparameters = HyperparameterGroupsOutput()
    appliesTo = serializers.ChoiceField(choices=["numeric", "categorical", "all"])


class EvaluationSummaryOutput(PluginSummaryOutput):
    """A metric or plot; ``requires`` is labels, scores, features or estimator."""

    requires = serializers.CharField()
    higherIsBetter = serializers.BooleanField(required=False, help_text="Metrics only")


class CategoryOutput(serializers.Serializer):
    """A preprocessing category."""

    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    icon = serializers.CharField()


class CatalogueOutput(serializers.Serializer):
    """``GET /api/plugins``."""

    models = PluginSummaryOutput(many=True)
    preprocessing = PluginSummaryOutput(many=True)


PluginSummary = PluginSummaryOutput
ModelDetail = ModelDetailOutput
PreprocessingDetail = PreprocessingDetailOutput
EvaluationSummary = EvaluationSummaryOutput
_NOT_FOUND = OpenApiResponse(description="No plugin has that slug")
_BAD_FILTER = OpenApiResponse(description="Unknown problem type or category (or one the model does not serve)")


def _problem_type(request: Request) -> str | None:
    return validated_query(ProblemTypeQuery, request).get("problem_type") or None


@lru_cache(maxsize=256)
def _etag(payload: str) -> str:
    return '"' + hashlib.sha256(payload.encode()).hexdigest()[:32] + '"'


def catalogue_response(request: Request, body: Any) -> Response:
    """``body`` with an ETag and cache headers, or a bodiless 304 when the client's copy is current."""
    etag = _etag(json.dumps(body, sort_keys=True, default=str))
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = Response(status=304)
    else:
        response = Response(body)
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


class PluginCatalogueView(APIView):
    """Models and preprocessing methods, both filtered by ``problem_type`` when given."""

    @extend_schema(parameters=[ProblemTypeQuery], responses={200: CatalogueOutput, 400: _BAD_FILTER})
    def get(self, request: Request) -> Response:
        problem_type = _problem_type(request)
        return catalogue_response(
            request,
            {
                "models": [m.summary() for m in registry.models(problem_type=problem_type)],
                "preprocessing": [p.summary() for p in registry.preprocessors(problem_type=problem_type)],
            },
        )


class ModelListView(APIView):
    """Model summaries, filtered by ``problem_type``."""

    @extend_schema(parameters=[ProblemTypeQuery], responses={200: PluginSummary(many=True), 400: _BAD_FILTER})
    def get(self, request: Request) -> Response:
        problem_type = _problem_type(request)
        return catalogue_response(request, [m.summary() for m in registry.models(problem_type=problem_type)])


class ModelDetailView(APIView):
    """One model with its hyperparameters and capabilities (for ``problem_type`` when given)."""

    @extend_schema(parameters=[ProblemTypeQuery], responses={200: ModelDetail, 400: _BAD_FILTER, 404: _NOT_FOUND})
    def get(self, request: Request, slug: str) -> Response:
        problem_type = _problem_type(request)
        try:
            model = registry.model(slug)
        except UnknownPlugin as exc:
            raise NotFound(f"No model plugin '{slug}'") from exc
        if problem_type and not model.supports(problem_type):
            raise HangarError(f"{model.name} does not support {problem_type}", error_code=ErrorCode.BAD_REQUEST)
        return catalogue_response(request, model.detail(problem_type))


class PreprocessingListView(APIView):
    """Preprocessing summaries, filtered by ``category``."""

    @extend_schema(parameters=[CategoryQuery], responses={200: PluginSummary(many=True), 400: _BAD_FILTER})
    def get(self, request: Request) -> Response:
        category = validated_query(CategoryQuery, request).get("category") or None
        return catalogue_response(request, [p.summary() for p in registry.preprocessors(category=category)])


class PreprocessingCategoriesView(APIView):
    """The preprocessing categories."""

    @extend_schema(responses=CategoryOutput(many=True))
    def get(self, request: Request) -> Response:
        return catalogue_response(request, [dict(c) for c in registry.PREPROCESSING_CATEGORIES])


class PreprocessingDetailView(APIView):
    """One preprocessing method with its hyperparameters."""

    @extend_schema(responses={200: PreprocessingDetail, 404: _NOT_FOUND})
    def get(self, request: Request, slug: str) -> Response:
        try:
            plugin = registry.preprocessor(slug)
        except UnknownPlugin as exc:
            raise NotFound(f"No preprocessing plugin '{slug}'") from exc
        return catalogue_response(request, plugin.detail())


class MetricListView(APIView):
    """Evaluation metrics, filtered by ``problem_type``."""

    @extend_schema(parameters=[ProblemTypeQuery], responses={200: EvaluationSummary(many=True), 400: _BAD_FILTER})
    def get(self, request: Request) -> Response:
        problem_type = _problem_type(request)
        return catalogue_response(request, [m.summary() for m in registry.metrics(problem_type=problem_type)])


class PlotListView(APIView):
    """Plot types, filtered by ``problem_type``."""

    @extend_schema(parameters=[ProblemTypeQuery], responses={200: EvaluationSummary(many=True), 400: _BAD_FILTER})
    def get(self, request: Request) -> Response:
        problem_type = _problem_type(request)
        return catalogue_response(request, [p.summary() for p in registry.plots(problem_type=problem_type)])
