"""runner-rag: retrieval-augmented generation experiments for runner (type id ``rag``)."""

__version__ = "0.1.0"
