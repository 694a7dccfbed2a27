/// Graph variants for research, built on a spatial grid: k nearest neighbours, radius, and the union of a
/// sequence window with either. Edges point from neighbour (src) to centre (dst).
public enum NeighbourGraphs {
    /// Each node receives edges from its k nearest other nodes (directed; kind 2).
    public static func knn(_ coords: [Double], k: Int) throws -> ResidueGraph {
        let n = coords.count / 3
        guard k >= 1 else { throw KernelError("knn_graph", "k must be at least 1, got \(k)") }
        let grid = SpatialGrid(points: coords, cell: 8)
        var src: [Int32] = [], dst: [Int32] = []
        for i in 0..<n { for j in grid.nearest(k, to: i) { src.append(Int32(j)); dst.append(Int32(i)) } }
        return ResidueGraph(nodes: n, directedSources: src, destinations: dst, kind: 2)
    }

    /// Undirected edges between nodes closer than `cutoff` Å (kind 2).
    public static func radius(_ coords: [Double], cutoff: Double) throws -> ResidueGraph {
        guard cutoff > 0 else { throw KernelError("radius_graph", "cutoff must be positive, got \(cutoff)") }
        let n = coords.count / 3
        let grid = SpatialGrid(points: coords, cell: cutoff)
        var pairs: [(Int, Int, Int8)] = []
        for i in 0..<n { for j in grid.neighbours(of: i, within: cutoff) where j > i { pairs.append((i, j, 2)) } }
        return ResidueGraph(nodes: n, pairs: pairs, hydrogenBondMethod: "none")
    }

    /// Sequence neighbours within `window` (|i − j| ≤ window; peptide kind for |i − j| = 1) united with a
    /// k-NN graph (k > 0) and a radius graph (cutoff > 0).
    public static func backbone(_ coords: [Double], knn k: Int, window: Int, cutoff: Double) throws -> ResidueGraph {
        let n = coords.count / 3
        var pairs: [(Int, Int, Int8)] = []
        for i in 0..<n { for d in 1...Swift.max(1, window) where i + d < n && window >= 1 { pairs.append((i, i + d, d == 1 ? 0 : 2)) } }
        if k > 0 {
            let g = try knn(coords, k: k)
            for e in 0..<g.src.count { pairs.append((Int(g.src[e]), Int(g.dst[e]), 2)) }
        }
        if cutoff > 0 {
            let g = try radius(coords, cutoff: cutoff)
            for e in 0..<g.src.count where g.src[e] < g.dst[e] { pairs.append((Int(g.src[e]), Int(g.dst[e]), 2)) }
        }
        return ResidueGraph(nodes: n, pairs: pairs, hydrogenBondMethod: "none")
    }
}

extension ResidueGraph {
    /// A graph of directed edges as given (k-NN graphs are not symmetric).
    init(nodes: Int, directedSources: [Int32], destinations: [Int32], kind: Int8) {
        self.init(nodes: nodes, src: directedSources, dst: destinations, kind: [Int8](repeating: kind, count: directedSources.count), method: "none")
    }
}
