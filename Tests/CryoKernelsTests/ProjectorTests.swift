import XCTest
@testable import CryoKernels

/// The Gaussian projector against closed forms, its rotation consistency, and its gradients.
final class ProjectorTests: XCTestCase {
    private func geometry(_ n: Int, size: Int = 32, pixel: Float = 1.5, sigma: Float = 1.6, weight: Float = 1) throws -> Projector.Geometry {
        try Projector.Geometry(size: size, pixel: pixel, sigma: [Float](repeating: sigma, count: n), weight: [Float](repeating: weight, count: n))
    }

    func testSingleGaussianMatchesTheAnalyticPixelIntegrals() throws {
        let w: Float = 7.5
        // A window of 11–12 columns (one block) and one of 4–5 at 4 Å/px (a half block).
        for (sigma, pixel) in [(1.6, 1.5), (1.5, 4.0)] {
            let image = try Projector.project(coords: Tensor([0, 0, 0]).reshape([1, 3]), rotations: Rotation.tensor([.identity]),
                                              geometry: geometry(1, pixel: Float(pixel), sigma: Float(sigma), weight: w))
            XCTAssertEqual(Double(image.storage.reduce(0, +)), Double(w), accuracy: 1e-4 * Double(w), "sum equals the weight")
            // Pixel (i, j) holds w·F(i)·F(j), F the normal CDF difference over the pixel (centre at D/2 = 16).
            func F(_ k: Int) -> Double {
                let x = Double(k - 16) * pixel
                return 0.5 * (erf((x + pixel / 2) / (2.0.squareRoot() * sigma)) - erf((x - pixel / 2) / (2.0.squareRoot() * sigma)))
            }
            for (i, j) in [(16, 16), (16, 17), (14, 19), (10, 16), (15, 18)] {
                XCTAssertEqual(Double(image.storage[i * 32 + j]), Double(w) * F(i) * F(j), accuracy: 1e-5, "pixel (\(i), \(j)) at \(pixel) Å/px")
            }
        }
        // For a wide Gaussian the peak approaches the continuous density w·pixel²/(2πσ²).
        let wide = try Projector.project(coords: Tensor([0, 0, 0]).reshape([1, 3]), rotations: Rotation.tensor([.identity]),
                                         geometry: geometry(1, pixel: 0.25, sigma: 2, weight: 1))
        XCTAssertEqual(Double(wide.storage[16 * 32 + 16]), 0.0625 / (2 * .pi * 4), accuracy: 2e-5)
    }

    /// Each atom is drawn on exactly the pixels that meet ±5σ of its centre (pixel j spans [j − 1/2, j + 1/2) pixels
    /// about its centre, the image centre at D/2): no pixel beyond, none missing, at 4 and 1.5 Å/px.
    func testTheWindowIsThePixelsThatMeetFiveSigmas() throws {
        for (pixel, x, y) in [(4.0, 0.9, -2.3), (4.0, -5.1, 6.7), (1.5, 0.2, 1.3)] {
            let sigma = 1.5, size = 32
            let image = try Projector.project(coords: Tensor([Float(x), Float(y), 0]).reshape([1, 3]), rotations: Rotation.tensor([.identity]),
                                              geometry: geometry(1, pixel: Float(pixel), sigma: Float(sigma), weight: 1))
            /// The pixels along one axis that meet the centre's ±5σ.
            func meeting(_ c: Double) -> ClosedRange<Int> {
                let position = c / pixel + Double(size / 2), reach = 5 * sigma / pixel
                let pixels = (0..<size).filter { Double($0) - 0.5 < position + reach && Double($0) + 0.5 > position - reach }
                return pixels.first!...pixels.last!
            }
            let (columns, rows) = (meeting(x), meeting(y))
            for i in 0..<size {
                for j in 0..<size {
                    XCTAssertEqual(image.storage[i * size + j] > 0, rows.contains(i) && columns.contains(j),
                                   "pixel (\(i), \(j)) at \(pixel) Å/px, atom at (\(x), \(y)) Å: window rows \(rows), columns \(columns)")
                }
            }
        }
    }

    func testRotatingTheModelEqualsProjectingWithTheRotation() throws {
        var g = SeededGenerator(seed: 11)
        let coords = Tensor.randn([20, 3], std: 6, using: &g)
        let r = Rotation.random(using: &g)
        var rotated = [Float]()
        for i in 0..<20 {
            let p = r.apply((Double(coords.storage[3 * i]), Double(coords.storage[3 * i + 1]), Double(coords.storage[3 * i + 2])))
            rotated += [Float(p.0), Float(p.1), Float(p.2)]
        }
        let geo = try geometry(20)
        let a = try Projector.project(coords: try Tensor(shape: [20, 3], storage: rotated), rotations: Rotation.tensor([.identity]), geometry: geo)
        let b = try Projector.project(coords: coords, rotations: Rotation.tensor([r]), geometry: geo)
        for (x, y) in zip(a.storage, b.storage) { XCTAssertEqual(x, y, accuracy: 1e-5) }
    }

    /// RELION's origin: a positive rlnOriginXAngst moves the particle towards −x (centre at box centre − origin).
    func testOriginOfOnePixelMovesTheImageTowardsMinusX() throws {
        let coords = try Tensor(shape: [1, 3], storage: [1, -2, 3])
        let geo = try geometry(1)
        let base = try Projector.project(coords: coords, rotations: Rotation.tensor([.identity]), shifts: Tensor.zeros([1, 2]), geometry: geo)
        let moved = try Projector.project(coords: coords, rotations: Rotation.tensor([.identity]), shifts: try Tensor(shape: [1, 2], storage: [1.5, 0]), geometry: geo)
        for i in 0..<32 { for j in 0..<31 { XCTAssertEqual(moved.storage[i * 32 + j], base.storage[i * 32 + j + 1], accuracy: 1e-6) } }
    }

    func testBadInputsThrow() throws {
        let geo = try geometry(2)
        XCTAssertThrowsError(try Projector.project(coords: Tensor.zeros([3, 3]), rotations: Rotation.tensor([.identity]), geometry: geo))
        XCTAssertThrowsError(try Projector.project(coords: Tensor.zeros([2, 2]), rotations: Rotation.tensor([.identity]), geometry: geo))
        XCTAssertThrowsError(try Projector.project(coords: Tensor.zeros([2, 3]), rotations: Tensor.zeros([1, 2, 3]), geometry: geo))
        XCTAssertThrowsError(try Projector.project(coords: Tensor.zeros([3, 2, 3]), rotations: Rotation.tensor([.identity]), geometry: geo))
        XCTAssertThrowsError(try Projector.Geometry(size: 0, pixel: 1, sigma: [1], weight: [1]))
        XCTAssertThrowsError(try Projector.Geometry(size: 8, pixel: 1, sigma: [0], weight: [1]))
    }

    func testEveryInstructionSetRendersAndDifferentiatesAlike() throws {
        defer { InstructionSet.limit(.avx512) }
        var g = SeededGenerator(seed: 21)
        // Windows from 5 to 45 pixels wide: a half block, one, two and three blocks, clipped at the image border.
        let sigma = (0..<40).map { _ in Float(0.2 + 3.8 * g.uniform()) }
        let geo = try Projector.Geometry(size: 40, pixel: 0.8, sigma: sigma, weight: sigma.map { $0 * 2 })
        let coords = Tensor.randn([3, 40, 3], std: 8, using: &g)
        let rotations = Rotation.tensor((0..<3).map { _ in Rotation.random(using: &g) })
        let cotangent = Tensor.randn([3, 40, 40], using: &g)
        var reference: (Tensor, Tensor)?
        for isa in InstructionSet.allCases where isa <= InstructionSet.supported {
            InstructionSet.limit(isa)
            let x = Tensor(uncheckedShape: coords.shape, storage: coords.storage).asParameter()
            var images = Tensor.zeros([1])
            let (_, grads) = try valueAndGradient(wrt: [x]) {
                images = try Projector.project(coords: x, rotations: rotations, geometry: geo)
                return try (images * cotangent).sum()
            }
            guard let (firstImages, firstGrad) = reference else { reference = (images, grads[0]); continue }
            for (a, b) in zip(images.storage, firstImages.storage) { XCTAssertEqual(a, b, accuracy: 1e-5, isa.name) }
            for (a, b) in zip(grads[0].storage, firstGrad.storage) { XCTAssertEqual(a, b, accuracy: 1e-4, isa.name) }
        }
    }

    /// Centring by RELION's origin (moving the image by +origin) undoes the origin the projector drew it with.
    func testCentringByTheOriginUndoesIt() throws {
        let geo = try geometry(2, size: 32, pixel: 1.5, sigma: 2.5)
        let coords = try Tensor(shape: [2, 3], storage: [1, -2, 3, -4, 2, 0])
        let rotations = Rotation.tensor([.identity, .identity])
        let centred = try Projector.project(coords: coords, rotations: rotations, shifts: Tensor.zeros([2, 2]), geometry: geo)
        let origins: [Float] = [4.5, -3, -6, 1.5]
        let offset = try Projector.project(coords: coords, rotations: rotations, shifts: Tensor(shape: [2, 2], storage: origins), geometry: geo)
        let back = try ImageCentring.centre(offset, origins: origins, pixel: 1.5)
        let peak = centred.storage.map(abs).max() ?? 1
        for (a, b) in zip(back.storage, centred.storage) { XCTAssertEqual(a, b, accuracy: 1e-3 * peak) }
        XCTAssertThrowsError(try ImageCentring.centre(offset, origins: [1], pixel: 1.5))
    }
}
