/// The scopes that script functions close over, held weakly. A function stored in a scope it closes over (every
/// top-level `fn`, a lambda bound in the block that makes it) forms a reference cycle that reference counting never
/// frees; `breakCycles` empties the scopes still alive when the interpreter is released, which frees them.
struct CapturedScopes {
    private final class WeakScope {
        weak var scope: Environment?
        init(_ scope: Environment) { self.scope = scope }
    }
    private var scopes: [WeakScope] = []
    /// The count after the last pruning; the list is pruned of freed scopes when it has doubled since.
    private var pruned = 0

    /// Records that a function closes over `scope`.
    mutating func capture(_ scope: Environment) {
        guard !scope.isCaptured else { return }
        scope.isCaptured = true
        scopes.append(WeakScope(scope))
        if scopes.count > 2 * pruned + 64 {
            scopes.removeAll { $0.scope == nil }
            pruned = scopes.count
        }
    }

    /// Empties every captured scope still alive, so the cycles through them are released.
    func breakCycles() {
        for s in scopes { s.scope?.removeAll() }
    }
}
