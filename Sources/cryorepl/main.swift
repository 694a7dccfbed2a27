import ArgumentParser
import Foundation
import Interpreter

/// `cryorepl`: the CryoScript REPL, batch runner (`cryorepl FILE.cryo [args...]`) and one-shot evaluator (`-e`).
struct CryoREPL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cryorepl",
        abstract: "CryoScript: heterogeneous cryo-EM reconstruction with graph neural networks, scriptable.",
        discussion: "With no arguments, starts the REPL (or reads statements from standard input when it is not a terminal).",
        version: CryoREPL.version)

    static let version = "0.1.0"

    @Option(name: .customShort("e"), help: "Evaluate one expression and print its value.")
    var expression: String?

    @Argument(parsing: .allUnrecognized, help: "A .cryo script to run, followed by the arguments it sees as `args`.")
    var script: [String] = []

    func run() throws {
        let interpreter = Interpreter()
        if let expression {
            interpreter.scriptArguments = script
            throw ExitCode(BatchRunner.evaluate(expression, interpreter: interpreter))
        }
        if let path = script.first {
            interpreter.scriptArguments = Array(script.dropFirst())
            throw ExitCode(BatchRunner.runFile(path, interpreter: interpreter))
        }
        let session = Session(interpreter: interpreter)
        throw ExitCode(isatty(STDIN_FILENO) != 0 ? session.interactive() : session.plain())
    }
}

CryoREPL.main()
