"""``@coordinate_operation`` and ``CoordinationServiceWrapper``: operations around plain code.

The decorator binds each call's arguments to the function's signature (defaults applied, the
contents of ``**kwargs`` visible by name) and checks them against the rules before anything runs;
a rule naming a parameter the function does not have is refused when decorating. The wrapper
keeps the function's name, docstring and signature (``functools.wraps``), and a coroutine
function stays a coroutine function. The ``Operation`` behind it is ``wrapper.operation``.

Errors reach the caller as they were raised by the function (after the retries), a breaker
refusal as ``CallNotPermitted`` and broken rules as ``ValidationError``.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from quarterdeck.core.integration.operation import Operation
from quarterdeck.core.integration.policy import ErrorConfig
from quarterdeck.core.integration.rules import FieldRules
from quarterdeck.core.monitor import Monitor
from quarterdeck.core.resilience import BreakerRegistry

__all__ = ["CoordinationServiceWrapper", "coordinate_operation"]

F = TypeVar("F", bound=Callable[..., Any])
RuleSpec = FieldRules | Mapping[str, Any] | None
ErrorSpec = ErrorConfig | Mapping[str, Any] | None


class _Binder:
    """Turns one call's arguments into the name -> value mapping the rules look at."""

    def __init__(self, func: Callable[..., Any], rules: FieldRules, operation: str) -> None:
        self.signature = inspect.signature(func)
        params = self.signature.parameters.values()
        self.var_keyword = next((p.name for p in params if p.kind is p.VAR_KEYWORD), None)
        named = {p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        unknown = sorted(rules.roots - named)
        if unknown and self.var_keyword is None:
            raise ValueError(f"{operation}: the rules name {', '.join(map(repr, unknown))}, "
                             f"which the function does not take")

    def values(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        bound = self.signature.bind_partial(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        if self.var_keyword is not None:
            for name, value in values.pop(self.var_keyword, {}).items():
                values.setdefault(name, value)
        return values


def coordinate_operation(func: F | None = None, *, validation_rules: RuleSpec = None,
                         error_config: ErrorSpec = None, operation_name: str | None = None,
                         monitor: Monitor | None = None,
                         breakers: BreakerRegistry | None = None) -> Any:
    """Validate, retry, break and measure every call of the decorated function.

    Usable bare (``@coordinate_operation``) or with settings. ``validation_rules`` follows
    ``quarterdeck.core.integration.rules``, ``error_config`` follows ``quarterdeck.core.integration.policy``; the
    operation name defaults to ``module.qualname``. ``monitor`` and ``breakers`` default to the
    shared ones of ``quarterdeck.core.integration.defaults``.
    """
    def decorate(fn: F) -> F:
        name = operation_name or f"{fn.__module__}.{fn.__qualname__}"
        operation = Operation(name, rules=validation_rules, error_config=error_config,
                              monitor=monitor, breakers=breakers)
        binder = _Binder(fn, operation.rules, name)
        checks = bool(operation.rules)

        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                values = binder.values(args, kwargs) if checks else None
                outcome = await operation.arun(lambda: fn(*args, **kwargs), values)
                return outcome.unwrap()

            wrapper: Any = async_wrapper
        else:
            @functools.wraps(fn)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                values = binder.values(args, kwargs) if checks else None
                return operation.run(lambda: fn(*args, **kwargs), values).unwrap()

            wrapper = sync_wrapper
        wrapper.operation = operation
        return cast(F, wrapper)

    return decorate if func is None else decorate(func)


_OWN = frozenset({"_service", "_settings", "_shared", "_wrapped"})


class CoordinationServiceWrapper:
    """Every public method of ``service`` as a coordinated operation; other attributes pass through.

    ``rules`` and ``names`` are keyed by method name; a method without a name is called
    ``<class>.<method>``. ``error_config`` applies to every method, ``error_configs`` overrides
    it per method. Keys that are not public methods of the service are refused up front, so a
    typo cannot silently leave a method unguarded.
    """

    # set with object.__setattr__ in __init__ (this class's __setattr__ forwards to the service)
    _service: Any
    _settings: dict[str, dict[str, Any]]
    _shared: dict[str, Any]
    _wrapped: dict[str, Callable[..., Any]]

    def __init__(self, service: object, rules: Mapping[str, RuleSpec] | None = None,
                 names: Mapping[str, str] | None = None, *, error_config: ErrorSpec = None,
                 error_configs: Mapping[str, ErrorSpec] | None = None,
                 monitor: Monitor | None = None, breakers: BreakerRegistry | None = None) -> None:
        settings: dict[str, dict[str, Any]] = {
            "rules": dict(rules or {}), "names": dict(names or {}), "error_configs": dict(error_configs or {})}
        for label, mapping in settings.items():
            bad = sorted(m for m in mapping if not self._is_method(service, m))
            if bad:
                raise ValueError(f"{label} names {', '.join(map(repr, bad))}, which "
                                 f"{type(service).__name__} has no public method called")
        object.__setattr__(self, "_service", service)
        object.__setattr__(self, "_settings", settings)
        object.__setattr__(self, "_shared", {"error_config": error_config, "monitor": monitor,
                                             "breakers": breakers})
        object.__setattr__(self, "_wrapped", {})

    @staticmethod
    def _is_method(service: object, name: str) -> bool:
        if name.startswith("_"):
            return False
        attr = getattr(service, name, None)
        return callable(attr) and not isinstance(attr, type)

    @property
    def wrapped_service(self) -> Any:
        return self._service

    def operation_name(self, method: str) -> str:
        name: str = self._settings["names"].get(method, f"{type(self._service).__name__}.{method}")
        return name

    def __getattr__(self, name: str) -> Any:
        if name in _OWN:  # only reached before __init__ set them (copy, pickle)
            raise AttributeError(name)
        attr = getattr(self._service, name)
        if not self._is_method(self._service, name):
            return attr
        wrapped = self._wrapped.get(name)
        if wrapped is None:
            settings, shared = self._settings, self._shared
            wrapped = coordinate_operation(
                attr, validation_rules=settings["rules"].get(name),
                error_config=settings["error_configs"].get(name, shared["error_config"]),
                operation_name=self.operation_name(name), monitor=shared["monitor"],
                breakers=shared["breakers"])
            self._wrapped[name] = wrapped
        return wrapped

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._service, name, value)
        self._wrapped.pop(name, None)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(self._service)) | set(super().__dir__()))

    def __repr__(self) -> str:
        return f"CoordinationServiceWrapper({self._service!r})"
