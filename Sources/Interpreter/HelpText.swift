/// The text of `help()` and `help(name)`.
enum HelpText {
    /// All builtins grouped by topic, or one builtin's signature, description and example.
    static func text(for name: String?, registry: [String: Builtin]) throws -> String {
        if let name {
            guard let b = registry[name] else {
                let close = registry.keys.filter { $0.hasPrefix(String(name.prefix(2))) }.sorted().prefix(5)
                throw ScriptFailure(message: "help: no builtin named '\(name)'" + (close.isEmpty ? "" : " (similar: \(close.joined(separator: ", ")))"))
            }
            return "\(b.signature)\n  \(b.doc)\n  example: \(b.example)"
        }
        let topics = Dictionary(grouping: registry.values, by: \.topic)
        var lines = ["CryoScript builtins (help(\"name\") for one):"]
        for topic in topics.keys.sorted() {
            lines.append("  \(topic): " + (topics[topic] ?? []).map(\.name).sorted().joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }
}
