import Foundation
import Interpreter

/// Tab completion of names in scope, called by readline through the C shim.
enum Completion {
    nonisolated(unsafe) static var interpreter: Interpreter?
    nonisolated(unsafe) private static var matches: [String] = []
    nonisolated(unsafe) private static var next = 0

    /// readline's generator protocol: state 0 starts a new completion; returns strdup'd candidates, then NULL.
    static let generator: @convention(c) (UnsafePointer<CChar>?, Int32) -> UnsafeMutablePointer<CChar>? = { text, state in
        if state == 0 {
            let prefix = text.map { String(cString: $0) } ?? ""
            let commands = [":help", ":vars", ":load", ":time", ":quit"]
            let names = (interpreter?.visibleNames ?? []) + (prefix.hasPrefix(":") ? commands : [])
            matches = names.filter { $0.hasPrefix(prefix) }
            next = 0
        }
        guard next < matches.count else { return nil }
        defer { next += 1 }
        return strdup(matches[next])
    }
}
