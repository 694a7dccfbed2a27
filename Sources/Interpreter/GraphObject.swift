import CryoKernels

/// A graph as scripts see it: `g.src`, `g.dst`, `g.kind` (per edge; 0 peptide, 1 hydrogen bond, 2 other),
/// `g.nodes`, `g.edges`, `g.degree`, `g.hbonds` (how hydrogen bonds were found).
final class GraphObject: ScriptObject, @unchecked Sendable {
    let graph: ResidueGraph

    init(_ graph: ResidueGraph) { self.graph = graph }

    var typeName: String { "graph" }
    var summary: String {
        let peptide = graph.kind.filter { $0 == 0 }.count / 2, hbond = graph.kind.filter { $0 == 1 }.count / 2
        let other = graph.kind.filter { $0 == 2 }.count
        return "<graph: \(graph.nodes) nodes, \(graph.src.count) directed edges (\(peptide) peptide, \(hbond) hydrogen-bond pairs\(other > 0 ? ", \(other) other" : ""); hbonds: \(graph.hydrogenBondMethod))>"
    }
    var memberNames: [String] { ["src", "dst", "kind", "nodes", "edges", "degree", "hbonds"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "src": return .tensor(Tensor(graph.src.map(Float.init)))
        case "dst": return .tensor(Tensor(graph.dst.map(Float.init)))
        case "kind": return .tensor(Tensor(graph.kind.map(Float.init)))
        case "nodes": return .number(Double(graph.nodes))
        case "edges": return .number(Double(graph.src.count))
        case "degree": return .tensor(Tensor(graph.degree.map(Float.init)))
        case "hbonds": return .string(graph.hydrogenBondMethod)
        default: return nil
        }
    }
}

/// A trainable model as scripts see it: call it (`model(z)`), read `.params`, `.parameter_count`, `.kind`.
final class ModelObject: CallableObject, ParameterHolder, @unchecked Sendable {
    let name: String
    let parameters: [Tensor]
    let forward: (Tensor) throws -> Tensor
    /// The decoder behind it, when it is one (gnn, mlp(like:)).
    let decoder: Decoder?

    init(decoder: Decoder) {
        name = decoder.kind
        parameters = decoder.parameters
        forward = decoder.decode
        self.decoder = decoder
    }

    init(name: String, parameters: [Tensor], forward: @escaping (Tensor) throws -> Tensor) {
        self.name = name
        self.parameters = parameters
        self.forward = forward
        decoder = nil
    }

    var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
    var typeName: String { "model" }
    var summary: String { "<model \(name): \(parameterCount) parameters\(decoder.map { ", \($0.nodes) nodes, latent \($0.latentDimension)" } ?? "")>" }
    var memberNames: [String] { ["params", "parameter_count", "kind", "nodes", "latent"] }
    var parameterValue: Value { .list(parameters.map { .tensor($0) }) }

    func member(_ member: String) throws -> Value? {
        switch member {
        case "params": return parameterValue
        case "parameter_count": return .number(Double(parameterCount))
        case "kind": return .string(name)
        case "nodes": return decoder.map { .number(Double($0.nodes)) } ?? .null
        case "latent": return decoder.map { .number(Double($0.latentDimension)) } ?? .null
        default: return nil
        }
    }

    func call(_ positional: [Value], _ keywords: [(String, Value)], interpreter: Interpreter) throws -> Value {
        guard positional.count == 1, keywords.isEmpty else { throw ScriptFailure(message: "a model takes one input tensor, got \(positional.count) arguments") }
        return .tensor(try forward(try ValueConversion.tensor(positional[0])))
    }
}

extension Arguments {
    /// A graph argument.
    func graph(_ name: String) throws -> ResidueGraph {
        try object(name, as: GraphObject.self, described: "a graph (from residue_graph, knn_graph, radius_graph or backbone_graph)").graph
    }
}
