import Foundation
import Interpreter

/// Non-interactive evaluation: a script file or a single `-e` expression. Errors go to standard error
/// and make the exit status 1.
enum BatchRunner {
    /// Runs the script at `path`; returns the process exit status.
    static func runFile(_ path: String, interpreter: Interpreter) -> Int32 {
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("cryorepl: cannot read script '\(path)': no such file or not readable")
            return 1
        }
        guard let text = String(data: data, encoding: .utf8) else {
            printError("cryorepl: script '\(path)' is not UTF-8 text")
            return 1
        }
        SignalHandling.install(for: interpreter)
        return report { try interpreter.run(text, name: path) }
    }

    /// Evaluates `expression` and prints its value; returns the process exit status.
    static func evaluate(_ expression: String, interpreter: Interpreter) -> Int32 {
        SignalHandling.install(for: interpreter)
        return report {
            if let value = try interpreter.run(expression, name: "<expr>"), !value.isNull {
                print(ValueFormatter.repr(value))
            }
        }
    }

    private static func report(_ body: () throws -> Void) -> Int32 {
        do {
            try body()
            return 0
        } catch {
            printError("\(error)")
            return error is InterruptedError ? 130 : 1
        }
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
