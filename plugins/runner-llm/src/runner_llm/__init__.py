"""runner-llm: evaluate versioned prompt templates against an LLM backend.

Public, import-light modules other plugins reuse: :mod:`runner_llm.backends`,
:mod:`runner_llm.pricing`, :mod:`runner_llm.prompts`, :mod:`runner_llm.quality`,
:mod:`runner_llm.calls`.
"""

__version__ = "0.1.0"
