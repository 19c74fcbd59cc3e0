"""Input validation and 003's output shapes for the credit ledger."""

from decimal import Decimal

from django.conf import settings
from rest_framework import serializers

from apps.credits.models import CreditTransaction


class TransactionSerializer(serializers.ModelSerializer):
    """003's Transaction Object; amounts are JSON numbers."""

    amount = serializers.FloatField()
    balance_after = serializers.FloatField()

    class Meta:
        model = CreditTransaction
        fields = ["id", "type", "amount", "balance_after", "description", "reference", "created_at"]


class TransactionListQuery(serializers.Serializer):
    """``page`` (from 1) and ``page_size`` (1-100, default 20)."""

    page = serializers.IntegerField(min_value=1, max_value=10**6, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=100, default=20)


class BalanceOutput(serializers.Serializer):
    """003's balance answer."""

    balance = serializers.FloatField()
    total_earned = serializers.FloatField()
    total_spent = serializers.FloatField()
    transaction_count = serializers.IntegerField()


class TransactionPageOutput(serializers.Serializer):
    """One page of transactions."""

    items = TransactionSerializer(many=True)
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    has_more = serializers.BooleanField()


class MockPurchaseInput(serializers.Serializer):
    """A positive amount of credits (at most ``CREDITS_MOCK_PURCHASE_MAX``, two decimals)."""

    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_amount(self, value: Decimal) -> Decimal:
        cap = Decimal(str(settings.CREDITS_MOCK_PURCHASE_MAX))
        if value > cap:
            raise serializers.ValidationError(f"At most {cap} credits per purchase.")
        return value


class MockPurchaseOutput(serializers.Serializer):
    """003's mock-purchase answer."""

    transaction_id = serializers.IntegerField()
    amount = serializers.FloatField()
    balance_after = serializers.FloatField()
    message = serializers.CharField()
