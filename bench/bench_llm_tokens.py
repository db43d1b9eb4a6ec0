"""Local LLM throughput: runner_llm's local backend vs a raw transformers ``generate`` loop.

Both paths use the same loaded SmolLM2-135M-Instruct, the same chat-templated inputs and greedy
decoding; calls are interleaved (runner, raw, raw, runner, ...) so machine noise hits both
alike. Target: the backend within 10% of raw tokens/sec. Model load is paid once per process.

    .venv/bin/python bench/bench_llm_tokens.py [--items 8] [--max-tokens 32] [--repeats 2]
"""

from __future__ import annotations

import argparse
import time

from runner_llm import prompts
from runner_llm.backends import BackendParams, get_backend
from runner_llm.data import default_input_path, read_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    start = time.perf_counter()
    backend = get_backend(BackendParams(max_tokens=args.max_tokens))
    first_load = time.perf_counter() - start
    start = time.perf_counter()
    get_backend(BackendParams(max_tokens=args.max_tokens))
    second_get = time.perf_counter() - start

    import torch  # already loaded by the backend

    model, tokenizer = backend.loaded.model, backend.loaded.tokenizer
    template = prompts.load_template("qa", 2)
    requests = [
        [{"role": "user", "content": prompts.render(template, item.variables)}]
        for item in read_jsonl(default_input_path())[: args.items]
    ]

    def raw(messages: list[dict[str, str]]) -> tuple[int, float, str]:
        t0 = time.perf_counter()
        inputs = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        with torch.inference_mode():
            out = model.generate(
                **inputs, max_new_tokens=args.max_tokens, do_sample=False,
                pad_token_id=tokenizer.eos_token_id,
            )
        new = out[0][inputs["input_ids"].shape[1]:]
        text = tokenizer.decode(new, skip_special_tokens=True).strip()
        return int(new.shape[0]), time.perf_counter() - t0, text

    def runner(messages: list[dict[str, str]]) -> tuple[int, float, str]:
        c = backend.complete(messages)
        return c.completion_tokens, c.latency_sec, c.text

    runner(requests[0])  # warm-up both paths (first generate allocates caches)
    raw(requests[0])

    totals = {"runner backend": [0, 0.0], "raw generate": [0, 0.0]}
    same = 0
    for rep in range(args.repeats):
        for i, messages in enumerate(requests):
            order = [("runner backend", runner), ("raw generate", raw)]
            if (rep + i) % 2:
                order.reverse()
            texts = {}
            for name, fn in order:
                tokens, seconds, texts[name] = fn(messages)
                totals[name][0] += tokens
                totals[name][1] += seconds
            same += texts["runner backend"] == texts["raw generate"]

    calls = args.items * args.repeats
    print(f"model: {backend.model} | first get_backend (load) {first_load:.2f}s | "
          f"second get_backend {second_get * 1000:.2f} ms | torch threads "
          f"{torch.get_num_threads()}")
    print(f"{'path':<16} {'calls':>5} {'tokens':>7} {'seconds':>8} {'tok/s':>7}")
    rates = {}
    for name, (tokens, seconds) in totals.items():
        rates[name] = tokens / seconds
        print(f"{name:<16} {calls:>5} {tokens:>7} {seconds:>8.2f} {rates[name]:>7.1f}")
    ratio = rates["runner backend"] / rates["raw generate"]
    verdict = "within 10%" if ratio >= 0.9 else "MORE than 10% slower"
    print(f"ratio runner/raw tok/s: {ratio:.3f} ({verdict}); identical answers: {same}/{calls}")


if __name__ == "__main__":
    main()
