"""Repository links: ``/api/v1/notebooks/{notebook_id}/repository`` (one per notebook: GET, POST
to set or replace, DELETE) and ``GET /api/v1/repositories`` (the caller's links). The webhook
secret is write-only: answers show it masked."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.crypto import MASK
from apps.deployments.models import RepositoryLink
from apps.deployments.selectors_repository_links import (
    notebook_for_link,
    repository_link_get,
    repository_link_list,
)
from apps.deployments.services.repository_links import repository_link_delete, repository_link_set
from apps.environments.views.common import validated


class RepositoryLinkInput(serializers.Serializer):
    """The repository, branch and notebook path, and the webhook secret (GitHub HMAC key or
    GitLab token). URL, branch and path are checked by the service."""

    repo_url = serializers.CharField(max_length=500)
    branch = serializers.CharField(max_length=200, required=False, default="main")
    path = serializers.CharField(max_length=500)
    secret = serializers.CharField(min_length=8, max_length=255, trim_whitespace=False, write_only=True)
    provider = serializers.ChoiceField(choices=RepositoryLink.Provider.choices, default=RepositoryLink.Provider.GITHUB)


class RepositoryLinkSerializer(serializers.ModelSerializer):
    """A link as answered: the secret is never shown, only that one is set."""

    notebook_id = serializers.IntegerField(read_only=True)
    secret = serializers.SerializerMethodField()
    webhook_url = serializers.SerializerMethodField()

    class Meta:
        model = RepositoryLink
        fields = [
            "id",
            "notebook_id",
            "provider",
            "repo_url",
            "branch",
            "path",
            "secret",
            "webhook_url",
            "last_commit",
            "created_at",
        ]

    def get_secret(self, link: RepositoryLink) -> str:
        return MASK

    def get_webhook_url(self, link: RepositoryLink) -> str:
        path = f"/api/v1/webhooks/{link.provider}"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class NotebookRepositoryView(APIView):
    """The repository link of one of the caller's notebooks."""

    @extend_schema(responses=RepositoryLinkSerializer)
    def get(self, request: Request, notebook_id: int) -> Response:
        notebook = notebook_for_link(user=request.user, notebook_id=notebook_id)
        link = repository_link_get(user=request.user, notebook=notebook)
        return Response(RepositoryLinkSerializer(link, context={"request": request}).data)

    @extend_schema(
        request=RepositoryLinkInput, responses={200: RepositoryLinkSerializer, 201: RepositoryLinkSerializer}
    )
    def post(self, request: Request, notebook_id: int) -> Response:
        notebook = notebook_for_link(user=request.user, notebook_id=notebook_id)
        data = validated(RepositoryLinkInput, request)
        link, created = repository_link_set(owner=request.user, notebook=notebook, request=request, **data)
        body = RepositoryLinkSerializer(link, context={"request": request}).data
        return Response(body, status=201 if created else 200)

    put = post

    @extend_schema(responses={204: None})
    def delete(self, request: Request, notebook_id: int) -> Response:
        notebook = notebook_for_link(user=request.user, notebook_id=notebook_id)
        repository_link_delete(link=repository_link_get(user=request.user, notebook=notebook), request=request)
        return Response(status=204)


class RepositoryLinkListView(APIView):
    """Every repository link of the caller."""

    @extend_schema(responses=RepositoryLinkSerializer(many=True))
    def get(self, request: Request) -> Response:
        links = repository_link_list(user=request.user)
        return Response(RepositoryLinkSerializer(links, many=True, context={"request": request}).data)
