"""004's /api/v1/clusters, for admins: CRUD, regions, and a health check against the cluster."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsHangarAdmin
from apps.environments import selectors
from apps.environments.regions import REGIONS
from apps.environments.serializers import ClusterInput, ClusterSerializer
from apps.environments.services import clusters as services
from apps.environments.views.common import validated


class _AdminOnly(APIView):
    permission_classes = [IsAuthenticated, IsHangarAdmin]


class ClusterListView(_AdminOnly):
    """List clusters or register one (the kubeconfig is stored encrypted and never returned)."""

    @extend_schema(responses=ClusterSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ClusterSerializer(selectors.cluster_list(), many=True).data)

    @extend_schema(request=ClusterInput, responses={201: ClusterSerializer})
    def post(self, request: Request) -> Response:
        cluster = services.cluster_create(actor=request.user, data=validated(ClusterInput, request))
        return Response(ClusterSerializer(cluster).data, status=201)


class ClusterRegionsView(_AdminOnly):
    """The regions clusters may be registered in."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(REGIONS)


class ClusterDetailView(_AdminOnly):
    """Get, update or delete one cluster."""

    @extend_schema(responses=ClusterSerializer)
    def get(self, request: Request, cluster_id: str) -> Response:
        return Response(ClusterSerializer(selectors.cluster_get(cluster_id=cluster_id)).data)

    @extend_schema(request=ClusterInput, responses=ClusterSerializer)
    def put(self, request: Request, cluster_id: str) -> Response:
        cluster = selectors.cluster_get(cluster_id=cluster_id)
        data = validated(ClusterInput, request, partial=True)
        return Response(ClusterSerializer(services.cluster_update(cluster=cluster, actor=request.user, data=data)).data)

    patch = put

    @extend_schema(responses={204: None})
    def delete(self, request: Request, cluster_id: str) -> Response:
        services.cluster_delete(cluster=selectors.cluster_get(cluster_id=cluster_id), actor=request.user)
        return Response(status=204)


class ClusterHealthView(_AdminOnly):
    """Call the cluster's API server with a short timeout; unreachable is a result, not a 500."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, cluster_id: str) -> Response:
        cluster = selectors.cluster_get(cluster_id=cluster_id)
        return Response(services.cluster_health_check(cluster=cluster))
