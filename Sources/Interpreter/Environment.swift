/// A lexical scope: names bound in it and the scope that encloses it.
final class Environment: @unchecked Sendable {
    private struct Binding {
        var value: Value
        let mutable: Bool
    }
    private var bindings: [String: Binding] = [:]
    let parent: Environment?
    /// True once a script function closes over this scope (see `CapturedScopes`).
    var isCaptured = false

    init(parent: Environment?) { self.parent = parent }

    /// A scope without a parent holding `template`'s bindings (shared until either scope changes).
    init(copying template: Environment) {
        parent = nil
        bindings = template.bindings
    }

    /// Binds `name` in this scope (a new binding replaces an old one of the same name here).
    func define(_ name: String, _ value: Value, mutable: Bool = false) {
        bindings[name] = Binding(value: value, mutable: mutable)
    }

    /// The innermost value bound to `name`.
    func lookup(_ name: String) -> Value? {
        var scope: Environment? = self
        while let s = scope {
            if let b = s.bindings[name] { return b.value }
            scope = s.parent
        }
        return nil
    }

    /// Outcome of an assignment attempt.
    enum AssignResult { case assigned, immutable, undefined }

    /// Rebinds the innermost `var` named `name`.
    func assign(_ name: String, _ value: Value) -> AssignResult {
        var scope: Environment? = self
        while let s = scope {
            if let b = s.bindings[name] {
                guard b.mutable else { return .immutable }
                s.bindings[name] = Binding(value: value, mutable: true)
                return .assigned
            }
            scope = s.parent
        }
        return .undefined
    }

    /// Drops every binding of this scope.
    func removeAll() { bindings.removeAll() }

    /// Names bound here (not in enclosing scopes), with their values.
    var localBindings: [(String, Value)] { bindings.map { ($0.key, $0.value.value) }.sorted { $0.0 < $1.0 } }

    /// Whether the local binding `name` was declared with `var`.
    func isMutable(_ name: String) -> Bool { bindings[name]?.mutable ?? false }

    /// Every name visible from this scope.
    var visibleNames: Set<String> {
        var names = Set(bindings.keys)
        if let parent { names.formUnion(parent.visibleNames) }
        return names
    }
}
