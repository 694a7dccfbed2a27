/// The scopes that script functions close over, and their enclosing scopes, held weakly. A function stored in a scope
/// it can reach through its closure (every top-level `fn`, a lambda bound in the block that makes it, or a lambda
/// made in a block and bound outside it, `let c = {|x| x}`) forms a reference cycle that reference counting never
/// frees; `breakCycles` empties the scopes still alive when the interpreter is released, which frees them.
struct CapturedScopes {
    private final class WeakScope {
        weak var scope: Environment?
        init(_ scope: Environment) { self.scope = scope }
    }
    private var scopes: [WeakScope] = []
    /// The count after the last pruning; the list is pruned of freed scopes when it has doubled since.
    private var pruned = 0

    /// Records that a function closes over `scope`: the scope and every enclosing one, as a cycle may close through
    /// any of them. The walk stops at a scope already recorded, whose enclosing scopes are recorded too.
    mutating func capture(_ scope: Environment) {
        var next: Environment? = scope
        while let s = next, !s.isCaptured {
            s.isCaptured = true
            scopes.append(WeakScope(s))
            next = s.parent
        }
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
