"""003's /api/credits over HTTP: balance, transactions, mock purchase, the page, isolation."""

from decimal import Decimal

import pytest

from apps.credits import services


def test_balance_starts_with_the_signup_grant(user_client):
    body = user_client.get("/api/credits/balance").json()
    assert body == {"balance": 100.0, "total_earned": 100.0, "total_spent": 0.0, "transaction_count": 1}


def test_balance_counts_earned_and_spent(user, user_client):
    services.credits_spend(user=user, amount=Decimal("20.25"), description="job", reference="job:1")
    services.credits_refund(user=user, amount=Decimal(5), description="partial", reference="job:1")
    body = user_client.get("/api/credits/balance").json()
    assert body == {"balance": 84.75, "total_earned": 105.0, "total_spent": 20.25, "transaction_count": 3}


def test_transactions_paginate_newest_first(user, user_client):
    for i in range(4):
        services.credits_spend(user=user, amount=Decimal(1), description=f"spend {i}", reference=f"job:{i}")
    first = user_client.get("/api/credits/transactions?page=1&page_size=2").json()
    assert first["total"] == 5 and first["page"] == 1 and first["page_size"] == 2 and first["has_more"] is True
    assert [t["description"] for t in first["items"]] == ["spend 3", "spend 2"]
    item = first["items"][0]
    assert set(item) >= {"id", "type", "amount", "balance_after", "description", "created_at"}
    assert item["type"] == "consumption" and item["amount"] == -1.0 and item["balance_after"] == 96.0
    last = user_client.get("/api/credits/transactions?page=3&page_size=2").json()
    assert [t["type"] for t in last["items"]] == ["grant"] and last["has_more"] is False


@pytest.mark.parametrize("query", ["page=0", "page=abc", "page_size=0", "page_size=101", "page_size=-1", "page=1.5"])
def test_transactions_refuse_bad_pagination(user_client, query):
    response = user_client.get(f"/api/credits/transactions?{query}")
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"


def test_mock_purchase_adds_a_purchase(user_client):
    response = user_client.post("/api/credits/mock-purchase", {"amount": 50, "description": "top up"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["amount"] == 50.0 and body["balance_after"] == 150.0 and body["transaction_id"]
    assert "message" in body
    items = user_client.get("/api/credits/transactions").json()["items"]
    assert items[0]["type"] == "purchase" and items[0]["description"] == "top up"


@pytest.mark.parametrize("amount", [0, -5, "ten", 10001, 1.234, None])
def test_mock_purchase_refuses_bad_amounts(user_client, amount):
    response = user_client.post("/api/credits/mock-purchase", {"amount": amount}, format="json")
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"
    assert user_client.get("/api/credits/balance").json()["balance"] == 100.0


def test_mock_purchase_is_403_when_disabled(user_client, settings):
    settings.ALLOW_MOCK_PURCHASES = False
    response = user_client.post("/api/credits/mock-purchase", {"amount": 5}, format="json")
    assert response.status_code == 403
    assert response.json()["error_code"] == "FORBIDDEN"


def test_each_user_sees_only_their_own_ledger(user, user_client, other_client):
    services.credits_spend(user=user, amount=Decimal(40), description="mine", reference="job:1")
    assert user_client.get("/api/credits/balance").json()["balance"] == 60.0
    assert other_client.get("/api/credits/balance").json()["balance"] == 100.0
    theirs = other_client.get("/api/credits/transactions").json()
    assert [t["description"] for t in theirs["items"]] == ["Signup grant"]
    other_client.post("/api/credits/mock-purchase", {"amount": 5}, format="json")
    assert user_client.get("/api/credits/balance").json()["balance"] == 60.0


@pytest.mark.parametrize("path", ["/api/credits/balance", "/api/credits/transactions"])
def test_credits_need_authentication(api_client, path):
    assert api_client.get(path).status_code == 401


def test_me_reports_the_credit_balance(user, user_client):
    services.credits_spend(user=user, amount=Decimal(25), description="job", reference="job:1")
    assert user_client.get("/api/auth/me").json()["credit_balance"] == 75.0


def test_credits_page_needs_sign_in(client):
    response = client.get("/credits")
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")
