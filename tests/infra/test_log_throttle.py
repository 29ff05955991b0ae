"""ThrottledWarning: the per-request warnings of a Redis outage become one line per interval."""

import logging

import pytest

from tokens.infra.log_throttle import ThrottledWarning

pytestmark = pytest.mark.pure


def test_first_warning_at_once_then_one_per_interval_with_the_count(caplog):
    warning = ThrottledWarning(logging.getLogger("t"), interval=30)
    with caplog.at_level(logging.WARNING, logger="t"):
        assert warning.warn("down: %s", "refused", now=100.0)
        assert not any(warning.warn("down: %s", "refused", now=100.0 + i) for i in range(1, 30))
        assert warning.warn("down: %s", "refused", now=130.0)
        warning.recovered("up again")
        warning.recovered("up again")  # once per failure period
    assert [r.getMessage() for r in caplog.records] == [
        "down: refused",
        "down: refused (29 more like this in the last 30 s)",
        "up again (0 warnings left out before)",
    ]


def test_recovery_reports_what_was_left_out_and_resets(caplog):
    warning = ThrottledWarning(logging.getLogger("t"), interval=30)
    with caplog.at_level(logging.WARNING, logger="t"):
        warning.recovered("up")  # nothing failed: silent
        for i in range(5):
            warning.warn("down", now=10.0 + i)
        warning.recovered("up")
        assert warning.warn("down", now=16.0)  # a new outage is reported at once
    assert [r.getMessage() for r in caplog.records] == ["down", "up (4 warnings left out before)", "down"]
