"""Project-wide pytest setup: the conformance items come from the spectest plugin."""

pytest_plugins = ["spectest.pytest_plugin"]
