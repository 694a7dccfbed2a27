/// Reading the script's command-line arguments (`args`) as flags and options.
enum CommandLineBuiltins {
    static let topic = "utilities"

    static var all: [Builtin] {
        [
            builtin("flag", topic: topic, [required("name")],
                    doc: "True when name (e.g. \"--quick\") is one of the script's arguments (args), false otherwise.",
                    example: "let quick = flag(\"--quick\")") { a in
                .bool(a.interpreter.scriptArguments.contains(try a.string("name")))
            },
            builtin("option", topic: topic, [required("name"), optional("default", .null)],
                    doc: "The value given for name in args, as \"--size 64\" or \"--size=64\", or default when name is absent. With a number as default the value must be a number and is returned as one; otherwise it is returned as text.",
                    example: "let size = option(\"--size\", 64)") { a in
                let name = try a.string("name")
                let fallback = a["default"]
                switch fallback {
                case .null, .number, .string: break
                default: throw a.fail("default", "a number, a string or nil", fallback)
                }
                guard let text = try value(of: name, in: a.interpreter.scriptArguments) else { return fallback }
                guard case .number = fallback else { return .string(text) }
                guard let x = Double(text) else { throw ScriptFailure(message: "option: \(name) expects a number, got \"\(text)\"") }
                return .number(x)
            },
        ]
    }

    /// The text after `name` ("--size 64") or after its "=" ("--size=64"); nil when `name` is absent.
    private static func value(of name: String, in arguments: [String]) throws -> String? {
        for (i, argument) in arguments.enumerated() {
            if argument == name {
                guard i + 1 < arguments.count else { throw ScriptFailure(message: "option: \(name) needs a value after it") }
                return arguments[i + 1]
            }
            if argument.hasPrefix(name + "=") { return String(argument.dropFirst(name.count + 1)) }
        }
        return nil
    }
}
