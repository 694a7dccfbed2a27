import CryoKernels

/// Graphs and models: the paper's residue graph and GCN decoder, the matched MLP baseline, research variants.
enum ModelBuiltins {
    static let topic = "models"

    static var all: [Builtin] {
        [
            builtin("residue_graph", topic: topic, [required("s"), optional("hbonds", .bool(true))],
                    doc: "The paper's graph: one node per residue, peptide edges (i, i+1) and backbone hydrogen bonds (DSSP from N, C, O when the structure has them; a Cα proxy otherwise). hbonds: false keeps peptide bonds only.",
                    example: "let g = residue_graph(read_pdb(\"data/adk/adk_open.pdb\", atoms: \"backbone\"))") { a in
                .object(GraphObject(try ResidueGraph.build(try a.structure("s"), hydrogenBonds: try a.bool("hbonds"))))
            },
            builtin("knn_graph", topic: topic, [required("coords"), optional("k", .number(8))],
                    doc: "Each node receives edges from its k nearest neighbours (spatial grid, no N² loop).", example: "knn_graph(s.coords, k: 8)") { a in
                .object(GraphObject(try NeighbourGraphs.knn(try coordinates(a), k: try a.int("k"))))
            },
            builtin("radius_graph", topic: topic, [required("coords"), optional("cutoff", .number(10))],
                    doc: "Undirected edges between nodes closer than cutoff Å.", example: "radius_graph(s.coords, cutoff: 8)") { a in
                .object(GraphObject(try NeighbourGraphs.radius(try coordinates(a), cutoff: try a.number("cutoff"))))
            },
            builtin("backbone_graph", topic: topic, [required("coords"), optional("knn", .number(0)), optional("seq", .number(2)), optional("cutoff", .number(0))],
                    doc: "Sequence neighbours within seq, united with a k-NN graph (knn > 0) and a radius graph (cutoff > 0).",
                    example: "backbone_graph(s.coords, knn: 8, seq: 3)") { a in
                .object(GraphObject(try NeighbourGraphs.backbone(try coordinates(a), knn: try a.int("knn"), window: try a.int("seq"), cutoff: try a.number("cutoff"))))
            },
            builtin("gnn", topic: topic, [required("graph"), optional("kind", .string("gcn")), optional("latent", .number(8)), optional("hidden", .null),
                                          optional("layers", .null), optional("like", .null), optional("seed", .number(0)),
                                          optional("first_residual", .bool(false)), optional("init", .string("linear"))],
                    doc: "A GNN decoder latents [B,L] → displacements [B,N,3]. kind \"gcn\" is the paper's (defaults: latent 8, hidden 10, 10 layers; as the reference implementation, the first convolution adds no residual (first_residual: true adds it); the convolutions start as PyTorch's Linear, as the PyTorch calibration's GCN (init: \"glorot\" starts them as the reference implementation's GCNConv, Glorot weights and zero bias, which measured far worse here: AdK SNR 0.01, 3.38 against 2.00 Å, README \"Fidelity\")); \"mpnn\" and \"egnn\" (defaults hidden 64, 4 layers) need like: the template structure.",
                    example: "let model = gnn(residue_graph(s), kind: \"gcn\")") { a in
                let graph = try a.graph("graph"), kind = try a.string("kind"), seed = UInt64(bitPattern: Int64(try a.int("seed")))
                switch kind {
                case "gcn":
                    let initialisation = try a.choice("init", GCNDecoder.Initialisation.self)
                    return .object(ModelObject(decoder: try GCNDecoder(graph: graph, latent: try a.int("latent"), hidden: try a.optionalInt("hidden") ?? 10,
                                                                       layers: try a.optionalInt("layers") ?? 10, firstLayerResidual: try a.bool("first_residual"),
                                                                       initialisation: initialisation, seed: seed)))
                case "mpnn", "egnn":
                    guard !a.isNull("like") else { throw ScriptFailure(message: "gnn: kind \"\(kind)\" needs like: the template structure (its coordinates give the edge geometry)") }
                    let template = try a.structure("like")
                    guard template.count == graph.nodes else {
                        throw ScriptFailure(message: "gnn: the graph has \(graph.nodes) nodes but the template \(template.count) atoms")
                    }
                    return .object(ModelObject(decoder: try MessagePassingDecoder(kind: kind, graph: graph, template: template.models[0], latent: try a.int("latent"),
                                                                                 hidden: try a.optionalInt("hidden") ?? 64, layers: try a.optionalInt("layers") ?? 4, seed: seed)))
                default:
                    throw a.fail("kind", "\"gcn\", \"mpnn\" or \"egnn\"", a["kind"])
                }
            },
            builtin("mlp", topic: topic, [optional("sizes", .null), optional("like", .null), optional("act", .string("relu")), optional("seed", .number(0))],
                    doc: "mlp(like: model) is the paper's baseline (Linear(L→w) + ReLU, four blocks Linear(w→w) + ReLU, Linear(w→3N)) with w matching model's parameter count; mlp([in, h, …, out], act:) any shape.",
                    example: "let baseline = mlp(like: model)") { a in
                let seed = UInt64(bitPattern: Int64(try a.int("seed")))
                if !a.isNull("like") {
                    let reference = try a.object("like", as: ModelObject.self, described: "a model")
                    guard let decoder = reference.decoder else { throw ScriptFailure(message: "mlp: like: needs a decoder model (gnn or mlp(like:))") }
                    let width = MLPDecoder.width(matching: reference.parameterCount, latent: decoder.latentDimension, nodes: decoder.nodes)
                    return .object(ModelObject(decoder: try MLPDecoder(latent: decoder.latentDimension, nodes: decoder.nodes, width: width, seed: seed)))
                }
                let sizes = try a.ints("sizes")
                guard sizes.count >= 2, sizes.allSatisfy({ $0 >= 1 }) else { throw a.fail("sizes", "a list of at least two positive layer sizes", a["sizes"]) }
                let activation = try a.string("act")
                guard ["relu", "silu", "tanh", "sigmoid"].contains(activation) else { throw a.fail("act", "\"relu\", \"silu\", \"tanh\" or \"sigmoid\"", a["act"]) }
                var g = SeededGenerator(seed: seed)
                let layers = (0..<(sizes.count - 1)).map { Linear(sizes[$0], sizes[$0 + 1], using: &g) }
                return .object(ModelObject(name: "mlp", parameters: layers.flatMap(\.parameters)) { x in
                    var h = x
                    for (k, layer) in layers.enumerated() {
                        h = try layer(h)
                        if k < layers.count - 1 {
                            switch activation {
                            case "silu": h = h.silu()
                            case "tanh": h = h.tanh()
                            case "sigmoid": h = h.sigmoid()
                            default: h = h.relu()
                            }
                        }
                    }
                    return h
                })
            },
            builtin("linear", topic: topic, [required("input"), required("output"), optional("seed", .number(0))],
                    doc: "A dense layer x·W + b (PyTorch initialisation) as a callable model with .params.",
                    example: "let layer = linear(10, 10, seed: 1); layer(h)") { a in
                var g = SeededGenerator(seed: UInt64(bitPattern: Int64(try a.int("seed"))))
                let layer = Linear(try a.int("input"), try a.int("output"), using: &g)
                return .object(ModelObject(name: "linear", parameters: layer.parameters) { try layer($0) })
            },
        ]
    }

    private static func coordinates(_ a: Arguments) throws -> [Double] {
        if case .object(let o as StructureObject) = a["coords"] { return o.structure.models[0] }
        let t = try a.tensor("coords")
        guard t.rank == 2, t.shape[1] == 3, t.shape[0] >= 2 else { throw a.fail("coords", "coordinates [N,3] with N ≥ 2 or a structure", a["coords"]) }
        return t.storage.map(Double.init)
    }
}
