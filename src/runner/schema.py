"""Describe an experiment type's params schema for people: name, type, default, description."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined


@dataclass(frozen=True)
class ParamRow:
    """One param as ``runner show`` lists it; ``variant`` names the union member it belongs to."""

    name: str
    type: str
    default: Any
    description: str
    variant: str | None = None


def type_name(annotation: Any) -> str:
    """A short readable name: ``int``, ``list[int]``, ``Literal['adam', 'sgd']``, ``str | None``."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def member_models(params: Any) -> list[type[BaseModel]]:
    """The BaseModel classes behind a model or an (Annotated) union of models."""
    if isinstance(params, type) and issubclass(params, BaseModel):
        return [params]
    origin = typing.get_origin(params)
    if origin is typing.Annotated:
        return member_models(typing.get_args(params)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(params) for m in member_models(arg)]
    return []


def _variant(model: type[BaseModel]) -> str | None:
    """``model=random_forest`` for a union member whose discriminator is a one-value Literal."""
    for name, info in model.model_fields.items():
        args = typing.get_args(info.annotation)
        if typing.get_origin(info.annotation) is typing.Literal and len(args) == 1:
            return f"{name}={args[0]}"
    return None


def _rows(model: type[BaseModel], prefix: str, variant: str | None) -> list[ParamRow]:
    rows: list[ParamRow] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(_rows(annotation, f"{prefix}{name}.", variant))
            continue
        default = info.default
        if default is PydanticUndefined:
            default = info.default_factory() if info.default_factory else "(required)"  # type: ignore[call-arg]
        rows.append(ParamRow(f"{prefix}{name}", _choices(info) or type_name(annotation), default,
                             info.description or "", variant))
    return rows


def _choices(info: FieldInfo) -> str | None:
    """``one of: a, b`` for a field whose JSON schema extra lists an ``enum`` (possibly one
    computed when asked, like the installed LLM backends)."""
    extra = info.json_schema_extra
    schema: dict[str, Any] = {}
    if callable(extra):
        extra(schema)  # type: ignore[call-arg]
    elif isinstance(extra, dict):
        schema = dict(extra)
    choices = schema.get("enum")
    return f"one of: {', '.join(map(str, choices))}" if choices else None


def param_rows(params: Any) -> list[ParamRow]:
    """Every param of a schema, nested models flattened to dotted names.

    For a union, a param every member shares is listed once; the others name their member
    (``model=svc``), and the discriminator lists its choices.
    """
    members = member_models(params)
    if len(members) == 1:
        return _rows(members[0], "", None)
    per_member = [_rows(member, "", _variant(member)) for member in members]
    names_in_all = set.intersection(*({row.name for row in rows} for rows in per_member))
    shared: dict[str, ParamRow] = {}
    specific: list[ParamRow] = []
    for rows in per_member:
        for row in rows:
            if row.name not in names_in_all:
                specific.append(row)
            elif row.name not in shared:
                shared[row.name] = ParamRow(row.name, row.type, row.default, row.description)
            elif shared[row.name].type != row.type:  # the discriminator: one Literal per member
                merged = f"{shared[row.name].type} | {row.type}"
                shared[row.name] = ParamRow(row.name, merged, shared[row.name].default, row.description)
    return [*shared.values(), *specific]
