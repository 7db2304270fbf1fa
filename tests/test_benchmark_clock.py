"""benchmarks/run.py's library clock: the time a page spends inside lifelines, statsmodels and scipy
(RESULTS.md's "of which inside the libraries" column)."""

import time

import lifelines.statistics as lifelines_statistics
import numpy as np
import scipy.stats
from lifelines import KaplanMeierFitter

from benchmarks.run import library_clock


def _libraries():
    return (vars(KaplanMeierFitter)["fit"], lifelines_statistics.logrank_test,
            lifelines_statistics.multivariate_logrank_test, scipy.stats.wilcoxon)


def test_library_clock_counts_the_time_inside_the_libraries_once_and_restores_them():
    before = _libraries()
    durations = np.arange(1.0, 41.0)
    events = np.tile([1, 0], 20)

    with library_clock() as spent:
        time.sleep(0.05)  # our own work: not counted
        start = time.perf_counter()
        KaplanMeierFitter().fit(durations, events)
        # logrank_test calls multivariate_logrank_test: the nested call is not counted twice
        lifelines_statistics.logrank_test(durations[:20], durations[20:], events[:20], events[20:])
        scipy.stats.wilcoxon(durations - 20.5)
        elapsed = time.perf_counter() - start

    assert 0 < spent[0] <= elapsed
    assert _libraries() == before
    counted = spent[0]
    KaplanMeierFitter().fit(durations, events)
    assert spent[0] == counted  # nothing counted after the block
