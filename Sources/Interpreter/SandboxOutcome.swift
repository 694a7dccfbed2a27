import DSL

/// What became of a program run in a sandbox. Every program must end in a value, a located diagnostic or an
/// exhausted budget; `unexpected` (an unlocated error, or an error of another kind) is a bug, as is a crash.
public enum SandboxOutcome: Equatable, Sendable {
    /// It ran to the end.
    case value
    /// The lexer or parser refused it with a diagnostic located in the program; the message.
    case syntaxError(String)
    /// It stopped with a runtime error located in the program; the message.
    case runtimeError(String)
    /// It used up a budget (an endless loop is a legitimate program); which one.
    case outOfBudget(String)
    /// Anything else, described.
    case unexpected(String)

    /// Runs `text`, named `name`, in a fresh interpreter restricted to `sandbox` with its output discarded, and
    /// classifies the result.
    public static func of(_ text: String, name: String = "fuzz", sandbox: Sandbox = .fuzzing) -> SandboxOutcome {
        let interpreter = Interpreter(sandbox: sandbox)
        interpreter.output = { _ in }
        interpreter.warningOutput = { _ in }
        do {
            _ = try interpreter.run(text, name: name)
            return .value
        } catch let e as BudgetExceeded {
            return .outOfBudget(e.budget)
        } catch let e as Diagnostic {
            return isLocated("\(e)", in: name) ? .syntaxError(e.message) : .unexpected("unlocated diagnostic: \(e)")
        } catch let e as RuntimeError {
            return isLocated("\(e)", in: name) ? .runtimeError(e.message) : .unexpected("unlocated runtime error: \(e)")
        } catch {
            return .unexpected("\(type(of: error)): \(error)")
        }
    }

    /// True when `text` starts with `name:line:column: error: `, as every located diagnostic does.
    static func isLocated(_ text: String, in name: String) -> Bool {
        guard text.hasPrefix(name + ":") else { return false }
        let parts = text.dropFirst(name.count + 1).split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0].allSatisfy(\.isNumber) && !parts[0].isEmpty
            && parts[1].allSatisfy(\.isNumber) && !parts[1].isEmpty && parts[2].hasPrefix(" error: ")
    }
}
