import Foundation

/// Each state's density map on one grid (`state_NN.mrc`, the states' Gaussian atoms as the forward model renders
/// them) and, when the grid is a consensus map's, each map's Fourier shell correlation with that map: the map-model
/// FSC a structural biologist reads to see whether the states sit where the particles' own reconstruction does.
public struct StateMaps: Sendable {
    /// The grid: voxels along x, y, z, their size (Å) and the position (Å) of voxel 0.
    public let size: [Int], spacing: [Float], origin: [Float]
    /// Per-atom widths (Å) and weights of the rendering.
    public let sigma: [Float], weight: [Float]
    /// The map the states are correlated with (nil: none; then no FSC).
    public let consensus: DensityMap?

    /// State maps on the grid of `size` voxels of `spacing` Å from `origin` (Å of voxel 0), correlated with
    /// `consensus` when one is given, which must lie on that grid.
    public init(size: [Int], spacing: [Float], origin: [Float], sigma: [Float], weight: [Float], consensus: DensityMap?) throws {
        try DensityMap.checkGrid(size: size, spacing: spacing, origin: origin, op: "analyze")
        if let consensus, consensus.size != size || consensus.spacing != spacing || consensus.origin != origin {
            throw KernelError("analyze", "the consensus map's grid (\(consensus.size) voxels of \(consensus.spacing) Å from \(consensus.origin)) is not the state maps' grid")
        }
        (self.size, self.spacing, self.origin) = (size, spacing, origin)
        (self.sigma, self.weight, self.consensus) = (sigma, weight, consensus)
    }

    /// What `write` wrote: each state's map file and, with a consensus map, its resolution at FSC 0.5 (Å; nil where
    /// the curve never falls below 0.5) and the plot of the curves.
    public struct Written: Sendable {
        public var files: [String] = []
        public var resolutions: [Float?]?
        public var plot: String?
    }

    /// Writes `state_01.mrc`, … for `states` (3N Å each, in the consensus map's frame) into `directory`, and with a
    /// consensus map, `state_fsc.png`.
    public func write(states: [[Double]], directory: String) throws -> Written {
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        var written = Written()
        var curves: [(Int, FourierShellCorrelation)] = []
        let consensusSpectrum = try consensus.map { try FourierShellCorrelation.Spectrum($0, op: "analyze") }
        for (s, state) in states.enumerated() {
            let map = try DensityMap.render(coordinates: state.map(Float.init), sigma: sigma, weight: weight, size: size, spacing: spacing, origin: origin)
            let file = path(String(format: "state_%02d.mrc", s + 1))
            try MRCFile.write(file, map: map, op: "analyze")
            written.files.append(file)
            if let consensusSpectrum {
                curves.append((s, try FourierShellCorrelation(try FourierShellCorrelation.Spectrum(map, op: "analyze"), consensusSpectrum, op: "analyze")))
            }
        }
        guard !curves.isEmpty else { return written }
        written.resolutions = curves.map { $0.1.resolution(at: 0.5) }
        try FSCPlot.write(path("state_fsc.png"), curves: curves.map { ("state \($0.0 + 1)", $0.1) }, threshold: 0.5,
                          title: "FSC of each state against the consensus map")
        written.plot = path("state_fsc.png")
        return written
    }
}
