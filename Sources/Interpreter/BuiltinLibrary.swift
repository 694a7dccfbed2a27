import Synchronization

/// Every builtin the interpreter registers, gathered from the topic files.
enum BuiltinLibrary {
    /// The builtins an interpreter starts with, by name, and the scope that binds them with `pi` and an empty `args`.
    struct Scope: @unchecked Sendable {
        let registry: [String: Builtin]
        let scope: Environment
    }

    /// The scopes made so far, by sandbox (nil: none); a builtin holds no state, so interpreters share them.
    private static let scopes = Mutex<[Sandbox?: Scope]>([:])

    /// The builtins `sandbox` allows (all without one) and their scope, made on first use and shared after that.
    static func scope(for sandbox: Sandbox?) throws -> Scope {
        if let made = scopes.withLock({ $0[sandbox] }) { return made }
        let registry = try byName(all().filter { sandbox?.allows($0) ?? true })
        let scope = Environment(parent: nil)
        for builtin in registry.values { scope.define(builtin.name, .builtin(builtin)) }
        scope.define("pi", .number(Double.pi))
        scope.define("args", .list([]))
        let made = Scope(registry: registry, scope: scope)
        scopes.withLock { $0[sandbox] = made }
        return made
    }

    /// All builtins, in help order.
    static func all() -> [Builtin] {
        TensorBuiltins.all + MathBuiltins.all + AutodiffBuiltins.all + UtilityBuiltins.all + CommandLineBuiltins.all
            + FormatBuiltins.all + GeometryBuiltins.all
            + PhysicsBuiltins.all + StructureBuiltins.all + DataBuiltins.all + OutputBuiltins.all + ModelBuiltins.all
            + LossBuiltins.all + PlotBuiltins.all + TrainingBuiltins.all + PoseBuiltins.all + AnalysisBuiltins.all + MapBuiltins.all
    }

    /// `builtins` indexed by name; two builtins with one name are rejected, since the later would silently hide
    /// the earlier.
    static func byName(_ builtins: [Builtin]) throws -> [String: Builtin] {
        var index: [String: Builtin] = [:]
        for b in builtins {
            if let earlier = index[b.name] {
                throw ScriptFailure(message: "builtin '\(b.name)' is registered twice (topics \(earlier.topic) and \(b.topic)); give one of them another name")
            }
            index[b.name] = b
        }
        return index
    }
}

/// A required builtin parameter.
func required(_ name: String) -> BuiltinParameter { BuiltinParameter(name: name, defaultValue: nil) }

/// An optional builtin parameter with its default.
func optional(_ name: String, _ value: Value) -> BuiltinParameter { BuiltinParameter(name: name, defaultValue: value) }

/// Declares a builtin: name, help topic, parameters, one-line doc and example, and the native body.
func builtin(_ name: String, topic: String, _ parameters: [BuiltinParameter], variadic: Bool = false,
             doc: String, example: String, _ body: @escaping (Arguments) throws -> Value) -> Builtin {
    Builtin(name: name, topic: topic, parameters: parameters, variadic: variadic, doc: doc, example: example, body: body)
}
