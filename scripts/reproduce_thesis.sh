#!/usr/bin/env bash
# Reproduce the thesis sweep (Table 2, Figures 2-4) and set our beta-CVAE beside it, in one command:
#
#   scripts/reproduce_thesis.sh [DATA_PATH]      # default ../shared/data/pathway_I_5000.csv
#
# 1. PPCA, VAE and CVAE in the thesis setting (experiment=thesis: raw features, hidden 15, 400
#    epochs, Adam 1e-4 / weight decay 1e-2) at latent sizes 3..15, seed 0;
# 2. our beta-CVAE in its own default setting (quantile scaling, learned likelihood, 256x256 SiLU,
#    beta 0.6 with warm-up, 300 epochs) at the same latent sizes: the thesis setting is what
#    collapses, so running bcvae in it would only repeat the collapse;
# 3. scripts/report.py on both sweeps: report.md, report.csv and PNGs in the output folder.
#
# Environment: OUT (output folder, default outputs/thesis/<time>), N_JOBS (parallel jobs, default
# 2), LATENTS (default 3,5,7,9,11,13,15), SEEDS (default 0; e.g. 0,1,2 for mean +- sd).
# 28 jobs: about 8 minutes on a 2-core machine (457 s measured); docs/thesis.md.
set -euo pipefail

cd "$(dirname "$0")/.."
DATA="${1:-../shared/data/pathway_I_5000.csv}"
if [[ ! -f "$DATA" ]]; then
    echo "error: data file '$DATA' not found (pass its path as the first argument)" >&2
    exit 1
fi
DATA="$(cd "$(dirname "$DATA")" && pwd)/$(basename "$DATA")"
PYTHON="${PYTHON:-$( [[ -x .venv/bin/python ]] && echo .venv/bin/python || echo python)}"
OUT="${OUT:-outputs/thesis/$(date +%Y-%m-%d_%H-%M-%S)}"
N_JOBS="${N_JOBS:-2}"
LATENTS="${LATENTS:-3,5,7,9,11,13,15}"
SEEDS="${SEEDS:-0}"
# one torch/BLAS thread per job: the jobs run side by side and must not oversubscribe the cores
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

launcher=(hydra/launcher=joblib "hydra.launcher.n_jobs=$N_JOBS")
if ! "$PYTHON" -c "import hydra_plugins.hydra_joblib_launcher" 2>/dev/null; then
    echo "hydra-joblib-launcher not installed: jobs run one after another" >&2
    launcher=()
fi

start=$(date +%s)
"$PYTHON" train.py -m experiment=thesis model=ppca,vae,cvae "latent_dim=$LATENTS" "seed=$SEEDS" \
    "data.path=$DATA" threads=1 optimized_metric=null "hydra.sweep.dir=$OUT/thesis" "${launcher[@]}"
"$PYTHON" train.py -m model=bcvae "latent_dim=$LATENTS" "seed=$SEEDS" \
    "data.path=$DATA" threads=1 optimized_metric=null "hydra.sweep.dir=$OUT/bcvae" "${launcher[@]}"
"$PYTHON" scripts/report.py "$OUT/thesis" "$OUT/bcvae" --out "$OUT"
echo "done in $(( $(date +%s) - start )) s: $OUT/report.md"
