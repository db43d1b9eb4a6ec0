"""Bad params, fuzzed from each installed experiment type's own schema.

Any value a schema rejects is one ``error:`` line, exit 2 and no run — through the same path as
``runner run TYPE --set key=value``. Values a schema accepts are checked to validate to a model
(running them all would run for ever: ``epochs=10**9`` is a legal, very long run).
"""

from __future__ import annotations

import json
import string

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner import InputError
from runner import cli as cli_module
from runner.config import resolve
from runner.plugins import load_plugins
from runner.registry import Registry
from runner.schema import member_models

PLUGINS = load_plugins()
TYPES = sorted(PLUGINS.types)

#: Values a user could type after ``--set key=`` (as YAML) or pass from code.
junk = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
    st.text(string.printable, max_size=12), st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.sampled_from(["a", "path", "name"]), st.integers(), max_size=2),
)


def _fields(type_id: str) -> list[str]:
    exp_type = PLUGINS.types[type_id][0]
    return sorted({name for model in member_models(exp_type.params) for name in model.model_fields})


@pytest.mark.parametrize("type_id", TYPES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_value_is_a_model_or_one_input_error_line(type_id, data):
    key = data.draw(st.sampled_from([*_fields(type_id), "no_such_key"]), label="key")
    value = data.draw(junk, label="value")
    try:
        resolved = resolve(type_id, {key: value}, plugins=PLUGINS, registry=Registry())
    except InputError as error:
        message = str(error)
        assert message and "\n" not in message and "Traceback" not in message
        return
    assert resolved.params is not None and json.dumps(resolved.config)  # a complete config


@pytest.mark.parametrize("type_id", TYPES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_rejected_values_on_the_command_line_make_no_run(type_id, data, tmp_path_factory):
    key = data.draw(st.sampled_from(_fields(type_id)), label="key")
    value = data.draw(junk, label="value")
    try:
        resolve(type_id, {key: value}, plugins=PLUGINS, registry=Registry())
        return  # accepted: the other test covers it
    except InputError:
        pass
    store = tmp_path_factory.mktemp("fuzz") / "mlflow.db"
    cli_module._plugins = PLUGINS
    # typed as YAML, as a user would (JSON's `Infinity` is YAML's string "Infinity", not inf)
    typed = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("\n...")
    result = CliRunner().invoke(cli_module.cli, ["run", type_id, "--set", f"{key}={typed}",
                                                 "--tracking-uri", f"sqlite:///{store}"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert not store.exists()  # no run, not even a store
