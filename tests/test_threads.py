"""BLAS limits of overlapping fits: the first one's limits come back."""

import threading
from typing import ClassVar

from skclust import _threads


class _FakeLimits:
    """threadpoolctl's threadpool_limits on a fake process-wide setting."""

    setting: ClassVar[dict] = {"blas": 4}

    def __init__(self, limits=None, user_api=None):
        self._original = dict(self.setting)
        if limits is not None:
            self.setting["blas"] = limits

    def restore_original_limits(self):
        self.setting.update(self._original)


def test_overlapping_blocks_in_threads_restore_the_first_limits(monkeypatch):
    monkeypatch.setattr(_threads, "threadpool_limits", _FakeLimits)
    monkeypatch.setattr(_FakeLimits, "setting", {"blas": 4})
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with _threads.blas_threads(1):
            a_in.set()
            b_in.wait()
        a_out.set()

    def second():
        a_in.wait()
        with _threads.blas_threads(2):
            b_in.set()
            a_out.wait()
            # The first block has ended; the second's limit still holds.
            seen["inside"] = _FakeLimits.setting["blas"]

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen["inside"] == 2
    # Plain threadpool_limits contexts would end on the first's limit of 1,
    # which the second found on entry.
    assert _FakeLimits.setting["blas"] == 4
    assert _threads._active == 0


def test_nested_blocks_and_none(monkeypatch):
    monkeypatch.setattr(_threads, "threadpool_limits", _FakeLimits)
    monkeypatch.setattr(_FakeLimits, "setting", {"blas": 4})
    with _threads.blas_threads(None):
        assert _FakeLimits.setting["blas"] == 4
        with _threads.blas_threads(1):
            assert _FakeLimits.setting["blas"] == 1
    assert _FakeLimits.setting["blas"] == 4
