import CryoKernels
import Foundation

/// `cryobench [--json] [case ...]`: CryoScript's own timings (the PyTorch side lives in Benchmarks/reference).
let arguments = Array(CommandLine.arguments.dropFirst())
let json = arguments.contains("--json")
let selected = Set(arguments.filter { !$0.hasPrefix("--") })
let cases: [(String, () throws -> [(String, Double)])] = [
    ("gemm", GemmBenchmark.run),
    ("interpreter", InterpreterBenchmark.run),
    ("forward", ForwardModelBenchmark.run),
    ("esl", ESLBenchmark.run),
    ("training", TrainingStepBenchmark.run),
    ("paper", PaperModelBenchmark.run),
    ("esltrain", PaperTrainingBenchmark.eslStep),
    ("epoch", PaperTrainingBenchmark.epoch),
    ("memory", MemoryBenchmark.run),
    ("star", STARReadBenchmark.run),
    ("scriptterm", ScriptTermBenchmark.run),
]
var figures: [(String, Double)] = []
print("C kernels use \(InstructionSet.active.name) (the widest this CPU supports of sse2, avx2, avx512)")
print(BLASCore.mismatchNote ?? "OpenBLAS uses its \(BLASCore.name) kernels")
do {
    for (name, run) in cases where selected.isEmpty || selected.contains(name) {
        figures += try run()
    }
} catch {
    FileHandle.standardError.write(Data("cryobench: \(error)\n".utf8))
    exit(1)
}
if json {
    print("{" + figures.map { "\"\($0.0)\": \(String(format: "%.4f", $0.1))" }.joined(separator: ", ") + "}")
}
