#!/usr/bin/env bash
# CryoScript against a PyTorch CPU reference of the same computations, in one run on this machine with the
# same thread count. Prints a table of medians and ratios; with --json, also the figures as one JSON object
# on the last line (keys name the case and sizes; values in milliseconds).
#   Benchmarks/run.sh [--json] [--threads N]
# The reference runs in Benchmarks/.venv (PyTorch, PyTorch Geometric and starfile pinned below, installed on first use from PyPI; ~5 GB with
# the CUDA wheels PyPI's Linux torch depends on, none of which is used here).
set -euo pipefail
cd "$(dirname "$0")/.."
json=false
threads=$(nproc)
while (($#)); do
    case "$1" in
        --json) json=true ;;
        --threads) threads=$2; shift ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if ! Benchmarks/.venv/bin/python3 -c 'import torch, torch_geometric, starfile' 2>/dev/null; then
    echo "run.sh: installing the PyTorch, PyTorch Geometric and starfile reference into Benchmarks/.venv" >&2
    [[ -x Benchmarks/.venv/bin/python3 ]] || python3 -m venv Benchmarks/.venv
    Benchmarks/.venv/bin/pip install -q --disable-pip-version-check torch==2.15.0 numpy==2.4.6 torch_geometric==2.8.1 starfile==0.5.13
fi
swift build -c release --product cryobench >&2 && swift build -c release --product cryorepl >&2
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
# CRYOSCRIPT_ISA caps CryoScript's C kernels to what an older CPU has (avx2: no AVX-512); the reference gets the same
# cap (PyTorch's own kernels, MKL's and oneDNN's), as it would have on that CPU. Without it PyTorch's MKL products ran
# AVX-512 beside CryoScript's AVX2 path (twice as fast as capped, on 512³).
case "${CRYOSCRIPT_ISA:-}" in
    avx2) export ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 ;;
    sse2) export ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 ONEDNN_MAX_CPU_ISA=SSE41 ;;
esac
echo "run.sh: the PyTorch reference runs its $(Benchmarks/.venv/bin/python3 -c 'import torch; print(torch.backends.cpu.get_cpu_capability())') kernels" >&2
# Each group of cases runs right before its PyTorch reference, so both sides of a ratio are timed within the same
# minute or two: this shared machine's speed drifts over the quarter hour a whole run takes.
groups=("gemm interpreter:" "forward:forward_model.py" "esl:esl.py" "training:training_step.py"
        "paper esltrain epoch:paper_models.py" "memory:" "star:star_read.py" "scriptterm:")
ours='{}' theirs='{}'
merge() { python3 -c 'import json, sys; a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2]); a.update(b); print(json.dumps(a))' "$1" "$2"; }
for group in "${groups[@]}"; do
    cases=${group%%:*} script=${group#*:}
    # shellcheck disable=SC2086  # the case names are separate arguments
    ours=$(merge "$ours" "$(.build/release/cryobench --json $cases | tail -n 1)")
    if [[ -n $script ]]; then
        theirs=$(merge "$theirs" "$(cd Benchmarks/reference && ../.venv/bin/python3 "$script" "$threads" | tail -n 1)")
    fi
done
python3 - "$ours" "$theirs" "$json" <<'PY'
import json, sys
ours, theirs, as_json = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3] == "true"
# A reference key "case@variant" (e.g. the same model written with another PyTorch library) is compared with "case".
pairs = {k: k.split("@")[0] for k in theirs if k.split("@")[0] in ours}
print(f"{'case':<44} {'CryoScript ms':>14} {'PyTorch ms':>12} {'speed-up':>9}")
for key, value in ours.items():
    variants = [k for k, base in pairs.items() if base == key]
    for k in variants:
        print(f"{k:<44} {value:>14.3f} {theirs[k]:>12.3f} {theirs[k] / value:>8.1f}x")
    if not variants:
        print(f"{key:<44} {value:>14.3f} {'':>12} {'':>9}")
if as_json:
    merged = {f"cryoscript_{k}": v for k, v in ours.items()}
    merged.update({f"pytorch_{k}": v for k, v in theirs.items()})
    merged.update({f"speedup_{k}": theirs[k] / ours[base] for k, base in pairs.items()})
    print(json.dumps(merged))
PY
