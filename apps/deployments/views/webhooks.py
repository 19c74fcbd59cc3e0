"""``POST /api/v1/webhooks/github`` and ``/gitlab``: no user authentication; each delivery proves
itself with the linked repository's secret (GitHub's HMAC signature, GitLab's token)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.deployments.services.webhooks import webhook_github, webhook_gitlab


class _WebhookView(APIView):
    # The signature covers the raw body, so the view reads request.body and parses it itself.
    authentication_classes: list = []
    permission_classes = [AllowAny]


def _header(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, location=OpenApiParameter.HEADER, description=description)


class GitHubWebhookView(_WebhookView):
    """A GitHub delivery: ``ping`` answers 200; ``push`` to a linked branch redeploys the linked
    notebooks (202); a bad or missing ``X-Hub-Signature-256`` is 401; a repeated
    ``X-GitHub-Delivery`` is acknowledged as a duplicate."""

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT},
        parameters=[
            _header("X-Hub-Signature-256", "sha256=<HMAC-SHA256 of the body under the link's secret>"),
            _header("X-GitHub-Event", "ping, push, ..."),
            _header("X-GitHub-Delivery", "The delivery's unique id"),
        ],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        result = webhook_github(body=request.body, headers=request.headers, content_type=request.content_type or "")
        return Response(result.body, status=result.status_code)


class GitLabWebhookView(_WebhookView):
    """A GitLab delivery: ``Push Hook`` to a linked branch redeploys the linked notebooks (202); a
    bad or missing ``X-Gitlab-Token`` is 401; a repeated ``X-Gitlab-Event-UUID`` (or
    ``Idempotency-Key``) is acknowledged as a duplicate."""

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT},
        parameters=[
            _header("X-Gitlab-Token", "The link's secret"),
            _header("X-Gitlab-Event", "Push Hook, ..."),
            _header("X-Gitlab-Event-UUID", "The delivery's unique id"),
        ],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        result = webhook_gitlab(body=request.body, headers=request.headers)
        return Response(result.body, status=result.status_code)
