"""The plugin conformance kit: a test class to subclass, pytest fixtures, a fake LLM server.

- :class:`ExperimentTypeContract` — subclass it in a plugin's tests; each contract check is a
  named test.
- fixtures (registered through the ``pytest11`` entry point, no import needed):
  ``tracking_uri``, ``make_plugins``, ``fake_llm`` — see :mod:`runner.testing.pytest_plugin`.
- :func:`serve_chat` / :class:`ChatServer` — the offline OpenAI-compatible server behind
  ``fake_llm``, for plugins that call an LLM.
"""

from runner.testing.chat_server import ChatServer, Reply, serve_chat
from runner.testing.contract import ContractRun, ExperimentTypeContract

__all__ = ["ChatServer", "ContractRun", "ExperimentTypeContract", "Reply", "serve_chat"]
