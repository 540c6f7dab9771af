"""pyti_helper: the few pieces of pyti that must run inside Python, inside
the sandbox. Each module is a small program run as
`python -P /pyti/python/pyti_helper/<name>.py ARGS`; it writes its result as
JSON to the file named by --result and its log to stdout/stderr. They use
only the standard library (and tools Debian installs: pip from the
wheelhouse, pytest, pycodestyle, pyflakes) and never trust the package."""
