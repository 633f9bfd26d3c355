#!/usr/bin/env bash
# A deploysim sweep as a Slurm job array: task i runs shard i of 8.
#
#   sbatch deploy/slurm-array.sh
#   sbatch --dependency=afterok:<jobid> --wrap \
#     'deploysim merge reports/shards/all-strategies/shard-* --out reports/shards/all-strategies/merged'
#
# Submit from the repository root (scenario paths are relative to it), with
# deploysim on PATH on the compute nodes. Keep SHARDS equal to the array size.
#SBATCH --job-name=deploysim-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=512M
#SBATCH --time=01:00:00
#SBATCH --requeue
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
export SWEEP="${SWEEP:-scenarios/sweeps/all-strategies.toml}"
export SHARDS="${SHARDS:-8}"
export OUT="${OUT:-reports/shards/all-strategies}"
export THREADS="${SLURM_CPUS_PER_TASK:-2}"
exec "${SLURM_SUBMIT_DIR:-.}/deploy/run-shard.sh"
