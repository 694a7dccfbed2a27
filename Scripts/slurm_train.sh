#!/usr/bin/env bash
# Data-parallel CryoScript training on a Slurm cluster: one MPI rank per node, all of the node's cores as its
# workers. Submit from the CryoScript folder (built with Scripts/setup.sh on the cluster's nodes):
#   sbatch --nodes=8 Scripts/slurm_train.sh Scripts/relion_known_poses.cryo /path/to/project Refine3D/job025/run_data.star model.pdb
# Every rank runs the same script; train_autodecoder splits the images into one block per rank, and rank 0 prints,
# shows progress and writes every file (checkpoints too: a job resumes on any number of nodes with resume:).
# A rank that fails stops the whole job within CRYOSCRIPT_MPI_TIMEOUT seconds (default 120) at the latest.
#SBATCH --job-name=cryoscript
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=1
#SBATCH --exclusive
#SBATCH --time=24:00:00
#SBATCH --output=cryoscript-%j.log
set -euo pipefail
if [[ $# -lt 1 ]]; then
    echo "usage: sbatch [--nodes=K] Scripts/slurm_train.sh SCRIPT.cryo [script arguments...]" >&2
    exit 2
fi
export CRYOSCRIPT_WORKERS=${SLURM_CPUS_ON_NODE:-$(nproc)}
export OPENBLAS_NUM_THREADS=1
# srun starts the ranks through PMIx; where Slurm lacks PMIx support, use: mpirun -np "$SLURM_NTASKS" --map-by node ...
srun --mpi=pmix .build/release/cryorepl "$@"
