#!/usr/bin/env bash
# The README's "On your own machine" steps, from scratch, in a fresh virtual environment:
#   1. an environment that already has torch (torch==2.13.0 stands in for your own CUDA torch),
#   2. pip install --no-deps scgpt==0.2.4,  3. pip install ".[app]"  (must keep that torch),
#   4. ugrn doctor,  5. a random scGPT-layout checkpoint stands in for scGPT_human: ugrn train / doctor / predict on it,
#   6. the app served against it (UGRN_APP_CHECKPOINT / UGRN_APP_TRANSLATOR), answering its health check.
# Prints the time of every step. Downloads from the package index (several minutes on a fresh machine).
#
# Usage: scripts/check_install.sh [WORK_DIR]        (default: a new temp folder, removed at the end)
# Environment: UGRN_DATA_DIR (default ../shared/data beside the repository), PYTHON (default python3).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
W="${1:-}"
if [ -z "$W" ]; then W="$(mktemp -d)"; trap 'rm -rf "$W"' EXIT; fi
mkdir -p "$W/work"
export UGRN_DATA_DIR="${UGRN_DATA_DIR:-$REPO/../shared/data}"
export UGRN_CACHE_DIR="$W/cache"
unset VIRTUAL_ENV PYTHONPATH

step() {  # step "what" command...: run, print its wall time
    local what="$1"; shift
    local t0; t0=$(date +%s%N)
    "$@"
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    printf '== %-52s %4d.%01d s\n' "$what" $((ms / 1000)) $((ms % 1000 / 100))
}

# the source as committed plus untracked files (no .venv, caches, build/)
if git -C "$REPO" rev-parse >/dev/null 2>&1; then
    mkdir -p "$W/src"
    git -C "$REPO" ls-files -co --exclude-standard -z | (cd "$REPO" && xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$W/src"
else
    cp -r "$REPO" "$W/src" && rm -rf "$W/src/.venv" "$W/src/build" "$W/src/.cache"
fi

step "fresh venv"                                     "$PYTHON" -m venv "$W/venv"
PY="$W/venv/bin/python"
export PATH="$W/venv/bin:$PATH"
step "pip install torch==2.13.0 (your own torch)"      "$PY" -m pip install -q torch==2.13.0
TORCH_BEFORE="$("$PY" -m pip show torch | grep -i '^version')"
step "pip install --no-deps scgpt==0.2.4"             "$PY" -m pip install -q --no-deps scgpt==0.2.4
step "pip install \".[app]\""                         "$PY" -m pip install -q "$W/src[app]"
TORCH_AFTER="$("$PY" -m pip show torch | grep -i '^version')"
[ "$TORCH_BEFORE" = "$TORCH_AFTER" ] || { echo "torch changed: $TORCH_BEFORE -> $TORCH_AFTER" >&2; exit 1; }
echo "torch kept: $TORCH_AFTER"
# pip check: only scgpt may have unmet requirements (installed --no-deps on purpose)
PROBLEMS="$("$PY" -m pip check 2>&1 | grep -v -e '^scgpt ' -e '^No broken' || true)"
[ -z "$PROBLEMS" ] || { echo "pip check: $PROBLEMS" >&2; exit 1; }

cd "$W/work"
ugrn --version
step "ugrn doctor"                                    ugrn doctor
step "random checkpoint in scGPT layout"              "$PY" - "$W/my_scGPT" <<'EOF'
import shutil, sys
from pathlib import Path
import torch
from ugrn_core import config
out = Path(sys.argv[1])
shutil.copytree(config.DEFAULT_CHECKPOINT_DIR, out)
state = torch.load(out / "best_model.pt", map_location="cpu", weights_only=True)
gen = torch.Generator().manual_seed(0)
torch.save({k: torch.randn(v.shape, generator=gen) * 0.05 if v.is_floating_point() else v for k, v in state.items()},
           out / "best_model.pt")
EOF
CKPT="$W/my_scGPT"
step "ugrn train --checkpoint (Emb)"                  ugrn train --checkpoint "$CKPT" --dataset STRING/mHSC-L/500 --methods Emb --out my_translator
step "ugrn doctor --checkpoint --translator"          ugrn doctor --checkpoint "$CKPT" --translator my_translator
step "ugrn predict --checkpoint --translator"         ugrn predict --checkpoint "$CKPT" --translator my_translator --dataset STRING/mHSC-E/500 --method Emb --top 10 --out mine.tsv
head -4 mine.tsv

PORT="${PORT:-8599}"
UGRN_APP_CHECKPOINT="$CKPT" UGRN_APP_TRANSLATOR="$W/work/my_translator" \
    streamlit run "$W/src/app.py" --server.headless true --server.port "$PORT" --browser.gatherUsageStats false \
    >"$W/streamlit.log" 2>&1 &
APP_PID=$!
t0=$(date +%s)
until curl -sf "http://localhost:$PORT/_stcore/health" >/dev/null; do
    if ! kill -0 "$APP_PID" 2>/dev/null || [ $(( $(date +%s) - t0 )) -gt 120 ]; then
        cat "$W/streamlit.log" >&2; echo "the app did not come up" >&2; exit 1
    fi
    sleep 1
done
echo "== app healthy on port $PORT after $(( $(date +%s) - t0 )) s"
kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true
echo "check_install: all steps passed"
