import Foundation

/// Gaussian atoms rendered by sampling their projected density at pixel centres, not integrating it over each
/// pixel as `Projector` does: atom n contributes wₙ·p²/(2πσₙ²)·exp(−|u − c'|²/(2σₙ²)) to the pixel centred at u
/// (pixel p Å, so an atom well inside the image still sums to about wₙ), with c' and the pixel grid as in
/// `Projector`. This is how many simulators (and the PyTorch calibration in Docs/METHOD.md) draw particles; it keeps
/// more high-frequency signal than the pixel integral. Forward only: simulation, not training.
public enum PointSampledProjection {
    /// Images [B,D,D] of `coords` [B,N,3] (Å) under `rotations` [B,3,3], each drawn at box centre − its origin
    /// in `shifts` (B×2 values in Å, RELION's origins).
    public static func render(coords: Tensor, rotations: [Rotation], shifts: [Float], geometry: Projector.Geometry) throws -> Tensor {
        guard coords.rank == 3, coords.shape[2] == 3, coords.shape[0] == rotations.count, shifts.count == 2 * rotations.count else {
            throw KernelError.shape("project", expected: "coords [B,N,3] with B rotations and B shifts", got: coords.shape)
        }
        let (batch, atoms, d) = (coords.shape[0], coords.shape[1], geometry.size)
        guard geometry.sigma.count == atoms else { throw KernelError("project", "got \(geometry.sigma.count) atom widths for \(atoms) atoms") }
        let pixel = Double(geometry.pixel), half = Double(d / 2)
        var out = [Float](repeating: 0, count: batch * d * d)
        /// The pixel indices within `reach` Å of `centre` along one axis (empty when the window misses the image).
        func window(_ centre: Double, _ reach: Double) -> Range<Int> {
            let low = Swift.max(0, Int(((centre - reach) / pixel + half).rounded(.up)))
            let high = Swift.min(d - 1, Int(((centre + reach) / pixel + half).rounded(.down)))
            return low <= high ? low..<(high + 1) : 0..<0
        }
        out.withUnsafeMutableBufferPointer { buffer in
            let images = buffer.baseAddress!
            Parallel.forRanges(batch, grain: 1) { range in
                for b in range {
                    var image = [Double](repeating: 0, count: d * d)
                    for n in 0..<atoms {
                        let base = (b * atoms + n) * 3
                        let (x, y, _) = rotations[b].apply((Double(coords.storage[base]), Double(coords.storage[base + 1]), Double(coords.storage[base + 2])))
                        let cx = x - Double(shifts[2 * b]), cy = y - Double(shifts[2 * b + 1])
                        let sigma = Double(geometry.sigma[n]), reach = Double(Projector.windowSigmas) * sigma
                        let amplitude = Double(geometry.weight[n]) * pixel * pixel / (2 * Double.pi * sigma * sigma)
                        let columns = window(cx, reach), rows = window(cy, reach)
                        let fx = columns.map { j -> Double in let u = (Double(j) - half) * pixel - cx; return exp(-u * u / (2 * sigma * sigma)) }
                        for i in rows {
                            let v = (Double(i) - half) * pixel - cy
                            let fy = amplitude * exp(-v * v / (2 * sigma * sigma))
                            for (k, j) in columns.enumerated() { image[i * d + j] += fy * fx[k] }
                        }
                    }
                    for p in 0..<(d * d) { images[b * d * d + p] = Float(image[p]) }
                }
            }
        }
        return Tensor(uncheckedShape: [batch, d, d], storage: out)
    }
}
