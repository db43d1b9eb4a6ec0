"""Params of the ``sklearn`` experiment type, and the tabular dataset params other plugins reuse.

Int, float and bool fields are strict (:data:`Number`, ``StrictInt``, ``StrictBool``): a boolean
is never taken for a number nor a number for a boolean.

The classifier is chosen by ``model``: one pydantic model per estimator, joined in a
discriminated union, so a hyperparameter of another estimator (``n_estimators`` with
``model=logistic_regression``) is rejected instead of silently ignored. A missing ``model``
means logistic regression, so ``runner run sklearn --set C=0.5`` works as typed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Strict,
    StrictBool,
    StrictFloat,
    StrictInt,
    Tag,
    field_validator,
    model_validator,
)

_NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number_from_text(value: Any) -> Any:
    """``1e-3`` typed on a command line arrives as text (YAML 1.1 wants ``1.0e-3``): read it."""
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        return float(value)
    return value


#: A float param. Strict, so ``true`` is not 1.0; ints are accepted (``C=1``), and so is a number
#: written as text (``lr=1e-3``). Integer params use ``StrictInt`` (``max_iter=true`` is an error,
#: not 1) and switches ``StrictBool`` (``scale=1`` is an error): booleans and numbers never mix.
Number = Annotated[float, Strict(), BeforeValidator(_number_from_text)]

#: A dataset shipped inside scikit-learn (no download), or ``csv`` for the user's own file.
DatasetName = Literal["wine", "iris", "breast_cancer", "digits", "csv"]

#: The bundled datasets: every ``DatasetName`` except ``csv``.
BUNDLED_DATASETS: tuple[str, ...] = tuple(n for n in get_args(DatasetName) if n != "csv")


class DatasetParams(BaseModel):
    """Which table to learn from: a scikit-learn bundled dataset or a CSV file."""

    model_config = ConfigDict(extra="forbid")

    name: DatasetName = Field(
        "wine",
        description="Bundled dataset (wine, iris, breast_cancer, digits) or csv for your own file; "
        "setting dataset.path selects csv.",
    )
    path: str | None = Field(
        None, description="CSV file with a header row: numeric feature columns plus a label column."
    )
    target: str | None = Field(
        None, description="The CSV's label column (default: its last column)."
    )

    @model_validator(mode="before")
    @classmethod
    def _path_means_csv(cls, data: Any) -> Any:
        """``dataset.path=x.csv`` alone is enough: it implies ``dataset.name=csv``."""
        if isinstance(data, dict) and data.get("path") is not None and "name" not in data:
            return {**data, "name": "csv"}
        return data

    @model_validator(mode="after")
    def _csv_fields_agree(self) -> DatasetParams:
        if self.name == "csv" and not self.path:
            raise ValueError("dataset.name=csv needs dataset.path")
        if self.name != "csv" and (self.path is not None or self.target is not None):
            raise ValueError(
                f"dataset.path and dataset.target are for CSV files, not the bundled {self.name!r}"
                " (a path alone selects csv: drop dataset.name or set it to csv)"
            )
        return self


class TabularParams(BaseModel):
    """What every tabular classification run shares: the data, the test split, the seed."""

    model_config = ConfigDict(extra="forbid")

    dataset: DatasetParams = Field(
        default_factory=DatasetParams, description="The dataset to train and test on."
    )
    test_size: Number = Field(
        0.2, gt=0, lt=1, description="Fraction of rows held out (stratified) for the test metrics."
    )
    seed: StrictInt = Field(
        42, description="Seed for the split and the model: same seed, same result."
    )

    def inactive_params(self) -> set[str]:
        """Params that take no effect here (not shown as MLflow params; config.json keeps them)."""
        return set() if self.dataset.name == "csv" else {"dataset.path", "dataset.target"}


class _SklearnCommon(TabularParams):
    """Options of every scikit-learn classifier run."""

    scale: StrictBool = Field(
        True, description="Standardize features (StandardScaler) in a pipeline before the model."
    )
    cv_folds: StrictInt = Field(
        0,
        ge=0,
        description="Stratified k-fold cross-validation on the training split; 0 turns it off.",
    )

    @model_validator(mode="after")
    def _folds_make_sense(self) -> _SklearnCommon:
        if self.cv_folds == 1:
            raise ValueError("cv_folds must be 0 (off) or at least 2")
        return self


class LogisticRegressionParams(_SklearnCommon):
    """Logistic regression (``sklearn.linear_model.LogisticRegression``)."""

    model: Literal["logistic_regression"] = Field(
        "logistic_regression", description="The classifier."
    )
    C: Number = Field(1.0, gt=0, description="Inverse regularization strength; smaller = stronger.")
    max_iter: StrictInt = Field(100, ge=1, description="Maximum solver iterations.")
    penalty: Literal["l2", "l1", "elasticnet", "none"] = Field(
        "l2", description="Regularization: l2, l1 (liblinear/saga), elasticnet (saga) or none."
    )
    solver: Literal["lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga"] = Field(
        "lbfgs", description="Optimization algorithm."
    )
    l1_ratio: Number = Field(
        0.5, ge=0, le=1, description="L1 share of the elasticnet penalty (penalty=elasticnet only)."
    )

    @model_validator(mode="after")
    def _solver_supports_penalty(self) -> LogisticRegressionParams:
        supported = {
            "l1": ("liblinear", "saga"),
            "elasticnet": ("saga",),
            "none": ("lbfgs", "newton-cg", "newton-cholesky", "sag", "saga"),
        }
        if self.penalty in supported and self.solver not in supported[self.penalty]:
            raise ValueError(
                f"penalty={self.penalty} needs solver in {', '.join(supported[self.penalty])}"
                f", not {self.solver}"
            )
        return self

    def inactive_params(self) -> set[str]:
        return super().inactive_params() | (set() if self.penalty == "elasticnet" else {"l1_ratio"})


class RandomForestParams(_SklearnCommon):
    """Random forest (``sklearn.ensemble.RandomForestClassifier``)."""

    model: Literal["random_forest"] = Field("random_forest", description="The classifier.")
    n_estimators: StrictInt = Field(100, ge=1, description="Number of trees.")
    max_depth: StrictInt | None = Field(
        None, ge=1, description="Maximum tree depth; none = unlimited."
    )
    min_samples_split: StrictInt = Field(2, ge=2, description="Minimum rows to split a node.")
    min_samples_leaf: StrictInt = Field(1, ge=1, description="Minimum rows in a leaf.")
    max_features: Literal["sqrt", "log2", "all"] = Field(
        "sqrt", description="Features tried per split: sqrt, log2 or all."
    )


class GradientBoostingParams(_SklearnCommon):
    """Gradient boosting (``sklearn.ensemble.GradientBoostingClassifier``)."""

    model: Literal["gradient_boosting"] = Field("gradient_boosting", description="The classifier.")
    n_estimators: StrictInt = Field(100, ge=1, description="Number of boosting stages.")
    learning_rate: Number = Field(0.1, gt=0, description="Shrinkage of each stage.")
    max_depth: StrictInt = Field(3, ge=1, description="Depth of each tree.")
    subsample: Number = Field(
        1.0, gt=0, le=1, description="Row fraction per stage (<1 = stochastic boosting)."
    )
    min_samples_leaf: StrictInt = Field(1, ge=1, description="Minimum rows in a leaf.")


class SVCParams(_SklearnCommon):
    """Support vector classifier (``sklearn.svm.SVC``)."""

    model: Literal["svc"] = Field("svc", description="The classifier.")
    C: Number = Field(1.0, gt=0, description="Inverse regularization strength; smaller = stronger.")
    kernel: Literal["rbf", "linear", "poly", "sigmoid"] = Field("rbf", description="Kernel.")
    gamma: Literal["scale", "auto"] | StrictFloat = Field(
        "scale", description="Kernel coefficient for rbf/poly/sigmoid: scale, auto or a number."
    )
    degree: StrictInt = Field(3, ge=1, description="Polynomial degree (kernel=poly only).")
    max_iter: StrictInt = Field(-1, ge=-1, description="Solver iteration limit; -1 = none.")
    probability: StrictBool = Field(
        True,
        description="Calibrate class probabilities (needed for roc_auc) by 5-fold "
        "CalibratedClassifierCV around the SVC.",
    )

    @field_validator("gamma", mode="before")
    @classmethod
    def _gamma_from_text(cls, value: Any) -> Any:
        """``gamma=1e-3`` as typed (a plain validator keeps the union's error locations short)."""
        return _number_from_text(value)

    def inactive_params(self) -> set[str]:
        unused = {"degree"} if self.kernel != "poly" else set()
        return super().inactive_params() | unused | ({"gamma"} if self.kernel == "linear" else set())


MODEL_NAMES: tuple[str, ...] = ("logistic_regression", "random_forest", "gradient_boosting", "svc")


def _model_tag(value: Any) -> str | None:
    """The union's discriminator: ``model``, defaulting to logistic regression."""
    if isinstance(value, dict):
        return value.get("model", "logistic_regression")
    return getattr(value, "model", None)


SklearnParams = Annotated[
    Annotated[LogisticRegressionParams, Tag("logistic_regression")]
    | Annotated[RandomForestParams, Tag("random_forest")]
    | Annotated[GradientBoostingParams, Tag("gradient_boosting")]
    | Annotated[SVCParams, Tag("svc")],
    Discriminator(
        _model_tag,
        custom_error_type="unknown_model",
        custom_error_message=f"model must be one of: {', '.join(MODEL_NAMES)}",
    ),
]
"""Params of one ``sklearn`` run: one of the four classifier models above, chosen by ``model``."""

ClassifierParams = (
    LogisticRegressionParams | RandomForestParams | GradientBoostingParams | SVCParams
)
