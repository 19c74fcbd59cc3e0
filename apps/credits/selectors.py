"""Reads of the credit ledger, always the caller's own."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from apps.credits.models import CreditAccount, CreditTransaction


def credit_balance(*, user) -> Decimal:
    """The user's balance. A user whose account was never touched has the signup grant waiting
    (it is written, as a ``grant`` transaction, by the first service call)."""
    balance = CreditAccount.objects.filter(user=user).values_list("balance", flat=True).first()
    if balance is None:
        return Decimal(str(settings.CREDITS_SIGNUP_GRANT)).quantize(Decimal("0.01"))
    return balance


@dataclass(frozen=True)
class CreditSummary:
    """003's balance answer."""

    balance: Decimal
    total_earned: Decimal
    total_spent: Decimal
    transaction_count: int


def credit_summary(*, user) -> CreditSummary:
    """Balance, credits earned (grants, purchases, refunds), credits spent and the transaction count."""
    totals = CreditTransaction.objects.filter(user=user).aggregate(
        earned=Sum("amount", filter=Q(amount__gt=0)),
        spent=Sum("amount", filter=Q(type=CreditTransaction.Type.CONSUMPTION)),
        count=Count("id"),
    )
    return CreditSummary(
        balance=credit_balance(user=user),
        total_earned=totals["earned"] or Decimal(0),
        total_spent=-(totals["spent"] or Decimal(0)),
        transaction_count=totals["count"],
    )


def credit_transaction_list(*, user) -> QuerySet[CreditTransaction]:
    """The user's transactions, newest first."""
    return CreditTransaction.objects.filter(user=user).order_by("-created_at", "-id")
