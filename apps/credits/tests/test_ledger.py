"""The credit ledger's services: signup grant, spend, refund once, and concurrent spends."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.db.models import Sum

from apps.core.errors import HangarError
from apps.credits import selectors, services
from apps.credits.models import CreditAccount, CreditTransaction


def _ledger_sum(user) -> Decimal:
    return CreditTransaction.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] or Decimal(0)


def test_first_touch_writes_the_signup_grant(user, settings):
    settings.CREDITS_SIGNUP_GRANT = 100
    assert selectors.credit_balance(user=user) == Decimal("100.00")
    assert not CreditAccount.objects.filter(user=user).exists()  # reading writes nothing
    services.credits_account_ensure(user=user)
    services.credits_account_ensure(user=user)
    grants = CreditTransaction.objects.filter(user=user, type="grant")
    assert grants.count() == 1
    assert grants.get().balance_after == Decimal("100.00")
    assert selectors.credit_balance(user=user) == _ledger_sum(user) == Decimal("100.00")


def test_spend_and_grant_keep_the_ledger_equal_to_the_balance(user):
    entry = services.credits_spend(user=user, amount=Decimal("12.5"), description="job", reference="job:1")
    assert entry.type == "consumption"
    assert entry.amount == Decimal("-12.50")
    assert entry.balance_after == Decimal("87.50")
    services.credits_grant(user=user, amount=Decimal(10), description="gift")
    assert selectors.credit_balance(user=user) == _ledger_sum(user) == Decimal("97.50")


def test_spend_more_than_the_balance_is_402_and_changes_nothing(user):
    with pytest.raises(HangarError) as caught:
        services.credits_spend(user=user, amount=Decimal("100.01"), description="big", reference="job:2")
    assert caught.value.status_code == 402
    assert caught.value.error_code == "INSUFFICIENT_CREDITS"
    assert selectors.credit_balance(user=user) == Decimal("100.00")
    assert not CreditTransaction.objects.filter(user=user, type="consumption").exists()


@pytest.mark.parametrize("amount", [Decimal(0), Decimal(-5)])
def test_spend_and_grant_refuse_non_positive_amounts(user, amount):
    with pytest.raises(HangarError):
        services.credits_spend(user=user, amount=amount, description="x", reference="r")
    with pytest.raises(HangarError):
        services.credits_grant(user=user, amount=amount, description="x")


def test_refund_happens_once_per_reference(user):
    services.credits_spend(user=user, amount=Decimal(30), description="job", reference="job:7")
    first = services.credits_refund(user=user, amount=Decimal(30), description="job failed", reference="job:7")
    assert first is not None and first.balance_after == Decimal("100.00")
    assert services.credits_refund(user=user, amount=Decimal(30), description="again", reference="job:7") is None
    assert services.credits_refund(user=user, amount=Decimal(0), description="zero", reference="job:8") is None
    assert CreditTransaction.objects.filter(user=user, type="refund").count() == 1
    assert selectors.credit_balance(user=user) == _ledger_sum(user)


def _retrying_sqlite_table_locks(work, index: int):
    """Run ``work(index)``, retrying it whole when SQLite reports a table lock.

    The test database on SQLite is an in-memory, shared-cache database: there a second writer gets
    "database table is locked" at once instead of waiting (SQLITE_LOCKED ignores the busy timeout),
    which file databases (what Hangar serves) and PostgreSQL do not do. The failed attempt rolled
    back entirely, so running it again is exactly what a waiting writer would have done.
    """
    for _attempt in range(2000):
        try:
            return work(index)
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc):
                raise
            time.sleep(0.002)
    raise AssertionError("SQLite stayed locked")


def _run_in_threads(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads that start together; each uses its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = _retrying_sqlite_table_locks(work, index)
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_spends_never_overdraw(user):
    """20 threads spend 10 each from 100 at once: exactly 10 succeed, the rest get 402."""
    services.credits_account_ensure(user=user)

    def spend(index: int):
        return services.credits_spend(user=user, amount=Decimal(10), description="race", reference=f"job:{index}")

    results = _run_in_threads(20, spend)
    spent = [r for r in results if isinstance(r, CreditTransaction)]
    refused = [r for r in results if isinstance(r, HangarError) and r.status_code == 402]
    assert len(spent) == 10, results
    assert len(refused) == 10, results
    assert selectors.credit_balance(user=user) == Decimal(0)
    assert _ledger_sum(user) == Decimal(0)
    assert sorted(t.balance_after for t in spent) == [Decimal(10 * i) for i in range(10)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_of_one_reference_happen_once(user):
    services.credits_spend(user=user, amount=Decimal(50), description="job", reference="job:9")

    def refund(_index: int):
        return services.credits_refund(user=user, amount=Decimal(50), description="failed", reference="job:9")

    results = _run_in_threads(8, refund)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len([r for r in results if isinstance(r, CreditTransaction)]) == 1
    assert selectors.credit_balance(user=user) == _ledger_sum(user) == Decimal("100.00")


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_touches_write_one_grant(user):
    results = _run_in_threads(8, lambda _i: services.credits_account_ensure(user=user))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert CreditTransaction.objects.filter(user=user, type="grant").count() == 1
    assert selectors.credit_balance(user=user) == _ledger_sum(user) == Decimal("100.00")
