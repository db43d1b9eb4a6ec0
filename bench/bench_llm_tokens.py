"""Local LLM throughput through the runner: ``run_experiment("llm-prompt")`` vs raw ``generate``.

The runner side is a whole ``llm-prompt`` run in this process (prompt registry, one trace span
and per-item metrics per call, MLflow logging into a temporary sqlite store); its logged
``tokens_per_sec`` (completion tokens / generation seconds) is compared with a raw transformers
``generate`` loop over the same SmolLM2-135M-Instruct object, the same rendered prompts (chat
template), the same ``max_new_tokens``, greedy. Model load is paid once: a one-item warm-up run
loads it (and creates the store) before anything is timed. Runs and raw loops alternate
(runner, raw, raw, runner, ...) so machine noise hits both alike. Target: runner within 10%.

    .venv/bin/python bench/bench_llm_tokens.py [--items 6] [--max-tokens 32] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET = 0.9  # runner tokens/sec >= 90% of raw


def runner_side(overrides: dict[str, Any], uri: str) -> tuple[int, float, float, list[str]]:
    """One llm-prompt run: (completion tokens, logged tokens/sec, wall seconds, answers)."""
    from mlflow import MlflowClient
    from runner.runs import run_experiment

    start = time.perf_counter()
    outcome = run_experiment("llm-prompt", overrides, tracking_uri=uri)
    wall = time.perf_counter() - start
    if outcome.status != "FINISHED":
        raise SystemExit(f"runner run failed: {outcome.error}")
    table = json.loads(
        Path(MlflowClient(uri).download_artifacts(outcome.run_id, "items.json")).read_text()
    )
    answers = [row[table["columns"].index("response")] for row in table["data"]]
    m = outcome.metrics
    return int(m["completion_tokens"]), m["tokens_per_sec"], wall, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-llm-"))
    os.chdir(workdir)  # no registry.yaml here: "llm-prompt" is the experiment type itself
    os.environ.pop("RUNNER_REGISTRY", None)
    uri = f"sqlite:///{workdir / 'mlflow.db'}"
    overrides = {"backend": "local", "prompt_name": "qa", "prompt_version": 1,
                 "max_items": args.items, "max_tokens": args.max_tokens}

    start = time.perf_counter()
    runner_side({**overrides, "max_items": 1}, uri)  # loads the model, creates the store
    warm_up = time.perf_counter() - start

    import torch
    from runner_llm import prompts
    from runner_llm.backends import get_backend
    from runner_llm.data import load_items
    from runner_llm.params import LlmPromptParams

    params = LlmPromptParams(**overrides)
    backend = get_backend(params)  # the object the run used (cached per process)
    model, tokenizer = backend.loaded.model, backend.loaded.tokenizer
    template = prompts.load_template(params.prompt_name, params.prompt_version)
    items, _ = load_items(params, template)
    requests = [[{"role": "user", "content": prompts.render(template, item.variables)}]
                for item in items]

    def raw_side() -> tuple[int, float, list[str]]:
        tokens, seconds, answers = 0, 0.0, []
        for messages in requests:
            t0 = time.perf_counter()
            inputs = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            with torch.inference_mode():
                out = model.generate(**inputs, max_new_tokens=args.max_tokens, do_sample=False,
                                     pad_token_id=tokenizer.eos_token_id)
            new = out[0][inputs["input_ids"].shape[1]:]
            answers.append(tokenizer.decode(new, skip_special_tokens=True).strip())
            seconds += time.perf_counter() - t0
            tokens += int(new.shape[0])
        return tokens, seconds, answers

    runner_tok = runner_gen = runner_wall = 0.0
    raw_tok = raw_sec = 0.0
    same = 0
    for rep in range(args.repeats):
        order = ["runner", "raw"] if rep % 2 == 0 else ["raw", "runner"]
        answers: dict[str, list[str]] = {}
        for side in order:
            if side == "runner":
                tokens, rate, wall, answers[side] = runner_side(overrides, uri)
                runner_tok += tokens
                runner_gen += tokens / rate
                runner_wall += wall
            else:
                tokens, seconds, answers[side] = raw_side()
                raw_tok += tokens
                raw_sec += seconds
        same += sum(a == b for a, b in zip(answers["runner"], answers["raw"]))

    runner_rate, raw_rate = runner_tok / runner_gen, raw_tok / raw_sec
    ratio = runner_rate / raw_rate
    calls = args.items * args.repeats
    print(f"\nmodel {backend.model}, {args.items} items x {args.repeats} repeats, "
          f"max_new_tokens {args.max_tokens}, greedy, torch threads {torch.get_num_threads()}, "
          f"warm-up run (model load) {warm_up:.1f} s\n")
    print("| path | calls | completion tokens | generation s | tokens/sec |")
    print("|---|---:|---:|---:|---:|")
    print(f"| runner: `llm-prompt` run, logged `tokens_per_sec` | {calls} | {runner_tok:.0f} | "
          f"{runner_gen:.2f} | {runner_rate:.1f} |")
    print(f"| raw transformers `generate` loop | {calls} | {raw_tok:.0f} | {raw_sec:.2f} | "
          f"{raw_rate:.1f} |")
    print(f"| ratio runner / raw | | | | **{ratio:.3f}** |")
    verdict = "within 10%" if ratio >= TARGET else "MORE than 10% slower"
    print(f"\n{verdict}; identical answers {same}/{calls}; whole runs incl. MLflow logging: "
          f"{runner_wall:.2f} s wall = {runner_tok / runner_wall:.1f} completion tokens/s")


if __name__ == "__main__":
    main()
