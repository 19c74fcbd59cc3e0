"""003's /api/credits: balance, transactions and the mock purchase; and the /credits page."""

from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import user_from_cookie
from apps.core.errors import ErrorCode, HangarError
from apps.credits import selectors, services
from apps.credits.models import CreditTransaction
from apps.credits.serializers import (
    BalanceOutput,
    MockPurchaseInput,
    MockPurchaseOutput,
    TransactionListQuery,
    TransactionPageOutput,
    TransactionSerializer,
)
from apps.environments.views.common import validated, validated_query


class CreditBalanceView(APIView):
    """``{balance, total_earned, total_spent, transaction_count}``."""

    @extend_schema(responses=BalanceOutput)
    def get(self, request: Request) -> Response:
        services.credits_account_ensure(user=request.user)  # the signup grant, on first touch
        summary = selectors.credit_summary(user=request.user)
        return Response(BalanceOutput(summary).data)


class CreditTransactionListView(APIView):
    """The caller's transactions, newest first: ``page`` and ``page_size`` (max 100)."""

    @extend_schema(parameters=[TransactionListQuery], responses=TransactionPageOutput)
    def get(self, request: Request) -> Response:
        query = validated_query(TransactionListQuery, request)
        services.credits_account_ensure(user=request.user)
        transactions = selectors.credit_transaction_list(user=request.user)
        page, size = query["page"], query["page_size"]
        total = transactions.count()
        items = transactions[(page - 1) * size : page * size]
        return Response(
            {
                "items": TransactionSerializer(items, many=True).data,
                "total": total,
                "page": page,
                "page_size": size,
                "has_more": page * size < total,
            }
        )


class MockPurchaseView(APIView):
    """Buy credits without paying, when ``ALLOW_MOCK_PURCHASES`` is on (403 otherwise)."""

    @extend_schema(request=MockPurchaseInput, responses=MockPurchaseOutput)
    def post(self, request: Request) -> Response:
        if not settings.ALLOW_MOCK_PURCHASES:
            raise HangarError("Mock purchases are disabled", error_code=ErrorCode.FORBIDDEN, status_code=403)
        data = validated(MockPurchaseInput, request)
        entry = services.credits_grant(
            user=request.user,
            amount=data["amount"],
            description=data["description"] or "Mock purchase",
            type=CreditTransaction.Type.PURCHASE,
        )
        body = {
            "transaction_id": entry.id,
            "amount": entry.amount,
            "balance_after": entry.balance_after,
            "message": f"Purchased {entry.amount} credits",
        }
        return Response(MockPurchaseOutput(body).data)


@require_GET
def credits_page(request: HttpRequest) -> HttpResponse:
    """``/credits``: the balance, the transactions and (when allowed) a mock purchase form."""
    if user_from_cookie(request) is None:
        return redirect(f"{settings.LOGIN_URL}?next={quote(request.get_full_path())}")
    get_token(request)  # the csrftoken cookie the page's script sends back
    response = render(request, "credits.html", {"allow_mock_purchases": settings.ALLOW_MOCK_PURCHASES})
    patch_vary_headers(response, ["Cookie"])
    response["Cache-Control"] = "private, no-store"
    return response
