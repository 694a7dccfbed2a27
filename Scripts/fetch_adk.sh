#!/usr/bin/env bash
# Fetches the adenylate-kinase (AdK, 214 residues) closed→open DIMS trajectory that the PyPI package
# MDAnalysisTests ships, into data/adk/ (ignored by git):
#   adk_dims.dcd   the trajectory (CHARMM DCD, 3341 atoms per frame)
#   adk_open.pdb   the open structure, same atoms, used as topology
#   adk.psf        the CHARMM topology (for other tools)
# and, for a second system, the HIV-1 protease dimer crystal structure 1HVR (2 × 99 residues) into data/hivpr/1hvr.pdb.
# The package goes into a private virtual environment (data/.venv-mdatests); nothing is installed system-wide.
set -euo pipefail
cd "$(dirname "$0")/.."
target=data/adk
if [[ -s $target/adk_dims.dcd && -s $target/adk_open.pdb && -s data/hivpr/1hvr.pdb ]]; then
    echo "fetch_adk: data/ already holds the AdK DIMS and 1HVR files"
    exit 0
fi
mkdir -p "$target" data/hivpr
venv=data/.venv-mdatests
if [[ ! -x $venv/bin/python3 ]]; then
    python3 -m venv "$venv"
fi
# --no-deps: only the data files are needed, not MDAnalysis itself.
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps MDAnalysisTests==2.11.0
"$venv/bin/python3" - <<'PY'
import os, shutil, sys, glob, importlib.util
spec = importlib.util.find_spec("MDAnalysisTests")
data = os.path.join(os.path.dirname(spec.origin), "data")
for name, target in [("adk_dims.dcd", "data/adk"), ("adk_open.pdb", "data/adk"), ("adk.psf", "data/adk"), ("1hvr.pdb", "data/hivpr")]:
    matches = glob.glob(os.path.join(data, "**", name), recursive=True) + glob.glob(os.path.join(data, "**", name + ".gz"), recursive=True)
    if not matches:
        sys.exit(f"fetch_adk: {name} not found in the MDAnalysisTests package")
    source = matches[0]
    if source.endswith(".gz"):
        import gzip
        with gzip.open(source, "rb") as f, open(os.path.join(target, name), "wb") as out:
            shutil.copyfileobj(f, out)
    else:
        shutil.copy(source, os.path.join(target, name))
    print("fetch_adk:", name, "←", os.path.relpath(source, data))
PY
echo "fetch_adk: done; files in data/adk and data/hivpr"
