extension Tensor {
    /// The image MSE of known-pose training, fused: mean over every pixel of (self·scale + offset − target)², for
    /// renderings `self` [B,D,D] (any shape), the learnt image `scale` and `offset` (one element each) and the
    /// standardised images `target` (same shape, never differentiated). One pass forward keeps the residual, one
    /// pass backward gives all three cotangents; the composed ops it replaces (`(self * scale + offset - target)`
    /// squared and averaged) taped five nodes and allocated a [B,D,D] tensor at each of about a dozen passes.
    public func scaledSquaredError(scale: Tensor, offset: Tensor, target: Tensor) throws -> Tensor {
        guard scale.count == 1, offset.count == 1 else {
            throw KernelError("image_mse", "the image scale and offset must be one number each, got shapes \(formatShape(scale.shape)) and \(formatShape(offset.shape))")
        }
        guard target.shape == shape, count > 0 else {
            throw KernelError.shape("image_mse", expected: "images of the renderings' shape \(formatShape(shape))", got: target.shape)
        }
        let (s, o, n) = (scale.storage[0], offset.storage[0], count)
        let x = storage
        var total = 0.0
        let residual = [Float](unsafeUninitializedCapacity: n) { rp, initialised in
            x.withUnsafeBufferPointer { xp in target.storage.withUnsafeBufferPointer { yp in
                total = ScaledImageError.residuals(xp.baseAddress!, yp.baseAddress!, scale: s, offset: o, count: n, into: rp.baseAddress!)
            } }
            initialised = n
        }
        let result = Tensor(Float(total / Double(n)))
        Tape.recordIfNeeded(result, inputs: [self, scale, offset]) { g in
            let factor = 2 * g.storage[0] / Float(n)
            var (rx, r) = (0.0, 0.0)
            let dx = [Float](unsafeUninitializedCapacity: n) { dp, initialised in
                x.withUnsafeBufferPointer { xp in residual.withUnsafeBufferPointer { rp in
                    (rx, r) = ScaledImageError.cotangents(xp.baseAddress!, residuals: rp.baseAddress!, factor: factor, scale: s, count: n,
                                                          into: dp.baseAddress!)
                } }
                initialised = n
            }
            return [Tensor(uncheckedShape: self.shape, storage: dx), Tensor(uncheckedShape: scale.shape, storage: [factor * Float(rx)]),
                    Tensor(uncheckedShape: offset.shape, storage: [factor * Float(r)])]
        }
        return result
    }
}

/// The loops of `scaledSquaredError`: eight lanes at a time (SIMD8), each chunk's lanes summed in Float and the
/// chunks added up in Double.
enum ScaledImageError {
    /// Pixels per chunk.
    static let chunk = 1024

    /// Writes r = x·scale + offset − y for `count` pixels into `r`; returns Σ r².
    static func residuals(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, scale: Float, offset: Float, count: Int,
                          into r: UnsafeMutablePointer<Float>) -> Double {
        var total = 0.0
        for start in stride(from: 0, to: count, by: chunk) {
            let end = Swift.min(count, start + chunk)
            var lanes = SIMD8<Float>()
            var k = start
            while k + 8 <= end {
                let v = load(x + k) * scale + offset - load(y + k)
                UnsafeMutableRawPointer(r + k).storeBytes(of: v, as: SIMD8<Float>.self)
                lanes += v * v
                k += 8
            }
            var sum = lanes.sum()
            for j in k..<end {
                let v = x[j] * scale + offset - y[j]
                r[j] = v
                sum += v * v
            }
            total += Double(sum)
        }
        return total
    }

    /// Writes dx = factor·scale·r for `count` pixels into `dx`; returns (Σ r·x, Σ r).
    static func cotangents(_ x: UnsafePointer<Float>, residuals r: UnsafePointer<Float>, factor: Float, scale: Float, count: Int,
                           into dx: UnsafeMutablePointer<Float>) -> (Double, Double) {
        var (rx, rs) = (0.0, 0.0)
        let pixelFactor = factor * scale
        for start in stride(from: 0, to: count, by: chunk) {
            let end = Swift.min(count, start + chunk)
            var (a, b) = (SIMD8<Float>(), SIMD8<Float>())
            var k = start
            while k + 8 <= end {
                let v = load(r + k)
                UnsafeMutableRawPointer(dx + k).storeBytes(of: v * pixelFactor, as: SIMD8<Float>.self)
                a += v * load(x + k)
                b += v
                k += 8
            }
            var (sa, sb) = (a.sum(), b.sum())
            for j in k..<end {
                dx[j] = pixelFactor * r[j]
                sa += r[j] * x[j]
                sb += r[j]
            }
            rx += Double(sa)
            rs += Double(sb)
        }
        return (rx, rs)
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
}
