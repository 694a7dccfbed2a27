"""starfile reference for CryoScript's STAR reading: `starfile.read` of the 139,000-particle RELION 3.1 file that
`cryobench star` writes (run.sh runs cryobench first). Median of 5 runs after 1 warm-up; prints one JSON object.
    star_read.py [threads] [path]    (threads is ignored: starfile reads on one core)
"""
import json
import os
import sys
import tempfile

import starfile

from timing import median_ms

PARTICLES = 139_000


def main():
    path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(tempfile.gettempdir(), "cryobench-star-139k.star")
    if not os.path.exists(path):
        sys.exit(f"star_read.py: {path} is missing; `.build/release/cryobench star` writes it")
    rows = []

    def read():
        rows.append(len(starfile.read(path)["particles"]))

    ms = median_ms(read, repeats=5, warmup=1)
    if rows[-1] != PARTICLES:
        sys.exit(f"star_read.py: {path} holds {rows[-1]} particles, expected {PARTICLES}")
    print(json.dumps({"star_read_139k_ms": ms}))


if __name__ == "__main__":
    main()
