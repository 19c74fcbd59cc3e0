"""Routes of 003's credit ledger and the /credits page."""

from django.urls import path

from apps.credits import views

urlpatterns = [
    path("api/credits/balance", views.CreditBalanceView.as_view(), name="credits-balance"),
    path("api/credits/transactions", views.CreditTransactionListView.as_view(), name="credits-transactions"),
    path("api/credits/mock-purchase", views.MockPurchaseView.as_view(), name="credits-mock-purchase"),
    path("credits", views.credits_page, name="credits-page"),
]
