"""The ``local`` backend: a causal LM through transformers on CPU, fully offline.

A GGUF model (the bundled SmolLM2 default) is de-quantized once (15-40 s) and saved as
safetensors under the runner cache; later processes load that copy in about two seconds. The
cache is written to a temporary folder and renamed into place, so concurrent processes are safe.

Building a backend only resolves the model's files (a missing or unreadable model is an
:class:`~runner.InputError` before any run exists); torch and transformers are imported and the
weights loaded on the first :meth:`LocalBackend.complete`, so a run whose every answer is
replayed from the response cache never pays for them.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner_llm.backends.base import BackendError, BackendParams, Completion
from runner_llm.backends.models import (
    ModelSource,
    check_model_files,
    converted_dir,
    publish_dir,
    resolve_model,
)
from runner_llm.offline import hub_offline

if TYPE_CHECKING:
    from transformers import GenerationConfig

hub_offline()
# Idle OpenMP threads sleep instead of spinning: on a shared CPU, spinning workers made one
# forward pass 6x slower (250 ms vs 40 ms for SmolLM2-135M on 2 busy cores). Only effective
# if torch is not imported before this module.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_LOADED: dict[str, LoadedModel] = {}


@dataclass(frozen=True)
class LoadedModel:
    """A model and its tokenizer, loaded once per process."""

    name: str
    model: Any
    tokenizer: Any
    load_sec: float


def _convert_gguf(source: ModelSource, target: Path) -> None:
    """De-quantize a GGUF into a safetensors folder at ``target`` (atomic: temp dir + rename)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s to safetensors (one time, ~30 s)", source.gguf_path)
    model = AutoModelForCausalLM.from_pretrained(source.folder, gguf_file=source.gguf_file)
    tokenizer = AutoTokenizer.from_pretrained(source.folder, gguf_file=source.gguf_file)
    # save_pretrained refuses quantized models; the weights are already plain float tensors.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config

    def write(folder: Path) -> None:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)

    publish_dir(target, write)


def load_model(llm_model: str) -> LoadedModel:
    """Load ``llm_model`` (bundled name, HF folder or GGUF path) once per process; the first
    call imports torch and transformers."""
    source = resolve_model(llm_model)
    with _LOCK:
        if llm_model in _LOADED:
            return _LOADED[llm_model]
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        start = time.perf_counter()
        hf_logging.disable_progress_bar()
        folder = source.folder
        if source.gguf_file is not None:
            folder = converted_dir(source)
            if not (folder / "config.json").is_file():
                _convert_gguf(source, folder)
        model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model.eval()
        loaded = LoadedModel(source.name, model, tokenizer, time.perf_counter() - start)
        _LOADED[llm_model] = loaded
        return loaded


class LocalBackend:
    """Chat through the model's chat template; greedy decoding unless temperature > 0.

    Building one resolves the model's files without loading them; the weights load (once per
    process, shared by every backend of that model) on first use of :attr:`loaded`.
    """

    name = "local"
    #: Runs on this machine: its cost is compute time, priced by the core's cost ledger.
    local = True

    def __init__(self, params: BackendParams) -> None:
        self.params = params
        source = resolve_model(params.llm_model)  # InputError (one line) for a bad model
        check_model_files(source)
        self.model = source.name
        #: What the answers depend on: the GGUF file or the model folder (in the content key).
        self.files: Path = source.gguf_path or source.folder

    @functools.cached_property
    def loaded(self) -> LoadedModel:
        """The model and tokenizer, loaded on first use.

        :raises BackendError: the files cannot be loaded as a model (one line).
        """
        try:
            return load_model(self.params.llm_model)
        except Exception as exc:  # noqa: BLE001 - a corrupt model file is one line, not a trace
            raise BackendError(
                f"local model {self.params.llm_model!r} ({self.files}) cannot be loaded: "
                f"{type(exc).__name__}: {exc}".splitlines()[0]
            ) from exc

    @functools.cached_property
    def generation_config(self) -> GenerationConfig:
        """Decoding settings: ``max_tokens`` new tokens, greedy unless temperature > 0."""
        from transformers import GenerationConfig

        tokenizer = self.loaded.tokenizer
        sample = self.params.temperature > 0
        return GenerationConfig(
            max_new_tokens=self.params.max_tokens,
            do_sample=sample,
            temperature=self.params.temperature if sample else None,
            top_p=None,
            top_k=None,
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )

    def encode(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """Tokenize ``messages`` through the chat template, ready for ``generate``."""
        tokenizer = self.loaded.tokenizer
        if tokenizer.chat_template:
            return dict(
                tokenizer.apply_chat_template(
                    messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
                )
            )
        text = "\n".join(m["content"] for m in messages)
        return dict(tokenizer(text, return_tensors="pt"))

    def complete(self, messages: list[dict[str, str]]) -> Completion:
        """Generate one answer; token counts come from the tokenizer. The first call loads the
        model, which ``latency_sec`` does not count."""
        loaded, config = self.loaded, self.generation_config
        import torch

        start = time.perf_counter()
        inputs = self.encode(messages)
        prompt_len = int(inputs["input_ids"].shape[1])
        if self.params.temperature > 0:
            torch.manual_seed(self.params.seed)
        with torch.inference_mode():
            output = loaded.model.generate(**inputs, generation_config=config)
        new_tokens = output[0][prompt_len:]
        text = loaded.tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
        n_new = int(new_tokens.shape[0])
        finish = "length" if n_new >= self.params.max_tokens else "stop"
        return Completion(
            text=text,
            prompt_tokens=prompt_len,
            completion_tokens=n_new,
            latency_sec=time.perf_counter() - start,
            model=self.model,
            finish_reason=finish,
        )
