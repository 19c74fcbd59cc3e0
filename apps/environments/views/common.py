"""Small helpers the views share."""

from typing import Any

from rest_framework.request import Request
from rest_framework.serializers import Serializer


def validated(serializer_class: type[Serializer], request: Request, *, partial: bool = False) -> dict[str, Any]:
    """Validate the request body; bad input raises a 400 with field ``errors``."""
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def validated_query(serializer_class: type[Serializer], request: Request) -> dict[str, Any]:
    """Validate the query string; bad values raise a 400 with field ``errors``."""
    serializer = serializer_class(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
