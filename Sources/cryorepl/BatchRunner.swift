import CryoKernels
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

    /// Runs `body` in the MPI world (a world of one without mpirun). Under MPI an error on any rank is printed
    /// with the rank and stops the whole job at once (MPI_Abort), so no rank waits for it in a collective.
    private static func report(_ body: () throws -> Void) -> Int32 {
        World.join()
        do {
            try body()
            World.finalize()
            return 0
        } catch {
            if World.size > 1 {
                printError("cryorepl: rank \(World.rank) of \(World.size) failed: \(error)\ncryorepl: stopping all \(World.size) ranks")
                World.abort(error is InterruptedError ? 130 : 1)
            }
            printError("\(error)")
            return error is InterruptedError ? 130 : 1
        }
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
