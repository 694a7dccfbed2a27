#!/usr/bin/env bash
# Coverage-guided fuzzing of the lexer, parser and interpreter with libFuzzer and AddressSanitizer (Linux).
# Builds the package in Fuzz/ (its own package, so `swift build`, `swift test` and CI never build it) with
# -sanitize=fuzzer,address into .build/fuzz, then runs cryofuzz on a working corpus in .build/fuzz/corpus, seeded
# from Tests/FuzzCorpus (snippets from the tests and every past crash input) and Scripts/*.cryo. Each input runs in
# the interpreter's fuzzing sandbox (Sandbox.fuzzing: no files, budgets of steps, time, memory and tensor size) and
# must end in a value, a located diagnostic or an exhausted budget. libFuzzer writes a crash, timeout or leak
# input to .build/fuzz/crash-*, timeout-*, leak-*: keep it in Tests/FuzzCorpus/regressions/ with its expected outcome.
# Usage: Scripts/fuzz.sh [libFuzzer flags, e.g. -runs=1000000 or -max_total_time=600]
#        Scripts/fuzz.sh FILE...            reruns inputs (a crash file, the regressions) and exits
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/.build/fuzz
swift build --package-path Fuzz -c release --build-path "$out" --product cryofuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xcc -fsanitize=address
fuzzer=$out/release/cryofuzz
options=(-max_len=2048 -timeout=20 -rss_limit_mb=3072 -dict="$root/Tests/FuzzCorpus/cryoscript.dict"
         -artifact_prefix="$out/" -print_final_stats=1)
if [ $# -gt 0 ] && [ -f "$1" ]; then
    exec "$fuzzer" "${options[@]}" "$@"
fi
mkdir -p "$out/corpus"
"$fuzzer" "${options[@]}" "$@" "$out/corpus" "$root/Tests/FuzzCorpus/seeds" "$root/Tests/FuzzCorpus/regressions" "$root/Scripts"
