#!/usr/bin/env bash
# Runs one shard of a deploysim sweep on a cluster scheduler, then exits.
#
# Which shard: JOB_COMPLETION_INDEX (Kubernetes Indexed Job, 0-based) or
# SLURM_ARRAY_TASK_ID (Slurm job array, 1-based as in slurm-array.sh), or
# SHARD (1-based) when run by hand.
#
# Settings (environment):
#   SWEEP      the sweep file                    (required)
#   SHARDS     how many shards in all            (required)
#   OUT        folder for every shard's output   (default: reports/shards)
#   TRIALS     trials per cell                   (default: the sweep file's)
#   THREADS    worker threads                    (default: all cores)
#   DEPLOYSIM  the deploysim binary              (default: deploysim on PATH)
#
# A shard that was killed (a pre-empted pod, a requeued Slurm task) resumes
# from the trials it had finished. When every shard is done, merge them:
#   deploysim merge "$OUT"/shard-* --out "$OUT"/merged
set -euo pipefail

: "${SWEEP:?set SWEEP to the sweep file}"
: "${SHARDS:?set SHARDS to the number of shards}"
OUT="${OUT:-reports/shards}"
DEPLOYSIM="${DEPLOYSIM:-deploysim}"

if [[ -n "${JOB_COMPLETION_INDEX:-}" ]]; then
  shard=$((JOB_COMPLETION_INDEX + 1))
elif [[ -n "${SLURM_ARRAY_TASK_ID:-}" ]]; then
  shard=$SLURM_ARRAY_TASK_ID
elif [[ -n "${SHARD:-}" ]]; then
  shard=$SHARD
else
  echo "run-shard.sh: no shard index (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or SHARD)" >&2
  exit 2
fi

dir="$OUT/shard-$(printf '%05d' "$shard")"
args=(sweep "$SWEEP" --shard "$shard/$SHARDS" --out "$dir" --quiet)
[[ -n "${TRIALS:-}" ]] && args+=(--trials "$TRIALS")
[[ -n "${THREADS:-}" ]] && args+=(--threads "$THREADS")
# Resume an interrupted attempt of this shard instead of starting over.
if [[ -f "$dir/manifest.toml" ]] && grep -q '^complete = false' "$dir/manifest.toml"; then
  args+=(--resume)
fi
exec "$DEPLOYSIM" "${args[@]}"
