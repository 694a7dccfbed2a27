import Foundation

/// Runs a program in a pseudo-terminal (through util-linux `script`), types into it and waits for output,
/// the way a person at a terminal would.
final class TerminalSession: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var buffer = ""

    /// Starts `executable` with `arguments` on a fresh pseudo-terminal.
    init(_ executable: URL, arguments: [String] = [], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        // `script -c` runs the command through $SHELL (dash when it is unset). `exec` makes the program the
        // terminal's only foreground process, so a typed Ctrl-C reaches it alone instead of also killing a
        // waiting shell (dash dies on SIGINT and `script` then reports 130).
        let command = "exec " + ([executable.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        process.arguments = ["-qfec", command, "/dev/null"]
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "dumb"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.lock()
            self.buffer += String(decoding: data, as: UTF8.self)
            self.lock.unlock()
        }
        try process.run()
    }

    /// Everything the program printed so far.
    var transcript: String {
        lock.lock()
        defer { lock.unlock() }
        return buffer
    }

    /// Types `text` (include "\n" to press Enter; "\u{3}" is Ctrl-C).
    func type(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    /// Waits until the transcript after `offset` contains `needle`; returns the offset just past it, or nil on timeout.
    @discardableResult
    func waitFor(_ needle: String, after offset: String.Index? = nil, timeout: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if occurrences(of: needle) > 0 { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// How many times `needle` occurs in the transcript.
    func occurrences(of needle: String) -> Int {
        transcript.components(separatedBy: needle).count - 1
    }

    /// Waits until `needle` has occurred at least `count` times.
    @discardableResult
    func waitFor(_ needle: String, count: Int, timeout: TimeInterval = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if occurrences(of: needle) >= count { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// Closes input and waits for the program to exit; returns its status.
    func finish(timeout: TimeInterval = 20) -> Int32 {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        output.fileHandleForReading.readabilityHandler = nil
        return process.terminationStatus
    }
}
