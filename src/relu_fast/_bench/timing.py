"""The timing engine: contenders timed alternately, round by round, in one process.

For each cell every contender is warmed up, then timed round by round -- one sample of
each contender per round, the order rotated every round and reversed every other round,
so no contender always follows the same one -- and the median sample is reported.  A
sample is `number` back-to-back calls (enough to last ~50 us, so the timer's resolution
does not matter); the number of rounds fits a time budget per cell, between a minimum and
a maximum, and cells of huge arrays are cut to ~10 s (at least 3 rounds).  A cell where
some contender's median is over 1.5x its fastest sample (the machine was busy) is timed
again, up to twice, and the steadiest attempt is kept whichever contender it favours.
"""
import gc
import math
import statistics
import time

SAMPLE_SECONDS = 50e-6  # one sample lasts at least this long
SLOW_CALL = 1.0         # a first call this slow is warm-up enough
MAX_CELL_SECONDS = 10.0 # rounds are cut to fit this (but at least 3 are run)

UNSTEADY = 1.5   # a median this many times the fastest sample is flagged "!"
RETRIES = 2      # an unsteady cell is timed again up to this many times


def time_cell(fns, budget, min_rounds, max_rounds, setups=None):
    """Median seconds per call of each contender, timed alternately round by round;
    returns [(median, samples, number)].

    fns[i] is a callable, or a list of callables doing the same work on different
    inputs, called in turn.  setups[i] (optional) runs before each sample of
    contender i, outside the timing.
    """
    variants = [list(f) if isinstance(f, (list, tuple)) else [f] for f in fns]
    k = len(variants)
    setups = setups or [None] * k
    clock = time.perf_counter
    est = []
    for fs, setup in zip(variants, setups):     # warm up, and estimate the time per call
        if setup:
            setup()
        calls, t0 = 0, clock()
        while (calls < max(2, len(fs)) and clock() - t0 < SLOW_CALL) or (
                calls < 10_000 and clock() - t0 < min(0.02, 0.05 * budget)):
            fs[calls % len(fs)]()
            calls += 1
        est.append(max((clock() - t0) / calls, 1e-8))
    number = [max(1, math.ceil(SAMPLE_SECONDS / e)) for e in est]
    sequences = [[fs[j % len(fs)] for j in range(nb)] for fs, nb in zip(variants, number)]
    per_round = sum(nb * e for nb, e in zip(number, est))
    rounds = int(min(max(budget / per_round, min_rounds), max_rounds))
    if rounds * per_round > MAX_CELL_SECONDS:   # huge arrays: fewer rounds, never below 3
        rounds = max(3, int(MAX_CELL_SECONDS / per_round))
    samples = [[] for _ in variants]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            # each contender takes each position in turn, and every other round runs
            # backwards, so no contender always follows the same one (the one before
            # leaves the caches and the memory controller in its own state)
            order = [(r + j) % k for j in range(k)]
            if r % 2:
                order.reverse()
            for i in order:
                seq = sequences[i]
                if setups[i]:
                    setups[i]()
                t0 = clock()
                for f in seq:
                    f()
                samples[i].append((clock() - t0) / len(seq))
    finally:
        if enabled:
            gc.enable()
    return [(statistics.median(s), s, nb) for s, nb in zip(samples, number)]


def time_cell_steadiest(fns, budget, min_rounds, max_rounds, setups=None):
    """time_cell, again (up to RETRIES times) while some contender's samples are
    unsteady; the attempt with the lowest worst median/fastest ratio is returned,
    whichever contender it favours."""
    timed = time_cell(fns, budget, min_rounds, max_rounds, setups)
    for _ in range(RETRIES):
        if all(_steady_samples(med, smp) for med, smp, _nb in timed):
            break
        again = time_cell(fns, budget, min_rounds, max_rounds, setups)
        if _unsteadiness(again) < _unsteadiness(timed):
            timed = again
    return timed


def _steady_samples(median, samples):
    return median <= UNSTEADY * min(samples)


def _unsteadiness(timed):
    """The worst median / fastest-sample ratio over a cell's contenders."""
    return max(med / min(smp) for med, smp, _nb in timed)

