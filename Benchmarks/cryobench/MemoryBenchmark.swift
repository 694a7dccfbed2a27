import Foundation

/// Peak resident memory of one training epoch on 20,000 images of D = 128 streamed from an MRCS stack (1.3 GB),
/// measured in a child `cryorepl` (Benchmarks/memory/streaming_training.cryo) so nothing else is counted.
enum MemoryBenchmark {
    static func run() throws -> [(String, Double)] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryobench-memory").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let repl = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cryorepl").path
        let script = "Benchmarks/memory/streaming_training.cryo"
        _ = try child(repl, [script, folder, "generate"])
        let fileMB = Double((try FileManager.default.attributesOfItem(atPath: folder + "/p.mrcs")[.size] as? Int) ?? 0) / 1_048_576
        let output = try child(repl, [script, folder, "train"])
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("peak_rss_mb") }),
              let peak = Double(line.split(separator: " ").last ?? "") else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "the training child printed no peak memory:\n\(output)"])
        }
        print(String(format: "training on a %.0f MB MRCS stack (20,000 × 128², streamed): peak resident memory %.0f MB", fileMB, peak))
        return [("train_peak_rss_N20000_D128_MB", peak), ("train_mrcs_file_N20000_D128_MB", fileMB)]
    }

    /// Runs `executable` with `arguments`; returns its standard output, or throws with its output if it fails.
    static func child(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "\(executable) \(arguments.joined(separator: " ")) failed:\n\(text)"])
        }
        return text
    }
}
