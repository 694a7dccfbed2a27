import CReadlineShim
import DSL
import Foundation
import Interpreter

/// The REPL loop: reads entries (several lines while brackets are open), evaluates them, prints values
/// and errors, and handles `:` commands. The interpreter's variables survive errors and interrupts.
final class Session {
    private let interpreter: Interpreter
    private var entryCount = 0
    private var hadError = false

    init(interpreter: Interpreter) {
        self.interpreter = interpreter
    }

    /// Interactive mode with readline, history and completion; returns the exit status.
    func interactive() -> Int32 {
        let history = (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.cryorepl_history"
        Completion.interpreter = interpreter
        cryo_readline_setup(history, Completion.generator)
        SignalHandling.install(for: interpreter)
        print("CryoScript \(CryoREPL.version) — help() lists builtins, :help the REPL commands, Ctrl-D quits.")
        loop(read: { prompt in
            guard let raw = cryo_readline(prompt) else { return nil }
            defer { free(raw) }
            return String(cString: raw)
        }, remember: { cryo_history_add($0, history) })
        Completion.interpreter = nil  // the session is over: release the interpreter before the process exits
        print("")
        return 0
    }

    /// Standard input is not a terminal: read plainly, no prompts or echo; exit status 1 if any entry failed.
    func plain() -> Int32 {
        SignalHandling.install(for: interpreter)
        loop(read: { _ in readLine(strippingNewline: true) }, remember: { _ in })
        return hadError ? 1 : 0
    }

    private func loop(read: (String) -> String?, remember: (String) -> Void) {
        var pending = ""
        while true {
            let prompt = pending.isEmpty ? "cryo> " : "  ... "
            SignalHandling.clearPending()
            guard let line = read(prompt) else {
                if !pending.isEmpty { evaluate(pending) }
                return
            }
            if SignalHandling.takePending() {
                pending = ""
            }
            if pending.isEmpty, line.trimmingCharacters(in: .whitespaces).hasPrefix(":") {
                remember(line)
                if !command(line.trimmingCharacters(in: .whitespaces)) { return }
                continue
            }
            pending += pending.isEmpty ? line : "\n" + line
            if pending.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { pending = ""; continue }
            // An open bracket or block waits for more lines; two empty lines in a row force evaluation.
            if needsMoreInput(pending) && !(line.isEmpty && pending.hasSuffix("\n\n")) { continue }
            remember(pending)
            evaluate(pending)
            pending = ""
        }
    }

    /// True when `text` fails to parse only because it ended too early (an open bracket or block).
    private func needsMoreInput(_ text: String) -> Bool {
        do {
            _ = try Parser.parse(SourceFile(name: "<repl>", text: text))
            return false
        } catch let d as Diagnostic {
            return d.isIncompleteInput
        } catch {
            return false
        }
    }

    private func evaluate(_ text: String, name: String = "<repl>") {
        entryCount += 1
        SignalHandling.clearPending()
        do {
            if let value = try interpreter.run(text, name: name), !value.isNull {
                print(ValueFormatter.repr(value))
            }
        } catch {
            hadError = true
            printError("\(error)")
        }
    }

    /// Runs a `:` command; returns false to quit.
    private func command(_ line: String) -> Bool {
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        let argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch parts[0] {
        case ":quit", ":q", ":exit":
            return false
        case ":help", ":h":
            print("""
            :help            this list            :vars          your variables and their types
            :load FILE       run a .cryo file     :time EXPR     evaluate EXPR and print the wall time
            :profile EXPR    evaluate EXPR and show where its time went (per builtin, forward and backward)
            :quit            leave (or Ctrl-D)    help()         builtins by topic; help("name") for one
            Ctrl-C interrupts a running evaluation and returns here with your variables intact.
            """)
        case ":vars":
            let vars = interpreter.userVariables
            print(vars.isEmpty ? "(no variables yet)" : vars.map(\.summary).joined(separator: "\n"))
        case ":load":
            guard !argument.isEmpty else { printError(":load needs a file name"); return true }
            guard let data = FileManager.default.contents(atPath: argument), let text = String(data: data, encoding: .utf8) else {
                printError(":load: cannot read '\(argument)' as UTF-8 text")
                hadError = true
                return true
            }
            evaluate(text, name: argument)
        case ":profile":
            guard !argument.isEmpty else { printError(":profile needs an expression"); return true }
            evaluate("profile(|| \(argument)).value")
        case ":time":
            let start = Date()
            evaluate(argument)
            print(String(format: "time: %.3f ms", Date().timeIntervalSince(start) * 1000))
        default:
            printError("unknown command \(parts[0]); :help lists the commands")
        }
        return true
    }
}
