// swift-tools-version: 6.1
import PackageDescription

/// CryoScript: a scriptable sandbox for heterogeneous cryo-EM reconstruction of protein backbones with GNNs.
/// Layering (see Docs/DESIGN.md): CryoKernels ← Interpreter ← cryorepl; DSL ← Interpreter.
let package = Package(
    name: "CryoScript",
    products: [
        .library(name: "CryoKernels", targets: ["CryoKernels"]),
        .library(name: "DSL", targets: ["DSL"]),
        .library(name: "Interpreter", targets: ["Interpreter"]),
        .executable(name: "cryorepl", targets: ["cryorepl"]),
        .executable(name: "cryobench", targets: ["cryobench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CFFTW", path: "Sources/CFFTW", pkgConfig: "fftw3f",
                       providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CReadline", path: "Sources/CReadline", providers: [.apt(["libreadline-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        // MPI behind a plain C interface; a process not started by mpirun never initialises MPI (a world of one).
        .target(name: "CMPIWorld", dependencies: ["CMPI"], path: "Sources/CMPIWorld"),
        .target(name: "CReadlineShim", dependencies: ["CReadline"], path: "Sources/CReadlineShim",
                linkerSettings: [.linkedLibrary("readline")]),
        // Hot loops in C, compiled per instruction set and dispatched at run time (optimised in debug builds too).
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "CryoKernels", dependencies: ["CFFTW", "CBLAS", "CKernels", "CZlib", "CMPIWorld"],
                swiftSettings: [.unsafeFlags(["-O"])]),
        .target(name: "DSL"),
        .target(name: "Interpreter", dependencies: ["DSL", "CryoKernels"]),
        .executableTarget(name: "cryorepl", dependencies: [
            "Interpreter", "CryoKernels", "CReadlineShim",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "cryobench", dependencies: ["CryoKernels", "Interpreter", "CBLAS"],
                          path: "Benchmarks/cryobench"),
        .testTarget(name: "CryoKernelsTests", dependencies: ["CryoKernels", "CKernels", "CZlib"]),
        .testTarget(name: "DSLTests", dependencies: ["DSL"]),
        .testTarget(name: "InterpreterTests", dependencies: ["Interpreter", "DSL", "CryoKernels"]),
        .testTarget(name: "EndToEndTests", dependencies: ["CZlib"]),
    ]
)
