"""Offset pagination in the ``skip``/``limit`` style the documents use."""

from dataclasses import dataclass

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


@dataclass(frozen=True)
class Page:
    """One page of a queryset and the total it came from."""

    items: list
    total: int
    skip: int
    limit: int


def int_param(request: Request, name: str, default: int | None, minimum: int, maximum: int) -> int | None:
    """An integer query parameter within bounds, ``default`` when absent; 400 otherwise."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    message = f"Must be an integer between {minimum} and {maximum}."
    # int() also accepts digits of other scripts ("²" passes isdigit()); only ASCII is an id.
    if not raw.isascii():
        raise ValidationError({name: [message]})
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: [message]}) from None
    if not minimum <= value <= maximum:
        raise ValidationError({name: [message]})
    return value


def paginate(queryset: QuerySet, request: Request, *, default_limit: int = 100, max_limit: int = 1000) -> Page:
    """Slice ``queryset`` by the request's ``skip`` and ``limit``, rejecting bad values with 400."""
    skip = int_param(request, "skip", 0, 0, 10**9)
    limit = int_param(request, "limit", default_limit, 1, max_limit)
    return Page(items=list(queryset[skip : skip + limit]), total=queryset.count(), skip=skip, limit=limit)


def limit_param(request: Request, *, default: int, maximum: int = 1000) -> int:
    """Read a bare ``limit`` query parameter (001's style), rejecting bad values with 400."""
    return int_param(request, "limit", default, 1, maximum)
