#!/bin/bash
# A dendrax parameter sweep on 2 nodes x 4 GPUs: one process per GPU (8 processes).
#
# JAX reads the SLURM environment in dendrax.parallel.initialize(): the coordinator (the
# first node of the job), the number of processes and each process's rank. Each process
# uses the GPU whose index is its local rank (SLURM_LOCALID), so every task must see all
# GPUs of its node: ask for GPUs per node, not per task. If your site binds one GPU per task
# (CUDA_VISIBLE_DEVICES holds one GPU), call initialize(local_device_ids=[0]) instead.
#
# Submit with: sbatch examples/slurm_sweep.sh

#SBATCH --job-name=dendrax-sweep
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=4
#SBATCH --gpus-per-node=4
#SBATCH --cpus-per-task=8
#SBATCH --time=00:30:00
#SBATCH --output=dendrax-sweep-%j.out

set -euo pipefail
# source path/to/venv/bin/activate   # an environment with dendrax and jax[cuda12]

srun python examples/cluster_sweep.py --distributed --n-sets 4096 --batch-size 64 \
    --t-max 100 --save "sweep-${SLURM_JOB_ID}.npz"
