"""Wall-clock timing shared by the reference scripts: the median of `repeats` runs in ms, after untimed ones: at least
`warmup`, and more until `warmup_seconds` have passed (steady state; Benchmarks/cryobench/Timing.swift does the same)."""
import time


def median_ms(fn, repeats=9, warmup=2, warmup_seconds=0.5):
    warmup_start = time.perf_counter()
    warmed = 0
    while warmed < warmup or time.perf_counter() - warmup_start < warmup_seconds:
        fn()
        warmed += 1
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[len(samples) // 2]
