"""Status fields as explicit state machines: the allowed moves live in one table per model."""

from typing import ClassVar

from apps.core.errors import ErrorCode, HangarError


class IllegalTransition(HangarError):
    """A status change its current status does not allow: 409, never a silent overwrite."""

    def __init__(self, label: str, current: str, target: str) -> None:
        super().__init__(
            f"{label} is {current}; it cannot become {target}", error_code=ErrorCode.CONFLICT, status_code=409
        )
        self.current = current
        self.target = target


class StatusMachine:
    """Mixin for a model with a ``status`` field and a ``TRANSITIONS`` table ``{from: {to, ...}}``."""

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {}

    def can_transition(self, target: str) -> bool:
        """Whether ``status`` may move to ``target`` (staying put is always allowed)."""
        return target == self.status or target in self.TRANSITIONS.get(self.status, set())

    def transition_to(self, target: str) -> None:
        """Set ``status`` to ``target`` (unsaved), or raise :class:`IllegalTransition`."""
        if not self.can_transition(target):
            raise IllegalTransition(self._meta.verbose_name.capitalize(), self.status, target)
        self.status = target
