"""The settings reader: typed values, NAME_FILE secrets, and errors that name the variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from harborconsole.env import Env


def test_values_and_defaults():
    env = Env({"A": "true", "N": "42", "L": "a, b,,c", "F": "1.5"})
    assert env.bool("A") is True
    assert env.int("N", 0) == 42
    assert env.list("L") == ["a", "b", "c"]
    assert env.float("F", 0.0) == 1.5
    assert env.str("MISSING", "dflt") == "dflt"


def test_secret_from_file(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cr3t\n")
    assert Env({"SECRET_KEY_FILE": str(secret)}).str("SECRET_KEY") == "s3cr3t"


@pytest.mark.parametrize(
    ("environ", "call", "message"),
    [
        ({"DEBUG": "maybe"}, lambda e: e.bool("DEBUG"), "DEBUG='maybe' is not a boolean"),
        ({"PORT": "eighty"}, lambda e: e.int("PORT", 1), "PORT='eighty' is not a whole number"),
        ({"PORT": "-1"}, lambda e: e.int("PORT", 1, minimum=0), "PORT=-1 is below the minimum"),
        ({"U": "ftp://x"}, lambda e: e.url("U", schemes=("http",)), "U='ftp://x' must start with"),
        ({"K_FILE": "/nonexistent/k"}, lambda e: e.str("K"), "K_FILE='/nonexistent/k' cannot be read"),
    ],
)
def test_bad_values_name_the_variable(environ, call, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        call(Env(environ))
