from django.contrib import admin

from apps.credits.models import CreditAccount, CreditTransaction


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    """Balances, read-only: every change is a ledger transaction (use credits_grant)."""

    list_display = ["user", "balance", "updated_at"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["user", "balance", "updated_at"]


@admin.register(CreditTransaction)
class CreditTransactionAdmin(admin.ModelAdmin):
    """The ledger, read-only."""

    list_display = ["id", "user", "type", "amount", "balance_after", "reference", "created_at"]
    list_filter = ["type"]
    search_fields = ["user__username", "user__email", "reference", "description"]
    readonly_fields = [f.name for f in CreditTransaction._meta.fields]
