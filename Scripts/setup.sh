#!/usr/bin/env bash
# Installs CryoScript's system libraries (Debian/Ubuntu) and builds the release binaries.
#   Scripts/setup.sh                       install libraries, then `swift build -c release`
#   Scripts/setup.sh --deps-only           install libraries only
#   Scripts/setup.sh --deps-only --interop also make .venv-interop with the field's Python readers
#                                          (mrcfile, starfile, gemmi) that the interoperability tests use,
#                                          and install chromium, in which the analysis report is opened
#                                          headless; this is what CI does before `swift test`
set -euo pipefail
cd "$(dirname "$0")/.."
deps_only=false
interop=false
for arg in "$@"; do
    case "$arg" in
        --deps-only) deps_only=true ;;
        --interop) interop=true ;;
        *) echo "setup: unknown option $arg" >&2; exit 2 ;;
    esac
done

packages=(libfftw3-dev libopenblas-dev libreadline-dev zlib1g-dev libopenmpi-dev openmpi-bin pkg-config python3-venv)
if $interop; then packages+=(chromium); fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if $interop && [[ ! -x .venv-interop/bin/python3 ]]; then
    echo "setup: creating .venv-interop (mrcfile, starfile, gemmi)"
    python3 -m venv .venv-interop
    .venv-interop/bin/pip install -q --disable-pip-version-check mrcfile==1.5.4 starfile==0.5.13 gemmi==0.7.5
fi

$deps_only && exit 0
swift build -c release --product cryorepl
swift build -c release --product cryobench
echo "setup: built .build/release/cryorepl and .build/release/cryobench"
