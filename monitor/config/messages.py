"""Config problems in our words: one pydantic error as a user reads it (never "Input should
be a valid dictionary"), with "did you mean" for an unknown key, naming the models a YAML
path may hold. Pure; used by monitor.config.load."""

from __future__ import annotations

from typing import Any

from monitor.config import advice
from monitor.config.schema import (
    Channel,
    Dedup,
    Defaults,
    Feed,
    Fetch,
    GroupSpec,
    Http,
    NearSpec,
    Notify,
    RawConfig,
    TermSpec,
    Topic,
)

_TYPE_WORDING = {
    "model_type": "must be a mapping (`key: value` lines)",
    "model_attributes_type": "must be a mapping (`key: value` lines)",
    "dict_type": "must be a mapping (`key: value` lines)",
    "list_type": "must be a list (`- item` lines or `[a, b]`)",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "union_tag_invalid": "has a form that is not allowed here",
}


def models_at(loc: tuple[Any, ...]) -> list[type[Any]]:
    """The schema models a (parent) YAML path may hold, for "did you mean" on a key."""
    keys = [p for p in loc if isinstance(p, str)]
    if not keys:
        return [RawConfig]
    if keys[0] == "channels":
        return [Channel]
    by_key: dict[str, list[type[Any]]] = {
        "defaults": [Defaults],
        "feeds": [Feed],
        "topics": [Topic],
        "fetch": [Fetch],
        "notify": [Notify],
        "dedup": [Dedup],
        "http": [Http],
        "near": [NearSpec],
        "groups": [GroupSpec, TermSpec],
        "all": [GroupSpec, TermSpec],
        "any": [GroupSpec, TermSpec],
        "none": [TermSpec],
        "terms": [TermSpec],
    }
    return by_key.get(keys[-1], [])


def pydantic_message(err: Any, loc: tuple[Any, ...]) -> str:
    """One pydantic error in our words: never "Input should be a valid dictionary"."""
    kind = err["type"]
    got = err.get("input")
    if kind == "extra_forbidden":
        fields = [f for model in models_at(loc[:-1]) for f in model.model_fields]
        hint = advice.did_you_mean(str(loc[-1]), fields) if loc else None
        return "unknown key" + (f" (did you mean `{hint}`?)" if hint else "")
    if kind == "missing":
        return "is required"
    if kind in ("too_short", "list_too_short") and not got:
        return "must not be empty"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"must be one of {expected.replace(chr(39), '')} (got {got!r})"
    if kind in _TYPE_WORDING:
        shown = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
        return _TYPE_WORDING[kind] + shown
    msg = str(err["msg"]).removeprefix("Value error, ")
    if got is not None and not isinstance(got, (dict, list)) and "(got" not in msg:
        msg += f" (got {got!r})"
    return msg.replace("Input should be", "must be").replace("String should", "must")
