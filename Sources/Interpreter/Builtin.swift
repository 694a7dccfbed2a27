import CryoKernels
import DSL

/// A parameter of a builtin: its name and default (required when there is none).
public struct BuiltinParameter: Sendable {
    /// The name, usable as a keyword.
    public let name: String
    /// The value used when the argument is omitted.
    public let defaultValue: Value?
}

/// A native function exposed to scripts, with the metadata `help` prints.
public final class Builtin: @unchecked Sendable {
    /// The name scripts call it by.
    public let name: String
    /// The `help()` section it is listed under.
    public let topic: String
    /// Parameters in positional order.
    public let parameters: [BuiltinParameter]
    /// When true, all positional arguments are collected into a list bound to the first parameter.
    public let variadic: Bool
    /// One line on what it does, with shapes and units.
    public let doc: String
    /// A one-line example.
    public let example: String
    let body: (Arguments) throws -> Value

    init(name: String, topic: String, parameters: [BuiltinParameter], variadic: Bool, doc: String, example: String,
         body: @escaping (Arguments) throws -> Value) {
        self.name = name
        self.topic = topic
        self.parameters = parameters
        self.variadic = variadic
        self.doc = doc
        self.example = example
        self.body = body
    }

    /// Runs the body on bound arguments. A kernel or builtin error whose message does not already start with this
    /// builtin's name gets it as a prefix, so every failure of a call says which builtin refused its input.
    func invoke(_ arguments: Arguments) throws -> Value {
        do {
            return try body(arguments)
        } catch let e as ScriptFailure {
            throw ScriptFailure(message: named(e.message))
        } catch let e as KernelError {
            throw ScriptFailure(message: named(e.description))
        }
    }

    /// `message`, prefixed with "name: " unless it already starts with the name.
    private func named(_ message: String) -> String {
        message.hasPrefix(name + ":") || message.hasPrefix(name + " ") ? message : "\(name): \(message)"
    }

    /// `name(a, b: default, …)` as shown by `help`.
    public var signature: String {
        let params = parameters.enumerated().map { i, p -> String in
            if variadic && i == 0 { return "\(p.name)..." }
            guard let d = p.defaultValue else { return p.name }
            return "\(p.name): \(ValueFormatter.repr(d))"
        }
        return "\(name)(\(params.joined(separator: ", ")))"
    }
}

/// The arguments of one builtin call, bound to parameter names, with typed accessors that throw
/// "name: argument 'x' must be …, got …" on a type mismatch.
public struct Arguments {
    /// The builtin being called (for messages).
    public let callee: String
    /// The interpreter running the call (for callbacks into script functions and interrupt checks).
    public let interpreter: Interpreter
    private let values: [String: Value]

    init(callee: String, interpreter: Interpreter, values: [String: Value]) {
        self.callee = callee
        self.interpreter = interpreter
        self.values = values
    }

    func fail(_ name: String, _ expected: String, _ got: Value) -> ScriptFailure {
        ScriptFailure(message: "\(callee): argument '\(name)' must be \(expected), got \(got.typeName) \(ValueFormatter.brief(got))")
    }

    /// The raw value of `name` (nil when it was omitted and has no default).
    public subscript(_ name: String) -> Value { values[name] ?? .null }

    /// True when `name` is nil or omitted.
    public func isNull(_ name: String) -> Bool { self[name].isNull }

    /// A number.
    public func number(_ name: String) throws -> Double {
        switch self[name] {
        case .number(let x): return x
        case .tensor(let t) where t.count == 1: return Double(t.storage[0])
        case let v: throw fail(name, "a number", v)
        }
    }

    /// A whole number.
    public func int(_ name: String) throws -> Int {
        let x = try number(name)
        guard x == x.rounded(), Swift.abs(x) < 1e15 else { throw fail(name, "a whole number", self[name]) }
        return Int(x)
    }

    /// A number, or nil when omitted.
    public func optionalNumber(_ name: String) throws -> Double? { isNull(name) ? nil : try number(name) }

    /// A whole number, or nil when omitted.
    public func optionalInt(_ name: String) throws -> Int? { isNull(name) ? nil : try int(name) }

    /// A string.
    public func string(_ name: String) throws -> String {
        guard case .string(let s) = self[name] else { throw fail(name, "a string", self[name]) }
        return s
    }

    /// One of an enumeration's spellings (its raw values), for options such as `normalize: "pixel"`.
    public func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: try string(name)) else {
            let spellings = T.allCases.map { "\"\($0.rawValue)\"" }
            throw fail(name, spellings.dropLast().joined(separator: ", ") + (spellings.count > 1 ? " or " : "") + spellings.last!, self[name])
        }
        return value
    }

    /// A bool.
    public func bool(_ name: String) throws -> Bool {
        guard case .bool(let b) = self[name] else { throw fail(name, "true or false", self[name]) }
        return b
    }

    /// A list (a range counts as the list of its numbers).
    public func list(_ name: String) throws -> [Value] {
        switch self[name] {
        case .list(let items): return items
        case .range(let lo, let hi):
            try Operators.withinLimit(Swift.max(0, hi - lo), "the range \(lo)..\(hi) as a list of", "numbers")
            return (lo..<Swift.max(lo, hi)).map { .number(Double($0)) }
        case let v: throw fail(name, "a list", v)
        }
    }

    /// A list of whole numbers, e.g. a shape.
    public func ints(_ name: String) throws -> [Int] {
        let numbers: [Double]
        if case .tensor(let t) = self[name] {
            numbers = t.storage.map(Double.init)
        } else {
            numbers = try list(name).map { v in
                guard case .number(let x) = v else { throw fail(name, "a list of whole numbers", self[name]) }
                return x
            }
        }
        return try numbers.map { x in
            guard x == x.rounded(), Swift.abs(x) < 1e15 else { throw fail(name, "a list of whole numbers", self[name]) }
            return Int(x)
        }
    }

    /// A tensor; numbers become scalar tensors and nested lists of numbers become tensors.
    public func tensor(_ name: String) throws -> Tensor {
        do {
            return try ValueConversion.tensor(self[name])
        } catch is ScriptFailure {
            throw fail(name, "a tensor (or a number or nested list of numbers)", self[name])
        }
    }

    /// A record.
    public func record(_ name: String) throws -> Record {
        guard case .record(let r) = self[name] else { throw fail(name, "a record", self[name]) }
        return r
    }

    /// A callable value (script function, builtin or callable object).
    public func callable(_ name: String) throws -> Value {
        switch self[name] {
        case .function, .builtin: return self[name]
        case .object(let o) where o is CallableObject: return self[name]
        case let v: throw fail(name, "a function", v)
        }
    }

    /// Runs `body` with the generator of the `seed` argument when one is given, otherwise with the interpreter's
    /// (whose state then advances), so unseeded calls differ and seeded ones repeat.
    func withGenerator<T>(_ body: (inout SeededGenerator) throws -> T) throws -> T {
        if let seed = try optionalInt("seed") {
            var g = SeededGenerator(seed: UInt64(bitPattern: Int64(seed)))
            return try body(&g)
        }
        return try body(&interpreter.generator)
    }

    /// An opaque object of type `T`.
    public func object<T: ScriptObject>(_ name: String, as type: T.Type, described: String) throws -> T {
        guard case .object(let o) = self[name], let t = o as? T else { throw fail(name, described, self[name]) }
        return t
    }
}
