"""Imported at start-up by a node whose PYTHONPATH names this directory (tests/acceptance/test_cluster_redteam.py): its
wall clock reads MONITOR_TEST_CLOCK_SKEW seconds off (a node whose NTP is broken).
datetime.now/utcnow and time.time are shifted; monotonic clocks are not."""

import datetime as _datetime
import os
import time as _time
import warnings

# a C extension built against the real type notices the subclass; harmless here
warnings.filterwarnings("ignore", message="datetime.datetime size changed")

_SKEW = float(os.environ.get("MONITOR_TEST_CLOCK_SKEW", "0"))
if _SKEW:
    _real_time = _time.time
    _time.time = lambda: _real_time() + _SKEW  # type: ignore[assignment]
    _Base = _datetime.datetime

    class _SkewedDatetime(_Base):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return _Base.now(tz) + _datetime.timedelta(seconds=_SKEW)

        @classmethod
        def utcnow(cls):  # type: ignore[override]
            return _Base.utcnow() + _datetime.timedelta(seconds=_SKEW)

    _datetime.datetime = _SkewedDatetime  # type: ignore[misc]
