#!/usr/bin/env bash
# Strong scaling on this machine: one process with all cores against mpirun -np 2 with one core per rank
# (Benchmarks/mpi/scaling.cryo). Needs openmpi-bin (Scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product cryorepl >&2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "K=1, $(nproc) workers:"
.build/release/cryorepl Benchmarks/mpi/scaling.cryo
echo "K=2, 1 worker each:"
mpirun --oversubscribe -np 2 .build/release/cryorepl Benchmarks/mpi/scaling.cryo
