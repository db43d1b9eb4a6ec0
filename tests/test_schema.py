"""`runner show` rows for plain models and discriminated unions."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from runner.schema import param_rows


class Common(BaseModel):
    seed: int = Field(0, description="seed")


class Linear(Common):
    model: Literal["linear"] = "linear"
    C: float = Field(1.0, description="regularization")


class Forest(Common):
    model: Literal["forest"] = "forest"
    n_estimators: int = 100


Params = Annotated[Linear | Forest, Field(discriminator="model")]


def test_union_lists_shared_params_once_and_names_each_variant():
    rows = {(r.name, r.variant): r for r in param_rows(Params)}
    assert set(rows) == {("seed", None), ("model", None), ("C", "model=linear"), ("n_estimators", "model=forest")}
    assert rows[("model", None)].type == "Literal['linear'] | Literal['forest']"
    assert rows[("C", "model=linear")].description == "regularization"


def test_plain_model_rows_have_types_and_defaults():
    rows = param_rows(Linear)
    assert [(r.name, r.type, r.default) for r in rows] == [("seed", "int", 0), ("model", "Literal['linear']", "linear"), ("C", "float", 1.0)]
