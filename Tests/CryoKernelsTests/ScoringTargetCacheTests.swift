import XCTest
@testable import CryoKernels

/// The scoring targets pose-marginalised training keeps per image: the same values as targets made afresh, planes
/// added when a search needs them, and nothing kept past the budget.
final class ScoringTargetCacheTests: XCTestCase {
    private let size = 16

    private func dataset() throws -> (images: Tensor, ctf: [CTFParameters], geometry: Projector.Geometry) {
        var g = SeededGenerator(seed: 8)
        let images = Tensor.randn([6, size, size], using: &g)
        let ctf = (0..<6).map { CTFParameters(defocusU: 9000 + 1500 * Double($0), defocusV: 8000 + 1000 * Double($0), astigmatismAngle: 10 * Double($0)) }
        let geometry = try Projector.Geometry(size: size, pixel: 3, sigma: [1.5], weight: [1])
        return (images, ctf, geometry)
    }

    /// Targets made by the cache's `make` for dataset images `picked`, counting the images it is asked for.
    private func targets(_ cache: ScoringTargetCache, _ picked: [Int], planes: Bool, made: inout Int) throws -> CandidateScoring.Targets {
        let (images, ctf, geometry) = try dataset()
        var asked = 0
        let out = try cache.targets(picked, size: size, planes: planes, op: "test") { positions in
            asked += positions.count
            return try CandidateScoring.Targets(images: try images.gather(Tensor(positions.map { Float(picked[$0]) })),
                                                ctf: positions.map { ctf[picked[$0]] }, geometry: geometry, spectra: planes, op: "test")
        }
        made += asked
        return out
    }

    private func assertRowsEqual(_ a: CandidateScoring.Targets.Row, _ b: CandidateScoring.Targets.Row, _ note: String) {
        XCTAssertEqual(a.filtered, b.filtered, note)
        XCTAssertEqual(a.planes, b.planes, note)
        XCTAssertEqual(a.image.dc, b.image.dc, note)
        XCTAssertEqual(a.image.power, b.image.power, note)
        XCTAssertEqual(a.image.squared, b.image.squared, note)
    }

    func testKeptTargetsEqualFreshOnesAndGainPlanesWhenASearchNeedsThem() throws {
        let (images, ctf, geometry) = try dataset()
        let fresh = try CandidateScoring.Targets(images: images, ctf: ctf, geometry: geometry, spectra: true, op: "test")
        let cache = ScoringTargetCache()
        var made = 0
        _ = try targets(cache, [3, 1], planes: false, made: &made)
        XCTAssertEqual(made, 2)
        let second = try targets(cache, [1, 3, 5], planes: true, made: &made)
        XCTAssertEqual(made, 3, "only image 5 is made again; 1 and 3 are kept and gain their planes")
        for (n, i) in [1, 3, 5].enumerated() { assertRowsEqual(second.row(n), fresh.row(i), "image \(i)") }
        let third = try targets(cache, [5, 1], planes: false, made: &made)
        XCTAssertEqual(made, 3, "every image is kept")
        for (n, i) in [5, 1].enumerated() { assertRowsEqual(third.row(n), fresh.row(i), "image \(i) again") }
    }

    func testNothingIsKeptPastTheBudget() throws {
        let cache = ScoringTargetCache(budget: 0)
        var made = 0
        _ = try targets(cache, [0, 2], planes: true, made: &made)
        _ = try targets(cache, [0, 2], planes: true, made: &made)
        XCTAssertEqual(made, 4, "with no budget every visit makes its targets again")
    }
}
