import Foundation

/// Translating particle images so that each particle sits at the box centre, as RELION's refinement does with
/// its origins: image b is moved by +(originX, originY) (Å), undoing the offset of a particle drawn at box centre
/// − origin. The shift is a Fourier phase ramp, exact for band-limited images (periodic at the box edge).
public enum ImageCentring {
    /// `images` [B,D,D] moved by `origins` ([B·2] Å, x then y) at `pixel` Å.
    public static func centre(_ images: Tensor, origins: [Float], pixel: Float) throws -> Tensor {
        let (batch, d) = try FourierFilter.imageBatch(images, op: "centre_images")
        guard origins.count == 2 * batch else { throw KernelError("centre_images", "got \(origins.count / 2) origins for \(batch) images") }
        if origins.allSatisfy({ $0 == 0 }) { return images }
        let columns = d / 2 + 1, scale = 1 / Float(d * d)
        var out = [Float](repeating: 0, count: images.count)
        images.storage.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                let result = SharedPointer(base: o.baseAddress!)
                FFT.shared.forwardEach(x.baseAddress!, count: batch, size: d) { b, w in
                    let (tx, ty) = (Double(origins[2 * b]), Double(origins[2 * b + 1]))
                    for i in 0..<d { for j in 0..<columns {
                        let (sx, sy) = frequency(row: i, column: j, size: d, pixel: pixel)
                        // Moving by +t multiplies the spectrum by exp(−2πi s·t).
                        let phase = -2 * Double.pi * (Double(sx) * tx + Double(sy) * ty)
                        let (c, s) = (Float(cos(phase)), Float(sin(phase)))
                        let k = i * columns + j
                        let (re, im) = (w.spectrum[k].0, w.spectrum[k].1)
                        w.spectrum[k].0 = (re * c - im * s) * scale
                        w.spectrum[k].1 = (re * s + im * c) * scale
                    } }
                    FFT.shared.inverse(w)
                    (result.base + b * d * d).update(from: w.real, count: d * d)
                }
            }
        }
        return Tensor(uncheckedShape: images.shape, storage: out)
    }
}
