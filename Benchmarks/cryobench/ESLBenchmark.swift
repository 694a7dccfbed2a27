import CryoKernels

/// ESL scoring: B = 32 images against the 14,761-rotation grid for N = 214 residues at D = 64 — the loss table,
/// the sparse measures and their barycentres — and the same images by coarse-to-fine ESL with every rotation scored at
/// its best in-plane shift within 10 Å (`PoseEstimator` with a `ShiftSearch`: one inverse FFT per image and rotation).
enum ESLBenchmark {
    static func run() throws -> [(String, Double)] {
        var g = SeededGenerator(seed: 11)
        let atoms = 214, batch = 32
        let coords = (0..<(3 * atoms)).map { _ in g.normal() * 12 }
        let geometry = try Projector.Geometry(size: 64, pixel: 2, sigma: [Float](repeating: 1.5, count: atoms), weight: [Float](repeating: 1, count: atoms))
        let images = Tensor.randn([batch, 64, 64], using: &g)
        let ctf = (0..<batch).map { _ in CTFParameters(defocusU: 10000 + 15000 * g.uniform()) }
        let grid = try SO3Grid.level(1).rotations
        let lifting = try SupportLifting()
        let ms = try medianMilliseconds(repeats: 3, warmup: 1) {
            let losses = try PoseScoring.losses(images: images, coords: coords, geometry: geometry, ctf: ctf, grid: grid)
            _ = PoseScoring.estimate(losses: losses, batch: batch, grid: grid, lifting: lifting)
        }
        print("esl_score_B32_Q14761_N214_D64_ms", ms)
        let estimator = try PoseEstimator(level: 1, keep: 16, lifting: lifting, search: try ShiftSearch(size: 64, pixel: 2, maxShift: 10))
        let shifted = try medianMilliseconds(repeats: 3, warmup: 1) {
            _ = try estimator.estimate(rows: Array(0..<batch), images: { _ in images }, structures: [coords], assignment: [Int](repeating: 0, count: batch),
                                       geometry: geometry, ctf: { ctf[$0] }, origins: nil)
        }
        print("esl_coarse_to_fine_shift_search_B32_N214_D64_ms", shifted)
        return [("esl_score_B32_Q14761_N214_D64_ms", ms), ("esl_coarse_to_fine_shift_search_B32_N214_D64_ms", shifted)]
    }
}
