"""hello_pyti: a greeting, so that pyti has something to import and test."""

__version__ = "0.1.0"


def greet(name: str) -> str:
    """Return a friendly greeting for name."""
    return f"Hello, {name}!"
