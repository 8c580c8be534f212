"""BLAS limits: set and restored by the main thread only."""

import threading

import numpy as np
import pytest
from joblib import parallel_config
from threadpoolctl import ThreadpoolController, threadpool_info

from skclust import KMeansL2, _threads


class _RecordedLimits:
    """``_threads._limited`` on a fake setting, noting each caller."""

    def __init__(self, setting, callers):
        self.setting, self.callers = setting, callers

    def __call__(self, limit):
        self.callers.append(threading.current_thread())
        found = dict(self.setting)
        self.setting["blas"] = limit
        limiter = self

        class _Context:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                limiter.setting.update(found)

        return _Context()


@pytest.fixture
def fake_limits(monkeypatch):
    recorded = _RecordedLimits({"blas": 4}, [])
    monkeypatch.setattr(_threads, "_limited", recorded)
    return recorded


def test_main_thread_blocks_nest_and_restore(fake_limits):
    with _threads.blas_threads(None):
        assert fake_limits.setting["blas"] == 4
        with _threads.blas_threads(2):
            assert fake_limits.setting["blas"] == 2
            with _threads.blas_threads(1):
                assert fake_limits.setting["blas"] == 1
            assert fake_limits.setting["blas"] == 2
    assert fake_limits.setting["blas"] == 4


def test_a_block_inside_one_of_the_same_limit_sets_nothing(fake_limits):
    seen = []
    with _threads.blas_threads(1):
        with _threads.blas_threads(None), _threads.blas_threads(1):
            seen.append(fake_limits.setting["blas"])
            with _threads.blas_threads(2):
                seen.append(fake_limits.setting["blas"])
            seen.append(fake_limits.setting["blas"])
    seen.append(fake_limits.setting["blas"])
    assert seen == [1, 2, 1, 4]
    # Set by the outer block and by the one of another limit only.
    assert len(fake_limits.callers) == 2


def test_other_threads_never_touch_the_limits(fake_limits):
    seen = []

    def worker():
        with _threads.blas_threads(1):
            seen.append(fake_limits.setting["blas"])

    with _threads.blas_threads(2):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    # The worker ran under the main thread's limit, and set none itself.
    assert seen == [2]
    assert fake_limits.callers == [threading.main_thread()]
    assert fake_limits.setting["blas"] == 4


def test_threaded_seed_search_sets_limits_from_the_main_thread_only(fake_limits):
    X = np.random.default_rng(0).normal(size=(3000, 8))
    with parallel_config(backend="threading"):
        KMeansL2(8, n_init=4, n_jobs=2, max_iter=5, random_state=0).fit(X)
    assert fake_limits.callers
    assert set(fake_limits.callers) == {threading.main_thread()}
    assert fake_limits.setting["blas"] == 4


def _blas_threads_now():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_threaded_seed_search_leaves_the_blas_threads_as_it_found_them():
    # The real BLAS: four runs on two threads of a threading backend, big
    # enough that the runs use BLAS. Limits set from worker threads made this
    # fail 1 run in 9 with OpenBLAS; `pytest --count 20` ran it 20 times.
    X = np.random.default_rng(0).normal(size=(20_000, 40))
    before = _blas_threads_now()
    for seed in range(3):
        with parallel_config(backend="threading"):
            KMeansL2(32, n_init=4, n_jobs=2, max_iter=5, random_state=seed).fit(X)
        assert _blas_threads_now() == before


def test_the_thread_pools_are_found_once_per_process(monkeypatch):
    # Finding them reads the process's memory map: 3 ms, twice per fit, was
    # most of the time of a fit on a small table.
    found = []

    def counted():
        found.append(1)
        return ThreadpoolController()

    monkeypatch.setattr(_threads, "ThreadpoolController", counted)
    _threads._controller.cache_clear()
    X = np.random.default_rng(0).normal(size=(300, 4))
    for seed in range(3):
        KMeansL2(3, n_init=2, random_state=seed).fit(X)
    _threads._controller.cache_clear()
    assert len(found) == 1


@pytest.mark.parametrize(("small_product", "limit"), [(500_000, 1), (100_000, None)])
def test_seeding_threads_follow_the_size_of_its_own_products(
    monkeypatch, small_product, limit
):
    # k-means++ multiplies the rows by 2 + log k = 5 candidates at a time:
    # 2,000 x 5 x 20 = 200,000 multiply-adds. The limit used to look at k
    # (2,000 x 32 x 20 = 1,280,000): 30,000 x 64 rows with k = 32 were
    # seeded on every BLAS thread, 4.7x slower than on one on a busy machine.
    from skclust._kmeans import _base

    monkeypatch.setattr(_base, "_SMALL_PRODUCT", small_product)
    limits = []
    limited = _base.blas_threads

    def recording(n_threads):
        limits.append(n_threads)
        return limited(n_threads)

    monkeypatch.setattr(_base, "blas_threads", recording)
    X = np.random.default_rng(0).standard_normal((2000, 20))
    KMeansL2(32, n_init=1, random_state=0, max_iter=1).fit(X)
    # The seed search's own limit (none for one run), then the run's.
    assert limits == [None, limit]
