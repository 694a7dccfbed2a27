import CryoKernels
import DSL
import Foundation

/// Evaluates CryoScript programs: a tree-walking evaluator over `Expr` with lexical scopes, closures,
/// a traceback of `.cryo` frames, interrupt checks in loops and calls, and the builtin registry.
public final class Interpreter: @unchecked Sendable {
    /// Builtins, beneath the user's top-level scope.
    let builtins: Environment
    /// The user's top-level scope (REPL variables, script definitions).
    let topLevel: Environment
    /// Where `print`, `help` and progress output go (under MPI, rank 0's only).
    public var output: (String) -> Void = { text in
        guard World.isRoot else { return }
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
    /// Where warnings go (standard error by default; under MPI, rank 0's only).
    public var warningOutput: (String) -> Void = { text in
        guard World.isRoot else { return }
        FileHandle.standardError.write(Data(("warning: " + text + "\n").utf8))
    }
    /// Polled in loops, calls and long builtins; returning true stops evaluation with `InterruptedError`.
    public var shouldInterrupt: @Sendable () -> Bool = { false }
    /// The script's command-line arguments, visible as `args`.
    public var scriptArguments: [String] = [] {
        didSet { builtins.define("args", .list(scriptArguments.map { .string($0) })) }
    }
    /// The generator behind unseeded random builtins (`seed(n)` resets it).
    var generator = SeededGenerator(seed: 0)
    private(set) var callStack: [Frame] = []
    /// Where the builtins and callable objects under way were called, innermost last: a script function they call
    /// back (`callValue`) has its errors located there.
    private var nativeCallSites: [SourceRange] = []
    private var importing: Set<String> = []
    /// Deeper script recursion than this is an error, not a crash.
    static let maximumCallDepth = 3000

    /// Every registered builtin by name.
    public private(set) var registry: [String: Builtin] = [:]
    /// The limits programs run under, if any (see `Sandbox`).
    public let sandbox: Sandbox?
    /// The budgets of the sandboxed run under way.
    private var meter: SandboxMeter?
    /// Scopes that functions close over, emptied when the interpreter is released.
    private var capturedScopes = CapturedScopes()

    /// An interpreter with all builtins registered (only the sandbox's, given one) and an empty top level.
    public init(sandbox: Sandbox? = nil) {
        let library: BuiltinLibrary.Scope
        do {
            library = try BuiltinLibrary.scope(for: sandbox)
        } catch {
            preconditionFailure("\(error)")
        }
        registry = library.registry
        builtins = Environment(copying: library.scope)
        topLevel = Environment(parent: builtins)
        self.sandbox = sandbox
    }

    deinit { capturedScopes.breakCycles() }

    // MARK: entry points

    /// Parses and evaluates `file` in the top-level scope; returns the value of its last statement,
    /// or nil when that statement was a definition (so the REPL shows nothing). In a sandbox, the run gets fresh
    /// budgets and the sandbox's tensor size limit.
    @discardableResult
    public func run(_ file: SourceFile) throws -> Value? {
        let statements = try Parser.parse(file)
        guard let sandbox else { return try evaluate(statements) }
        meter = SandboxMeter(sandbox)
        defer { meter = nil }
        return try ElementLimit.withLimit(sandbox.tensorElements) { try evaluate(statements) }
    }

    private func evaluate(_ statements: [Expr]) throws -> Value? {
        try LargeStack.run {
            var last: Value? = nil
            for statement in statements {
                let value = try evaluateTopLevel(statement)
                last = Interpreter.isDefinition(statement) ? nil : value
            }
            return last
        }
    }

    /// Convenience: evaluates `text` as a source named `name`.
    @discardableResult
    public func run(_ text: String, name: String = "<expr>") throws -> Value? {
        try run(SourceFile(name: name, text: text))
    }

    private static func isDefinition(_ e: Expr) -> Bool {
        switch e.kind {
        case .binding, .function, .assignment, .importFile: return true
        default: return false
        }
    }

    private func evaluateTopLevel(_ statement: Expr) throws -> Value {
        callStack.removeAll()
        do {
            return try eval(statement, topLevel)
        } catch ControlFlow.breakLoop(let r) {
            throw RuntimeError("'break' outside a loop", at: r)
        } catch ControlFlow.continueLoop(let r) {
            throw RuntimeError("'continue' outside a loop", at: r)
        } catch ControlFlow.returnValue(_, let r) {
            throw RuntimeError("'return' outside a function", at: r)
        }
    }

    /// Names visible at top level (for tab completion).
    public var visibleNames: [String] { topLevel.visibleNames.sorted() }

    /// The user's top-level variables with their types (for `:vars`).
    public var userVariables: [(name: String, summary: String)] {
        topLevel.localBindings.map { name, value in
            (name, "\(topLevel.isMutable(name) ? "var" : "let") \(name): \(value.typeName) = \(ValueFormatter.brief(value))")
        }
    }

    /// Reports a non-fatal problem (e.g. a fallback the user should know about).
    public func warn(_ message: String) { warningOutput(message) }

    /// Throws `InterruptedError` if the user asked to stop, and `BudgetExceeded` when a sandboxed run has used up
    /// a budget (each call counts one step).
    public func checkInterrupt() throws {
        if shouldInterrupt() { throw InterruptedError() }
        try meter?.charge()
    }

    // MARK: errors

    /// Runs `body`, turning kernel and builtin errors into a `RuntimeError` located at `range`.
    func located<T>(_ range: SourceRange, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as ScriptFailure {
            throw RuntimeError(e.message, at: range, traceback: callStack)
        } catch let e as KernelError {
            throw RuntimeError(e.description, at: range, traceback: callStack)
        } catch let e as Diagnostic {
            throw e
        } catch let e as RuntimeError {
            throw e
        } catch let e as InterruptedError {
            throw e
        } catch let e as BudgetExceeded {
            throw e
        } catch let e as ControlFlow {
            throw e
        } catch {
            throw RuntimeError("\(error)", at: range, traceback: callStack)
        }
    }

    private func fail(_ message: String, _ range: SourceRange) -> RuntimeError {
        RuntimeError(message, at: range, traceback: callStack)
    }

    // MARK: evaluation

    func eval(_ e: Expr, _ env: Environment) throws -> Value {
        switch e.kind {
        case .number(let x): return .number(x)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .null: return .null
        case .identifier(let name):
            guard let v = env.lookup(name) else { throw fail(undefinedMessage(name, env), e.range) }
            return v
        case .list(let items):
            return .list(try items.map { try eval($0, env) })
        case .record(let fields):
            return .record(Record(try fields.map { ($0.key, try eval($0.value, env)) }))
        case .unaryMinus(let operand):
            let v = try eval(operand, env)
            return try located(e.range) { try Operators.negate(v) }
        case .not(let operand):
            return .bool(!(try condition(operand, env, "'not'")))
        case .binary(.and, let l, let r):
            return .bool(try condition(l, env, "'and'") && condition(r, env, "'and'"))
        case .binary(.or, let l, let r):
            return .bool(try condition(l, env, "'or'") || condition(r, env, "'or'"))
        case .binary(let op, let l, let r):
            let lv = try eval(l, env), rv = try eval(r, env)
            return try located(e.range) { try Operators.binary(op, lv, rv) }
        case .range(let l, let r):
            let lo = try wholeNumber(l, env, "range start"), hi = try wholeNumber(r, env, "range end")
            return .range(lo, hi)
        case .pipe(let lhs, let rhs):
            let input = try eval(lhs, env)
            if case .call(let calleeExpr, let args) = rhs.kind {
                let callee = try eval(calleeExpr, env)
                let (positional, keywords) = try evaluateArguments(args, env)
                return try call(callee, [input] + positional, keywords, at: e.range)
            }
            return try call(try eval(rhs, env), [input], [], at: e.range)
        case .call(let calleeExpr, let args):
            let callee = try eval(calleeExpr, env)
            let (positional, keywords) = try evaluateArguments(args, env)
            return try call(callee, positional, keywords, at: e.range)
        case .member(let object, let name):
            let v = try eval(object, env)
            return try located(e.range) { try Operators.member(v, name) }
        case .index(let container, let index):
            let c = try eval(container, env), i = try eval(index, env)
            return try located(e.range) { try Operators.index(c, i) }
        case .ifElse(let cond, let then, let otherwise):
            if try condition(cond, env, "'if'") { return try eval(then, env) }
            return try otherwise.map { try eval($0, env) } ?? .null
        case .whileLoop(let cond, let body):
            while try condition(cond, env, "'while'") {
                try checkInterrupt()
                do { _ = try eval(body, env) } catch ControlFlow.breakLoop { break } catch ControlFlow.continueLoop { continue }
            }
            return .null
        case .forIn(let variable, let sequence, let body):
            return try forLoop(variable, try eval(sequence, env), body, env, sequence.range)
        case .block(let statements):
            let scope = Environment(parent: env)
            var last = Value.null
            for s in statements { last = try eval(s, scope) }
            return last
        case .lambda(let params, let body):
            capturedScopes.capture(env)
            return .function(Function(name: "<lambda>", parameters: params, body: body, closure: env))
        case .function(let name, let params, let body):
            capturedScopes.capture(env)
            env.define(name, .function(Function(name: name, parameters: params, body: body, closure: env)))
            return .null
        case .binding(let name, let mutable, let valueExpr):
            env.define(name, try eval(valueExpr, env), mutable: mutable)
            return .null
        case .assignment(let name, let valueExpr):
            let v = try eval(valueExpr, env)
            switch env.assign(name, v) {
            case .assigned: return .null
            case .immutable: throw fail("cannot assign to '\(name)': it was declared with 'let' (use 'var' for a variable)", e.range)
            case .undefined: throw fail("cannot assign to undefined '\(name)' (declare it first with 'var \(name) = …')", e.range)
            }
        case .breakLoop: throw ControlFlow.breakLoop(e.range)
        case .continueLoop: throw ControlFlow.continueLoop(e.range)
        case .returnValue(let valueExpr):
            throw ControlFlow.returnValue(try valueExpr.map { try eval($0, env) } ?? .null, e.range)
        case .importFile(let path):
            try importFile(path, into: env, at: e.range)
            return .null
        }
    }

    private func evaluateArguments(_ args: [Argument], _ env: Environment) throws -> ([Value], [(String, Value)]) {
        var positional: [Value] = [], keywords: [(String, Value)] = []
        for a in args {
            let v = try eval(a.value, env)
            if let label = a.label { keywords.append((label, v)) } else { positional.append(v) }
        }
        return (positional, keywords)
    }

    private func condition(_ e: Expr, _ env: Environment, _ context: String) throws -> Bool {
        let v = try eval(e, env)
        guard case .bool(let b) = v else {
            throw fail("\(context) needs a condition that is true or false, got \(v.typeName) \(ValueFormatter.brief(v))", e.range)
        }
        return b
    }

    private func wholeNumber(_ e: Expr, _ env: Environment, _ what: String) throws -> Int {
        let v = try eval(e, env)
        guard case .number(let x) = v, x == x.rounded(), Swift.abs(x) < 1e15 else {
            throw fail("\(what) must be a whole number, got \(v.typeName) \(ValueFormatter.brief(v))", e.range)
        }
        return Int(x)
    }

    private func forLoop(_ variable: String, _ sequence: Value, _ body: Expr, _ env: Environment, _ range: SourceRange) throws -> Value {
        let count: Int
        let element: (Int) throws -> Value
        switch sequence {
        case .range(let lo, let hi): count = Swift.max(0, hi - lo); element = { .number(Double(lo + $0)) }
        case .list(let items): count = items.count; element = { items[$0] }
        case .tensor(let t) where t.rank >= 1: count = t.shape[0]; element = { .tensor(try t.select($0)) }
        case .record(let r): let fields = r.fields; count = fields.count; element = { .string(fields[$0].0) }
        default: throw fail("'for' cannot iterate over \(sequence.typeName) (use a range a..b, a list or a tensor)", range)
        }
        for i in 0..<count {
            try checkInterrupt()
            let scope = Environment(parent: env)
            scope.define(variable, try located(range) { try element(i) })
            do { _ = try eval(body, scope) } catch ControlFlow.breakLoop { break } catch ControlFlow.continueLoop { continue }
        }
        return .null
    }

    // MARK: calls

    /// Calls any callable value with evaluated arguments; errors are located at `range`.
    func call(_ callee: Value, _ positional: [Value], _ keywords: [(String, Value)], at range: SourceRange) throws -> Value {
        try checkInterrupt()
        switch callee {
        case .function(let f):
            return try callFunction(f, positional, keywords, at: range)
        case .builtin(let b):
            let args = try located(range) { try bind(b, positional, keywords) }
            nativeCallSites.append(range)
            defer { nativeCallSites.removeLast() }
            if let profiler = Profiler.active { return try located(range) { try profiler.timing(b.name) { try b.invoke(args) } } }
            return try located(range) { try b.invoke(args) }
        case .object(let o as CallableObject):
            nativeCallSites.append(range)
            defer { nativeCallSites.removeLast() }
            if let profiler = Profiler.active {
                return try located(range) { try profiler.timing(o.typeName) { try o.call(positional, keywords, interpreter: self) } }
            }
            return try located(range) { try o.call(positional, keywords, interpreter: self) }
        default:
            throw fail("\(callee.typeName) \(ValueFormatter.brief(callee)) is not a function", range)
        }
    }

    /// Calls a callable value from native code (a builtin calling back into a script function); errors are located at
    /// the call of that builtin.
    public func callValue(_ callee: Value, _ positional: [Value], _ keywords: [(String, Value)] = []) throws -> Value {
        let site = nativeCallSites.last ?? callStack.last?.callSite ?? SourceRange(file: SourceFile(name: "<native>", text: ""), start: 0, end: 0)
        return try call(callee, positional, keywords, at: site)
    }

    private func callFunction(_ f: Function, _ positional: [Value], _ keywords: [(String, Value)], at range: SourceRange) throws -> Value {
        guard callStack.count < Interpreter.maximumCallDepth else {
            throw fail("recursion too deep (more than \(Interpreter.maximumCallDepth) nested calls) in '\(f.name)'", range)
        }
        guard positional.count <= f.parameters.count else {
            throw fail("'\(f.name)' takes \(f.parameters.count) argument\(f.parameters.count == 1 ? "" : "s"), got \(positional.count)", range)
        }
        let scope = Environment(parent: f.closure)
        for (label, _) in keywords where !f.parameters.contains(where: { $0.name == label }) {
            throw fail("'\(f.name)' has no parameter '\(label)' (parameters: \(f.parameters.map(\.name).joined(separator: ", ")))", range)
        }
        callStack.append(Frame(function: f.name, callSite: range))
        defer { callStack.removeLast() }
        for (i, p) in f.parameters.enumerated() {
            let keyword = keywords.first { $0.0 == p.name }?.1
            if i < positional.count {
                if keyword != nil { throw fail("'\(f.name)' got argument '\(p.name)' both by position and by keyword", range) }
                scope.define(p.name, positional[i])
            } else if let keyword {
                scope.define(p.name, keyword)
            } else if let d = p.defaultValue {
                scope.define(p.name, try eval(d, scope))
            } else {
                throw RuntimeError("missing argument '\(p.name)' in call to '\(f.name)'", at: range, traceback: Array(callStack.dropLast()))
            }
        }
        do {
            return try eval(f.body, scope)
        } catch ControlFlow.returnValue(let v, _) {
            return v
        } catch ControlFlow.breakLoop(let r) {
            throw fail("'break' outside a loop", r)
        } catch ControlFlow.continueLoop(let r) {
            throw fail("'continue' outside a loop", r)
        }
    }

    private func bind(_ b: Builtin, _ positional: [Value], _ keywords: [(String, Value)]) throws -> Arguments {
        var values: [String: Value] = [:]
        var remaining = positional
        if b.variadic {
            values[b.parameters[0].name] = .list(positional)
            remaining = []
        }
        let fixed = b.variadic ? Array(b.parameters.dropFirst()) : b.parameters
        guard remaining.count <= fixed.count else {
            throw ScriptFailure(message: "\(b.name) takes at most \(fixed.count) positional argument\(fixed.count == 1 ? "" : "s"), got \(remaining.count); see help(\"\(b.name)\")")
        }
        for (i, v) in remaining.enumerated() { values[fixed[i].name] = v }
        for (label, v) in keywords {
            guard b.parameters.contains(where: { $0.name == label }) else {
                throw ScriptFailure(message: "\(b.name) has no parameter '\(label)'; signature: \(b.signature)")
            }
            guard values[label] == nil else { throw ScriptFailure(message: "\(b.name) got argument '\(label)' twice") }
            values[label] = v
        }
        for p in b.parameters where values[p.name] == nil {
            guard let d = p.defaultValue else {
                throw ScriptFailure(message: "\(b.name) is missing argument '\(p.name)'; signature: \(b.signature)")
            }
            values[p.name] = d
        }
        return Arguments(callee: b.name, interpreter: self, values: values)
    }

    // MARK: import

    private func importFile(_ path: String, into env: Environment, at range: SourceRange) throws {
        if sandbox != nil { throw fail("import is not available in a sandbox (it reads files)", range) }
        let importer = range.file.name
        let base = importer.hasPrefix("<") ? FileManager.default.currentDirectoryPath : (importer as NSString).deletingLastPathComponent
        let resolved = path.hasPrefix("/") ? path : ((base.isEmpty ? "." : base) as NSString).appendingPathComponent(path)
        let key = (resolved as NSString).standardizingPath
        guard !importing.contains(key) else { throw fail("circular import of \"\(path)\"", range) }
        guard let data = FileManager.default.contents(atPath: key), let text = String(data: data, encoding: .utf8) else {
            throw fail("cannot import \"\(path)\": no readable UTF-8 file at \(key)", range)
        }
        importing.insert(key)
        defer { importing.remove(key) }
        let file = SourceFile(name: key, text: text)
        let statements = try Parser.parse(file)
        let module = Environment(parent: builtins)
        let savedStack = callStack
        callStack.append(Frame(function: "import \"\(path)\"", callSite: range))
        defer { callStack = savedStack }
        for s in statements { _ = try eval(s, module) }
        for (name, value) in module.localBindings { env.define(name, value, mutable: module.isMutable(name)) }
    }

    private func undefinedMessage(_ name: String, _ env: Environment) -> String {
        let candidates = env.visibleNames
        let best = candidates.map { ($0, Interpreter.editDistance($0, name)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }
        return "undefined name '\(name)'" + (best.map { " (did you mean '\($0.0)'?)" } ?? "")
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if Swift.abs(x.count - y.count) > 2 { return 3 }
        var row = Array(0...y.count)
        for i in 1...max(1, x.count) where !x.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, y.count) where !y.isEmpty {
                let saved = row[j]
                row[j] = Swift.min(row[j] + 1, row[j - 1] + 1, previous + (x[i - 1] == y[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return x.isEmpty ? y.count : row[y.count]
    }
}
