"""Keep Hugging Face libraries off the network: every model a run uses is already on disk."""

from __future__ import annotations

import os


def hub_offline() -> None:
    """Set ``HF_HUB_OFFLINE=1`` and ``TRANSFORMERS_OFFLINE=1`` unless the user set them.

    huggingface_hub reads them when it is first imported, so call this before importing
    transformers or sentence-transformers.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
