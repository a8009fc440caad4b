"""``python -m engine``: the ``lazywasm`` command line (see engine.cli)."""

from .cli import entry_point

if __name__ == "__main__":
    entry_point()
