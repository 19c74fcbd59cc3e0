"""The credit ledger: every change to a balance is one transaction that records the balance after."""

from django.conf import settings
from django.db import models


class CreditAccount(models.Model):
    """A user's balance. Its row is locked (``select_for_update``) for every change."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_account")
    balance = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.balance}"


class CreditTransaction(models.Model):
    """One change to a balance (003's Transaction Object)."""

    class Type(models.TextChoices):
        PURCHASE = "purchase"
        CONSUMPTION = "consumption"
        REFUND = "refund"
        GRANT = "grant"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_transactions")
    type = models.CharField(max_length=16, choices=Type.choices, db_index=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    balance_after = models.DecimalField(max_digits=14, decimal_places=2)
    description = models.CharField(max_length=500, blank=True)
    # What the transaction is for (e.g. "job:<id>"); a refund's reference is unique, so it happens once.
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "type", "reference"],
                condition=models.Q(type="refund") & ~models.Q(reference=""),
                name="refund_once_per_reference",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount}"
