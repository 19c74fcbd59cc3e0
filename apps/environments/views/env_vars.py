"""001's /user-env-vars: list (masked), upsert, delete."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.envelopes import cmb_response
from apps.environments import selectors
from apps.environments.serializers import UserEnvVarInput, UserEnvVarSerializer, validate_env_key
from apps.environments.services import env_vars as services
from apps.environments.views.common import validated


class UserEnvVarListView(APIView):
    """The caller's variables with masked values, or set one."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        variables = selectors.user_env_var_list(user=request.user)
        return cmb_response({"env_vars": UserEnvVarSerializer(variables, many=True).data})

    @extend_schema(request=UserEnvVarInput, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request) -> Response:
        data = validated(UserEnvVarInput, request)
        variable = services.user_env_var_set(user=request.user, key=data["key"], value=data["value"], request=request)
        return cmb_response(UserEnvVarSerializer(variable).data)


class UserEnvVarDetailView(APIView):
    """Delete one variable (404 when the caller has none by that key)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def delete(self, request: Request, key: str) -> Response:
        validate_env_key(key)
        services.user_env_var_delete(user=request.user, key=key, request=request)
        return cmb_response(message="Environment variable deleted")
