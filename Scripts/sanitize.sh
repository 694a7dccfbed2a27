#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer (with LeakSanitizer) or ThreadSanitizer, each built in its own folder
# (.build/asan, .build/tsan) so the normal build is untouched. The suppression files in Tests/Sanitizers say what
# each suppression covers and why it is not an error of the package; tests that cannot run under a sanitizer skip
# themselves there and print why.
# Usage: Scripts/sanitize.sh address|thread [--release] [swift test arguments, e.g. --filter InterpreterTests]
# --release builds optimised (with -enable-testing, into .build/asan-release or .build/tsan-release): the example
# scripts that ScriptsTests runs take hours in a sanitized debug build.
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
configuration=(-c debug)
if [ "${1:-}" = --release ]; then
    shift
    folder=$folder-release
    configuration=(-c release -Xswiftc -enable-testing)
fi
swift build --build-tests "${configuration[@]}" --sanitize="$kind" --build-path "$folder"
swift test --skip-build "${configuration[@]}" --sanitize="$kind" --build-path "$folder" "$@"
