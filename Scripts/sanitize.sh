#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer (with LeakSanitizer) or ThreadSanitizer, each built in its own folder
# (.build/asan, .build/tsan) so the normal build is untouched. The suppression files in Tests/Sanitizers say what
# each suppression covers and why it is not an error of the package; tests that cannot run under a sanitizer skip
# themselves there and print why.
# Usage: Scripts/sanitize.sh address|thread [swift test arguments, e.g. --filter InterpreterTests]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
[ $# -gt 0 ] && shift
case $kind in
    address)
        export ASAN_OPTIONS=malloc_context_size=8:detect_leaks=1
        export LSAN_OPTIONS=suppressions=$PWD/Tests/Sanitizers/lsan.supp:print_suppressions=0
        folder=.build/asan ;;
    thread)
        export TSAN_OPTIONS=suppressions=$PWD/Tests/Sanitizers/tsan.supp
        folder=.build/tsan ;;
    *)
        echo "usage: Scripts/sanitize.sh address|thread [swift test arguments]" >&2
        exit 2 ;;
esac
swift build --build-tests --sanitize="$kind" --build-path "$folder"
swift test --skip-build --sanitize="$kind" --build-path "$folder" "$@"
