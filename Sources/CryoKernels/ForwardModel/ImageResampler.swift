import CBLAS
import Foundation

/// Resamples particle images from one pixel size and box to another by band-limited (Fourier) interpolation,
/// so that optics groups with different pixels or boxes share one grid, and large boxes are read at a small one.
///
/// Along each axis the output is y = A·x with A[m, n] = (p/pₛ)·h(xₘ − xₙ): h is the Dirichlet kernel of the
/// source box (the inverse DFT of the source spectrum, kept up to the lower of the two Nyquist frequencies,
/// the Nyquist term counted once), xₙ = (n − B/2)·pₛ and xₘ = (m − D/2)·p are pixel centres relative to the box
/// centre (RELION's convention), and the factor p/pₛ per axis keeps each image's integrated density, as
/// `FourierFilter.downsample` does. Where p·D = pₛ·B this is exactly that Fourier crop (or pad); output pixels
/// outside the source box are zero (real-space padding). An image is Aₓ·X·Aᵧᵀ: two small products per image.
/// An optional soft circular mask (radius in Å, a raised-cosine edge 5 output pixels wide) is applied after.
public struct ImageResampler: Sendable {
    /// Source and target box (pixels) and pixel size (Å).
    public let sourceSize: Int, sourcePixel: Float, targetSize: Int, targetPixel: Float
    /// Mask radius in Å (nil: no mask).
    public let maskRadius: Float?
    /// A [targetSize, sourceSize], row-major.
    private let matrix: [Float]
    private let mask: [Float]?

    /// Width of the mask's raised-cosine edge in output pixels.
    public static let maskEdgePixels: Float = 5

    public init(from sourceSize: Int, pixel sourcePixel: Float, to targetSize: Int, pixel targetPixel: Float, maskRadius: Float? = nil) {
        self.sourceSize = sourceSize
        self.sourcePixel = sourcePixel
        self.targetSize = targetSize
        self.targetPixel = targetPixel
        self.maskRadius = maskRadius
        let (b, d) = (sourceSize, targetSize)
        let extent = Double(b) * Double(sourcePixel)
        let bound = Swift.min(Double(b) / 2, extent / (2 * Double(targetPixel)))
        let kmax = Int((bound + 1e-6).rounded(.down))
        let nyquistOnce = abs(Double(kmax) - bound) < 1e-6
        let scale = Double(targetPixel) / Double(sourcePixel)
        var a = [Float](repeating: 0, count: d * b)
        for m in 0..<d {
            let xm = Double(m - d / 2) * Double(targetPixel)
            guard abs(xm) <= extent / 2 else { continue }
            for n in 0..<b {
                let t = xm - Double(n - b / 2) * Double(sourcePixel)
                var h = 1.0
                if kmax >= 1 {
                    for k in 1...kmax { h += (k == kmax && nyquistOnce ? 1 : 2) * cos(2 * Double.pi * Double(k) * t / extent) }
                }
                a[m * b + n] = Float(scale * h / Double(b))
            }
        }
        matrix = a
        if let radius = maskRadius {
            let edge = ImageResampler.maskEdgePixels * targetPixel
            mask = (0..<(d * d)).map { k in
                let (i, j) = (k / d - d / 2, k % d - d / 2)
                let r = (Float(i * i + j * j)).squareRoot() * targetPixel
                return r <= radius ? 1 : (r >= radius + edge ? 0 : 0.5 * (1 + cosf(.pi * (r - radius) / edge)))
            }
        } else {
            mask = nil
        }
    }

    /// Whether the resampler leaves images unchanged.
    public var isIdentity: Bool { sourceSize == targetSize && sourcePixel == targetPixel && maskRadius == nil }

    /// `count` source images (count·B² values, row-major) → count·D² values.
    public func apply(_ images: [Float], count: Int) -> [Float] {
        if isIdentity { return images }
        let (b, d) = (sourceSize, targetSize)
        var rows = [Float](repeating: 0, count: count * b * d)      // X·Aᵀ for every image: [count·B, D]
        var out = [Float](repeating: 0, count: count * d * d)
        matrix.withUnsafeBufferPointer { a in images.withUnsafeBufferPointer { x in rows.withUnsafeMutableBufferPointer { t in
            out.withUnsafeMutableBufferPointer { y in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(count * b), blasint(d), blasint(b), 1,
                            x.baseAddress, blasint(b), a.baseAddress, blasint(b), 0, t.baseAddress, blasint(d))
                let (tBase, yBase) = (SharedPointer(base: t.baseAddress!), SharedPointer(base: y.baseAddress!))
                Parallel.forRanges(count, grain: 4) { range in
                    for image in range {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(d), blasint(d), blasint(b), 1,
                                    a.baseAddress, blasint(b), tBase.base + image * b * d, blasint(d), 0, yBase.base + image * d * d, blasint(d))
                    }
                }
            }
        } } }
        if let mask {
            for image in 0..<count { for k in 0..<(d * d) { out[image * d * d + k] *= mask[k] } }
        }
        return out
    }
}
