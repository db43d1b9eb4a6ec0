"""``python -m runner``: the same CLI as the ``runner`` command."""

from runner.cli import main

main()
