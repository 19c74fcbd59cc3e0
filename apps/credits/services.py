"""Writes to the credit ledger. Every change locks the account row, so concurrent spends of one
balance are serialised and can never take it below zero; each change is one transaction row that
records the balance after it, so the sum of a user's transactions always equals their balance."""

from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.activity.services import activity_record
from apps.core.errors import ErrorCode, HangarError
from apps.credits.models import CreditAccount, CreditTransaction

CENT = Decimal("0.01")


def _positive(amount: Decimal) -> Decimal:
    """``amount`` as a Decimal of cents; a non-positive amount is a caller's bug (400)."""
    value = Decimal(amount).quantize(CENT)
    if value <= 0:
        raise HangarError("Amount must be positive", error_code=ErrorCode.VALIDATION_ERROR, status_code=400)
    return value


def _signup_grant() -> Decimal:
    return Decimal(str(settings.CREDITS_SIGNUP_GRANT)).quantize(CENT)


def _account_for_update(user) -> CreditAccount:
    """The user's account row, locked; created with the signup grant the first time (call inside
    ``transaction.atomic``). Two first touches at once: one insert wins, the other waits for it."""
    account = CreditAccount.objects.select_for_update().filter(user=user).first()
    if account is not None:
        return account
    grant = _signup_grant()
    try:
        with transaction.atomic():  # a savepoint: losing the insert race must not spoil the caller
            account = CreditAccount.objects.create(user=user, balance=grant)
            if grant > 0:
                CreditTransaction.objects.create(
                    user=user,
                    type=CreditTransaction.Type.GRANT,
                    amount=grant,
                    balance_after=grant,
                    description="Signup grant",
                    reference="signup",
                )
        return account
    except IntegrityError:
        return CreditAccount.objects.select_for_update().get(user=user)


def credits_account_ensure(*, user) -> CreditAccount:
    """Create the user's account (with the signup grant) if it does not exist yet; return it."""
    with transaction.atomic():
        return _account_for_update(user)


def _write(account: CreditAccount, *, type: str, amount: Decimal, description: str, reference: str = ""):
    account.balance = account.balance + amount
    account.save(update_fields=["balance", "updated_at"])
    return CreditTransaction.objects.create(
        user_id=account.user_id,
        type=type,
        amount=amount,
        balance_after=account.balance,
        description=description[:500],
        reference=reference[:100],
    )


def credits_grant(
    *, user, amount: Decimal, description: str, type: str = CreditTransaction.Type.GRANT
) -> CreditTransaction:
    """Add ``amount`` (> 0) to the user's balance as a ``grant`` (or ``purchase``) transaction."""
    value = _positive(amount)
    if type not in (CreditTransaction.Type.GRANT, CreditTransaction.Type.PURCHASE):
        raise ValueError(f"credits_grant writes grants and purchases, not {type!r}")
    with transaction.atomic():
        account = _account_for_update(user)
        entry = _write(account, type=type, amount=value, description=description)
    activity_record(user=user, action=f"credits.{type}", details=f"+{value} credits: {description}")
    return entry


def credits_spend(*, user, amount: Decimal, description: str, reference: str) -> CreditTransaction:
    """Take ``amount`` (> 0) from the balance as a ``consumption`` (negative amount).

    Raises ``HangarError`` 402 ``INSUFFICIENT_CREDITS`` when the balance is short; the balance
    never goes negative, however many spends race, because the account row is locked.
    """
    value = _positive(amount)
    with transaction.atomic():
        account = _account_for_update(user)
        if account.balance < value:
            raise HangarError(
                f"Insufficient credits: {value} needed, {account.balance} available",
                error_code=ErrorCode.INSUFFICIENT_CREDITS,
                status_code=402,
            )
        return _write(
            account,
            type=CreditTransaction.Type.CONSUMPTION,
            amount=-value,
            description=description,
            reference=reference,
        )


def credits_refund(*, user, amount: Decimal, description: str, reference: str) -> CreditTransaction | None:
    """Give ``amount`` back for ``reference`` (e.g. ``job:<id>``), at most once per reference.

    Returns None when the reference was already refunded (even by a concurrent call: the account
    lock orders them and the unique constraint backs it) or when ``amount`` is zero.
    """
    if not reference:
        raise ValueError("A refund needs a reference, which makes it happen at most once")
    value = Decimal(amount).quantize(CENT)
    if value == 0:
        return None
    value = _positive(value)
    with transaction.atomic():
        account = _account_for_update(user)
        refunds = CreditTransaction.objects.filter(user=user, type=CreditTransaction.Type.REFUND, reference=reference)
        if refunds.exists():
            return None
        try:
            with transaction.atomic():
                entry = _write(
                    account,
                    type=CreditTransaction.Type.REFUND,
                    amount=value,
                    description=description,
                    reference=reference,
                )
        except IntegrityError:
            account.refresh_from_db()
            return None
    return entry
