from hello_pyti import greet


def test_greet():
    assert greet("pyti") == "Hello, pyti!"
