"""The ``local`` backend: a causal LM through transformers on CPU, fully offline.

A GGUF model (the bundled SmolLM2 default) is de-quantized once (15-40 s) and saved as
safetensors under the runner cache; later processes load that copy in about two seconds. The
cache is written to a temporary folder and renamed into place, so concurrent processes are safe.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner_llm.offline import hub_offline

hub_offline()
# Idle OpenMP threads sleep instead of spinning: on a shared CPU, spinning workers made one
# forward pass 6x slower (250 ms vs 40 ms for SmolLM2-135M on 2 busy cores). Only effective
# if torch was not imported before this module.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from runner_llm.backends.base import BackendParams, Completion  # noqa: E402
from runner_llm.backends.models import (  # noqa: E402
    ModelSource,
    converted_dir,
    publish_dir,
    resolve_model,
)

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
    """Load ``llm_model`` (bundled name, HF folder or GGUF path) once per process."""
    source = resolve_model(llm_model)
    with _LOCK:
        if llm_model in _LOADED:
            return _LOADED[llm_model]
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
    """Chat through the model's chat template; greedy decoding unless temperature > 0."""

    name = "local"
    #: Runs on this machine: its cost is compute time, priced by the core's cost ledger.
    local = True

    def __init__(self, params: BackendParams) -> None:
        self.params = params
        self.loaded = load_model(params.llm_model)
        self.model = self.loaded.name
        source = resolve_model(params.llm_model)
        #: What the answers depend on: the GGUF file or the model folder (in the content key).
        self.files: Path = source.gguf_path or source.folder
        tokenizer = self.loaded.tokenizer
        sample = params.temperature > 0
        self.generation_config = GenerationConfig(
            max_new_tokens=params.max_tokens,
            do_sample=sample,
            temperature=params.temperature if sample else None,
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
        """Generate one answer; token counts come from the tokenizer."""
        start = time.perf_counter()
        inputs = self.encode(messages)
        prompt_len = int(inputs["input_ids"].shape[1])
        if self.params.temperature > 0:
            torch.manual_seed(self.params.seed)
        with torch.inference_mode():
            output = self.loaded.model.generate(**inputs, generation_config=self.generation_config)
        new_tokens = output[0][prompt_len:]
        text = self.loaded.tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
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
