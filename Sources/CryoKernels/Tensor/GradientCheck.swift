/// Finite-difference verification of the tape's gradients, reusable by any test or script.
///
/// The checked function's output is contracted with fixed random weights, so every output element gets a
/// different cotangent; the numerical derivative is a central difference with the contraction summed in Double.
public enum GradientCheck {
    /// The worst disagreement found, and whether it lies within tolerance.
    public struct Report: CustomStringConvertible, Sendable {
        /// Largest |analytic − numeric| over all checked elements.
        public let maxAbsoluteError: Double
        /// That error divided by max(1, |numeric|) at the same element.
        public let maxScaledError: Double
        /// True when every element satisfied |a − n| ≤ tolerance·max(1, |n|).
        public let passed: Bool
        /// The ops `f` recorded, whose VJPs the analytic gradient went through (see `RecordingSite`).
        public let sites: Set<RecordingSite>
        public var description: String {
            "max abs error \(maxAbsoluteError), max scaled error \(maxScaledError): \(passed ? "ok" : "FAILED")"
        }
    }

    /// Compares the tape's gradient of `f` at `inputs` with central differences of step `epsilon`.
    /// `inputs` are not modified; `f` must be deterministic.
    public static func check(_ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Double = 1e-2, seed: UInt64 = 7,
                             _ f: ([Tensor]) throws -> Tensor) throws -> Report {
        let leaves = inputs.map { Tensor(uncheckedShape: $0.shape, storage: $0.storage).asParameter() }
        let probe = try f(leaves.map { $0.detached() })
        var generator = SeededGenerator(seed: seed)
        let weights = Tensor.uniform(probe.shape, low: 0.5, high: 1.5, using: &generator)
        var recordedByF = 0   // the nodes f recorded come first; the contraction's follow
        let (value, tape) = try Tape.record { () -> Tensor in
            let out = try f(leaves)
            recordedByF = Tape.active?.nodeCount ?? 0
            return try (out * weights).sum()
        }
        let analytic = try tape.gradients(of: value, wrt: leaves)

        func contracted(_ xs: [Tensor]) throws -> Double {
            let out = try f(xs)
            var s = 0.0
            for (o, w) in zip(out.storage, weights.storage) { s += Double(o) * Double(w) }
            return s
        }
        var worstAbs = 0.0, worstScaled = 0.0
        for (i, input) in inputs.enumerated() {
            for j in 0..<input.count {
                let plus = inputs.map { $0.detached() }, minus = inputs.map { $0.detached() }
                plus[i].storage[j] += epsilon
                minus[i].storage[j] -= epsilon
                let h = Double(plus[i].storage[j]) - Double(minus[i].storage[j])
                let numeric = (try contracted(plus) - contracted(minus)) / h
                let diff = Swift.abs(Double(analytic[i].storage[j]) - numeric)
                worstAbs = Swift.max(worstAbs, diff)
                worstScaled = Swift.max(worstScaled, diff / Swift.max(1, Swift.abs(numeric)))
            }
        }
        return Report(maxAbsoluteError: worstAbs, maxScaledError: worstScaled, passed: worstScaled <= tolerance,
                      sites: Set(tape.nodes.prefix(recordedByF).compactMap(\.site)))
    }
}
