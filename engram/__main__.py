"""``python -m engram``: the ``engram`` command."""

from engram.interfaces.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
