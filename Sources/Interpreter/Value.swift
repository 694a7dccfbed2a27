import CryoKernels
import DSL

/// A value of the language.
public enum Value: @unchecked Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case list([Value])
    case record(Record)
    case tensor(Tensor)
    /// The half-open integer range `lo..<hi` written `lo..hi`.
    case range(Int, Int)
    case function(Function)
    case builtin(Builtin)
    /// An opaque kernel object (optimiser, graph, model, dataset …) with members of its own.
    case object(ScriptObject)

    /// The type name used in error messages and by `type(x)`.
    public var typeName: String {
        switch self {
        case .null: return "nil"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .list: return "list"
        case .record: return "record"
        case .tensor: return "tensor"
        case .range: return "range"
        case .function, .builtin: return "function"
        case .object(let o): return o.typeName
        }
    }

    /// True for `nil`.
    public var isNull: Bool { if case .null = self { return true } else { return false } }
}

/// An ordered record of named values: `{lr: 1e-3, epochs: 20}`.
public struct Record: Sendable {
    /// Field names in the order they were written.
    public private(set) var keys: [String] = []
    private var storage: [String: Value] = [:]

    /// An empty record.
    public init() {}

    /// A record of `fields` in order (later duplicates replace earlier ones).
    public init(_ fields: [(String, Value)]) {
        for (k, v) in fields { self[k] = v }
    }

    /// The value of field `key`, or nil when there is none; setting appends new keys at the end.
    public subscript(key: String) -> Value? {
        get { storage[key] }
        set {
            if storage[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            storage[key] = newValue
        }
    }

    /// Fields in order.
    public var fields: [(String, Value)] { keys.compactMap { k in storage[k].map { (k, $0) } } }
}

/// A kernel object exposed to scripts through its members (`opt.step(grads)`, `g.src`).
public protocol ScriptObject: AnyObject, Sendable {
    /// The name shown by `type(x)` and in error messages.
    var typeName: String { get }
    /// One line shown when the REPL prints the object.
    var summary: String { get }
    /// Names offered by completion and listed in errors for unknown members.
    var memberNames: [String] { get }
    /// The member `name`, or nil if the object has none.
    func member(_ name: String) throws -> Value?
}

/// A kernel object that can be called like a function (a model).
public protocol CallableObject: ScriptObject {
    /// Calls the object with positional and keyword arguments.
    func call(_ positional: [Value], _ keywords: [(String, Value)], interpreter: Interpreter) throws -> Value
}

/// A function defined in the language (`fn` or a lambda), with the scope it closes over.
public final class Function: @unchecked Sendable {
    /// The name for tracebacks (`<lambda>` for lambdas).
    public let name: String
    let parameters: [Parameter]
    let body: Expr
    let closure: Environment

    init(name: String, parameters: [Parameter], body: Expr, closure: Environment) {
        self.name = name
        self.parameters = parameters
        self.body = body
        self.closure = closure
    }
}
