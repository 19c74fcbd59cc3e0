"""Hyperparameter definitions: what the builder shows, what validation checks, how values are coerced.

A definition is data (``HyperParam``); checking and coercing a value is one function per type, so
every plugin validates the same way. Values may arrive as JSON numbers, booleans or strings (HTML
forms send strings), and are coerced to the declared type before they reach scikit-learn.
"""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PARAM_TYPES = ("number", "integer", "select", "boolean", "string")


@dataclass(frozen=True)
class ParamError:
    """One problem with one parameter: ``field`` is the parameter's key."""

    field: str
    message: str


class InvalidParams(ValueError):
    """Raised by ``build`` when parameters do not pass ``validate_params``."""

    def __init__(self, errors: list[ParamError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class HyperParam:
    """One parameter a plugin takes (003's Hyperparameter Definition).

    ``nullable`` lets ``None`` through (shown as an empty input, e.g. "no depth limit").
    ``advanced`` puts it in the ``advanced`` group. ``problem_types`` limits it to some problem
    types (``None``: all the plugin's). ``sklearn_name`` is the estimator's argument when it differs
    from ``key``; ``to_sklearn`` maps the coerced value (e.g. ``"none"`` to ``None``).
    """

    key: str
    name: str
    type: str
    default: Any
    description: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    options: tuple[Any, ...] = ()
    required: bool = False
    nullable: bool = False
    advanced: bool = False
    problem_types: tuple[str, ...] | None = None
    sklearn_name: str | None = None
    to_sklearn: Callable[[Any], Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"{self.key}: unknown parameter type {self.type!r}")
        if self.type == "select" and not self.options:
            raise ValueError(f"{self.key}: a select needs options")
        if self.default is not None or not self.nullable:
            value, error = coerce(self, self.default)
            if error or value != self.default:
                raise ValueError(f"{self.key}: default {self.default!r} does not fit its definition")

    def applies_to(self, problem_type: str | None) -> bool:
        """Whether the parameter exists for ``problem_type`` (every one when ``None``)."""
        return problem_type is None or self.problem_types is None or problem_type in self.problem_types

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape."""
        return {
            "key": self.key,
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "description": self.description,
            "min": self.min,
            "max": self.max,
            "step": self.step,
            "options": [{"value": option, "label": _label(option)} for option in self.options],
            "required": self.required,
            "nullable": self.nullable,
        }


def _label(option: Any) -> str:
    return str(option).replace("_", " ").capitalize() if isinstance(option, str) else str(option)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _coerce_number(param: HyperParam, value: Any) -> tuple[Any, str | None]:
    number = _as_number(value)
    if number is None:
        return None, "must be a number"
    if param.type == "integer":
        if not number.is_integer():
            return None, "must be a whole number"
        return int(number), None
    return (int(number) if isinstance(value, int) else number), None


def _coerce_boolean(value: Any) -> tuple[Any, str | None]:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true", None
    return None, "must be true or false"


def _coerce_select(param: HyperParam, value: Any) -> tuple[Any, str | None]:
    for option in param.options:
        if value == option and type(value) is type(option):
            return option, None
        # A form may send "3" for the option 3.
        if isinstance(value, str) and not isinstance(option, str) and value == str(option):
            return option, None
    allowed = ", ".join(str(option) for option in param.options)
    return None, f"must be one of: {allowed}"


def coerce(param: HyperParam, value: Any) -> tuple[Any, str | None]:
    """``(value coerced to the parameter's type, None)`` or ``(None, message)``."""
    if value is None or (value == "" and param.type in ("number", "integer")):
        return (None, None) if param.nullable else (None, "is required")
    if param.type in ("number", "integer"):
        coerced, error = _coerce_number(param, value)
        if error:
            return None, error
        if param.min is not None and coerced < param.min:
            return None, f"must be at least {_fmt(param.min)}"
        if param.max is not None and coerced > param.max:
            return None, f"must be at most {_fmt(param.max)}"
        return coerced, None
    if param.type == "boolean":
        return _coerce_boolean(value)
    if param.type == "select":
        return _coerce_select(param, value)
    if not isinstance(value, str):
        return None, "must be a string"
    if param.max is not None and len(value) > param.max:
        return None, f"must be at most {_fmt(param.max)} characters"
    return value, None


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def check_params(
    definitions: Iterable[HyperParam], params: Any, *, problem_type: str | None = None
) -> tuple[dict[str, Any], list[ParamError]]:
    """Check ``params`` against ``definitions``; answer (complete coerced values, errors).

    Missing optional values take their defaults; keys without a definition, and keys that do not
    apply to ``problem_type``, are errors (a typo must not silently train with a default).
    """
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        return {}, [ParamError("params", "must be an object of parameter values")]
    known = {p.key: p for p in definitions}
    errors = [ParamError(str(key), "is not a parameter of this plugin") for key in params if key not in known]
    values: dict[str, Any] = {}
    for key, param in known.items():
        if not param.applies_to(problem_type):
            if key in params:
                errors.append(ParamError(key, f"does not apply to {problem_type}"))
            continue
        if key not in params:
            if param.required:
                errors.append(ParamError(key, "is required"))
            values[key] = param.default
            continue
        value, error = coerce(param, params[key])
        if error:
            errors.append(ParamError(key, error))
        else:
            values[key] = value
    return values, errors


def sklearn_kwargs(definitions: Iterable[HyperParam], values: Mapping[str, Any]) -> dict[str, Any]:
    """Estimator keyword arguments from coerced ``values`` (renamed and mapped per definition)."""
    kwargs = {}
    for param in definitions:
        if param.key not in values:
            continue
        value = values[param.key]
        if param.to_sklearn is not None:
            value = param.to_sklearn(value)
        kwargs[param.sklearn_name or param.key] = value
    return kwargs


def none_if(sentinel: str) -> Callable[[Any], Any]:
    """A ``to_sklearn`` that turns the select option ``sentinel`` into ``None``."""
    return lambda value: None if value == sentinel else value
