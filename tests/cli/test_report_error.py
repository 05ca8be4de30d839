"""The one line ``report_error`` prints for an error a command did not expect to handle itself."""
from __future__ import annotations

import pytest

from quarterdeck.cli.common import EXIT_USAGE
from quarterdeck.cli.main import report_error


def _raised(action):
    try:
        action()
    except Exception as exc:
        return exc
    raise AssertionError("nothing was raised")


def test_a_bare_unicode_error_from_a_codec_is_one_usage_line(capsys):
    """The idna codec raises UnicodeError itself, which has no ``reason`` (its subclasses do)."""
    exc = _raised(lambda: "a..b".encode("idna"))
    assert type(exc) is UnicodeError
    assert report_error(exc, sending=False) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("quarterdeck: error: text that is not UTF-8 (")
    assert "label" in err and err.count("\n") == 1


@pytest.mark.parametrize("action", [lambda: b"caf\xe9".decode("utf-8"), lambda: "\udce9".encode("utf-8")])
def test_decode_and_encode_errors_name_their_reason(action, capsys):
    exc = _raised(action)
    assert report_error(exc, sending=False) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"({exc.reason})" in err
