"""Wall-clock timing shared by the reference scripts: the median of `repeats` runs after `warmup` untimed ones, in ms."""
import time


def median_ms(fn, repeats=9, warmup=2):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[len(samples) // 2]
