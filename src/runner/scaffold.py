"""``runner new-plugin``: write a pip-installable plugin package that works as generated."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from runner.errors import InputError

#: template file -> path inside the new package folder ($package is substituted).
FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "plugin.py.tmpl": "src/$package/plugin.py",
    "params.py.tmpl": "src/$package/params.py",
    "experiment.py.tmpl": "src/$package/experiment.py",
    "test_plugin.py.tmpl": "tests/test_$package.py",
}
#: A type id that makes a valid PEP 508 distribution name (``runner-<id>``, already in PEP 503
#: normal form) and a Python package name (``runner_<id>``): lowercase letters and digits in
#: words joined by single dashes.
NAME_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def write_plugin(type_id: str, directory: Path) -> Path:
    """Create ``directory/runner-<type_id>`` and return it; refuses to overwrite."""
    if not NAME_PATTERN.fullmatch(type_id):
        raise InputError(f"plugin name {type_id!r}: use lowercase letters and digits, in words "
                         "joined by single dashes (e.g. my-model)")
    names = {"type_id": type_id, "dist": f"runner-{type_id}", "package": f"runner_{type_id.replace('-', '_')}"}
    folder = directory / names["dist"]
    if folder.exists():
        raise InputError(f"{folder} already exists")
    templates = resources.files("runner") / "templates" / "plugin"
    for template_name, target in FILES.items():
        path = folder / Template(target).substitute(names)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template((templates / template_name).read_text()).substitute(names))
    (folder / "src" / names["package"] / "__init__.py").write_text(f'"""runner plugin {type_id}."""\n')
    return folder
