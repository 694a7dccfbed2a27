// swift-tools-version:5.3
// (5.3: an executable target is a plain target with main.swift, linked without SwiftPM's renamed entry point, so that
// the `main` of libFuzzer starts the program.)
import PackageDescription

/// The coverage-guided fuzzer of CryoScript's lexer, parser and interpreter (libFuzzer), a package of its own so that
/// the main package's `swift build` and `swift test` never build it. Scripts/fuzz.sh builds it with
/// `-sanitize=fuzzer,address` and runs it.
let package = Package(
    name: "CryoScriptFuzz",
    dependencies: [.package(name: "CryoScript", path: "..")],
    targets: [
        .target(name: "cryofuzz", dependencies: [.product(name: "Interpreter", package: "CryoScript")]),
    ]
)
