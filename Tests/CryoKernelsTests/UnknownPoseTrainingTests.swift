import XCTest
@testable import CryoKernels

/// Pose-marginalised training with unknown shifts, local refinement, re-search rounds and the local phase: the
/// histories are recorded, the poses improve on the template search, a refined pose takes its image's worst-scored
/// candidate slot, and a run resumes bit-identically with its poses.
final class UnknownPoseTrainingTests: XCTestCase {
    /// The first 64 images of `TrainingTests.problem()`'s data with origins of std 3 Å (at 3 Å/px), and an ESL trainer whose candidates come
    /// from a shift-searching coarse-to-fine search against the template, as `train_autodecoder(poses: "esl",
    /// max_shift:)` sets it up.
    private func trainer(epochs: Int, research: Int?, centroids: Int = 0, local: Int? = nil, localPoses: LocalCandidates.Poses = .esl,
                         halfSize: Bool = false, checkpoint: String? = nil, resume: String? = nil) throws
        -> (AutodecoderTrainer, initialPoseError: Double, initialShiftError: Double) {
        let (s, all, allTruth, geometry) = try TrainingTests.problem()
        var data = try all.subset(Array(0..<64))
        let truth = Array(allTruth.prefix(64))
        var g = SeededGenerator(seed: 8)
        data.shifts = (0..<(2 * data.count)).map { _ in Float(g.normal() * 3) }
        // The images re-rendered at those origins: the same particles, moved.
        data.images = try ImageCentring.centre(try data.imageRows(Array(0..<data.count)), origins: data.shifts.map { -$0 }, pixel: data.pixel)
        let search = try ShiftSearch(size: data.size, pixel: data.pixel, maxShift: 9)
        let estimator = try PoseEstimator(level: 1, keep: 8, lifting: try SupportLifting(), search: search)
        let template = AutodecoderTrainer.placed(s.models[0], centre: nil)
        let found = try estimator.estimate(rows: Array(0..<data.count), images: { try data.imageRows($0) }, structures: [template],
                                           assignment: [Int](repeating: 0, count: data.count), geometry: geometry, ctf: { data.ctf[$0] }, origins: nil)
        let k = 12
        var unknown = try UnknownPoses(candidates: found.candidates.flatMap { $0.prefix(k) }, perImage: k, images: data.count,
                                       lifting: try SupportLifting(), gridSize: SO3Grid.sizes[1], truth: data.rotations)
        unknown.truthOrigins = data.shifts
        unknown.search = search
        unknown.refinement = try PoseRefinement(steps: 2, rotations: true, origins: true, shiftBound: 9)
        unknown.research = try research.map { try CandidateResearch(interval: $0, centroids: centroids, estimator: estimator) }
        unknown.local = try local.map { try LocalCandidates(start: $0, spacing: SO3Grid.mesh[1] / 2 * .pi / 180) }
        unknown.local?.poses = localPoses
        unknown.halfSizeGlobalPhase = halfSize
        let poseErrors = zip(found.estimates, data.rotations).map { $0.rotation.angle(to: $1) }
        let shiftErrors = (0..<data.count).map { i -> Double in
            let (x, y) = (found.estimates[i].origin.x, found.estimates[i].origin.y)
            return hypot(x - Double(data.shifts[2 * i]), y - Double(data.shifts[2 * i + 1]))
        }
        data.rotations = found.estimates.map(\.rotation)
        data.shifts = found.estimates.flatMap { [Float($0.origin.x), Float($0.origin.y)] }
        let trainer = try TrainingTests.trainer(s, data, truth, geometry, epochs: epochs, checkpoint: checkpoint, resume: resume,
                                                unknownPoses: unknown)
        return (trainer, ReconstructionMetrics.percentile(poseErrors, 50), ReconstructionMetrics.percentile(shiftErrors, 50))
    }

    func testShiftsAreFoundAndPosesImproveWithRefinementAndResearch() throws {
        let (trainer, initialPose, initialShift) = try trainer(epochs: 3, research: 2)
        let result = try trainer.run(report: { _ in }, shouldContinue: { true })
        print("unknown poses and shifts: pose error median \(initialPose)° → \(result.poseErrorMedian), shift error median \(initialShift) Å → \(result.shiftErrorMedian)")
        XCTAssertEqual(result.poseErrorMedian.count, 3)
        XCTAssertEqual(result.shiftErrorP90.count, 3)
        // Origins of std 3 Å (about 4 Å from the centre on average) are found to within a pixel (3 Å), and the
        // poses end no worse than the template search left them.
        XCTAssertLessThan(initialShift, 3)
        XCTAssertLessThan(try XCTUnwrap(result.shiftErrorMedian.last), 3)
        XCTAssertLessThan(try XCTUnwrap(result.poseErrorMedian.last), initialPose + 1)
        XCTAssertEqual(result.origins?.count, 128)
        XCTAssertEqual(result.poses?.count, 64)
    }

    func testRefinedPoseTakesTheWorstScoredCandidateSlot() throws {
        let trainer = try trainer(epochs: 1, research: nil).0
        let state = try trainer.start()
        let picked = Array(0..<16), k = state.poses.perImage
        let unknown = try XCTUnwrap(trainer.settings.unknownPoses)
        let before = state.poses.candidates
        // The scores the step sees: the conformations before its update, every candidate at its best shift.
        let coords = try trainer.conformations(try state.latents.gather(Tensor(picked.map(Float.init))))
        let (losses, _) = try CandidateScoring.scored(coords: coords, images: try trainer.targets(picked), rotations: picked.flatMap { before[($0 * k)..<(($0 + 1) * k)] },
                                                      shifts: [Float](repeating: 0, count: 32), ctf: picked.map { trainer.dataset.ctf[$0] },
                                                      geometry: trainer.geometry, search: unknown.search)
        let worst = UnknownPoses.worst(losses)
        _ = try trainer.step(state, images: picked)
        for (n, i) in picked.enumerated() {
            for q in 0..<k {
                let slot = i * k + q
                if q == worst[n] {
                    XCTAssertEqual(state.poses.candidates[slot].m, state.poses.rotations[i].m, "image \(i): the refined pose is not in its worst slot")
                } else {
                    XCTAssertEqual(state.poses.candidates[slot].m, before[slot].m, "image \(i): candidate \(q) changed")
                }
            }
            XCTAssertGreaterThan(losses.storage[n * k + worst[n]], try XCTUnwrap(losses.storage[(n * k)..<((n + 1) * k)].min()))
        }
    }

    func testLocalCandidatesSurroundThePose() throws {
        let delta = 4.2 * Double.pi / 180
        let local = try LocalCandidates(start: 0, spacing: delta)
        let pose = Rotation.exp((0.3, -1.1, 0.7))
        let set = local.around(pose)
        XCTAssertEqual(set.count, LocalCandidates.count)
        XCTAssertEqual(set[0].m, pose.m)
        for r in set.dropFirst() { XCTAssertEqual(r.angle(to: pose), delta * 180 / .pi, accuracy: 1e-9) }
        // Opposite neighbours are 2δ apart; neighbours on different axes θ with cos(θ/2) = cos²(δ/2) (quaternions).
        XCTAssertEqual(set[1].angle(to: set[2]), 2 * delta * 180 / .pi, accuracy: 1e-9)
        XCTAssertEqual(set[1].angle(to: set[3]), 2 * acos(cos(delta / 2) * cos(delta / 2)) * 180 / .pi, accuracy: 1e-6)
        XCTAssertFalse(local.isActive(epoch: -1))
        XCTAssertTrue(local.isActive(epoch: 0))
        XCTAssertThrowsError(try LocalCandidates(start: -1, spacing: delta))
        XCTAssertThrowsError(try LocalCandidates(start: 0, spacing: 0))
    }

    func testLocalPhaseKeepsImprovingAndResumesBitIdentically() throws {
        let (make, initialPose, _) = try trainer(epochs: 4, research: 2, local: 3)
        let straight = try make.run(report: { _ in }, shouldContinue: { true })
        print("local phase from epoch 4: pose error median \(initialPose)° → \(straight.poseErrorMedian), shift error median → \(straight.shiftErrorMedian)")
        XCTAssertLessThan(try XCTUnwrap(straight.poseErrorMedian.last), initialPose + 1)
        XCTAssertLessThan(try XCTUnwrap(straight.shiftErrorMedian.last), 3)
        // Interrupted in the middle of the fourth epoch, the first of the local phase.
        try assertResumesBitIdentically(straight, interruptedAfter: 15) {
            try self.trainer(epochs: 4, research: 2, local: 3, checkpoint: $0, resume: $1).0
        }
    }

    /// local_poses: "fixed" holds the poses and origins through the local phase (the last epoch's errors equal the
    /// epoch's before), "refine" moves them; both resume bit-identically.
    func testLocalPhaseWithThePoseAloneFixedOrRefined() throws {
        for mode in [LocalCandidates.Poses.fixed, .refine] {
            let straight = try trainer(epochs: 4, research: 2, local: 3, localPoses: mode, halfSize: true).0.run(report: { _ in }, shouldContinue: { true })
            print("local phase (\(mode.rawValue)) from epoch 4: pose error median \(straight.poseErrorMedian), shift error median \(straight.shiftErrorMedian)")
            let (pose, shift) = (straight.poseErrorMedian, straight.shiftErrorMedian)
            if mode == .fixed {
                XCTAssertEqual(pose[3], pose[2])
                XCTAssertEqual(shift[3], shift[2])
            } else {
                XCTAssertNotEqual(pose[3], pose[2])
            }
            try assertResumesBitIdentically(straight, interruptedAfter: 15) {
                try self.trainer(epochs: 4, research: 2, local: 3, localPoses: mode, halfSize: true, checkpoint: $0, resume: $1).0
            }
        }
    }

    /// With the pose alone the data term is the loss there, L = 2 − 2·corr at the image's pose and origin.
    func testLocalPhaseWithThePoseAloneScoresThePose() throws {
        let make = try trainer(epochs: 1, research: nil, local: 0, localPoses: .refine).0
        let state = try make.start()
        let picked = Array(0..<8)
        let unknown = try XCTUnwrap(make.settings.unknownPoses)
        let coords = try make.conformations(try state.latents.gather(Tensor(picked.map(Float.init))))
        let ctf = picked.map { make.dataset.ctf[$0] }
        var poses = state.poses
        poses.local = true
        let origins = picked.flatMap { [poses.origins[2 * $0], poses.origins[2 * $0 + 1]] }
        let expected = try CandidateScoring.losses(coords: coords, images: try make.targets(picked), rotations: picked.map { poses.rotations[$0] },
                                                   shifts: origins, ctf: ctf, geometry: make.geometry).mean()
        let term = try unknown.dataTerm(picked: picked, coords: coords, images: try make.targets(picked), poses: &poses, ctf: ctf, geometry: make.geometry)
        XCTAssertEqual(term.storage[0], expected.storage[0], accuracy: 1e-6)
        XCTAssertNotEqual(picked.map { poses.rotations[$0].m }, picked.map { state.poses.rotations[$0].m }, "refinement moved no pose")
    }

    func testHalfSizeGlobalPhaseThenFullSizeLocalPhase() throws {
        let (make, initialPose, initialShift) = try trainer(epochs: 4, research: 2, local: 3, halfSize: true)
        let straight = try make.run(report: { _ in }, shouldContinue: { true })
        print("half-size global phase, full-size local phase from epoch 4: pose error median \(initialPose)° → \(straight.poseErrorMedian), shift error median \(initialShift) Å → \(straight.shiftErrorMedian)")
        XCTAssertLessThan(try XCTUnwrap(straight.poseErrorMedian.last), initialPose + 1)
        XCTAssertLessThan(try XCTUnwrap(straight.shiftErrorMedian.last), 3)
        // Interrupted in the middle of the third epoch (half size; 4 steps an epoch), resumed through the switch to full size.
        try assertResumesBitIdentically(straight, interruptedAfter: 11) {
            try self.trainer(epochs: 4, research: 2, local: 3, halfSize: true, checkpoint: $0, resume: $1).0
        }
    }

    func testHalfSizeGlobalPhaseScoresTheCroppedImages() throws {
        let make = try trainer(epochs: 1, research: nil, local: 1, halfSize: true).0
        let state = try make.start()
        let picked = Array(0..<8), k = state.poses.perImage
        let unknown = try XCTUnwrap(make.settings.unknownPoses)
        let coords = try make.conformations(try state.latents.gather(Tensor(picked.map(Float.init))))
        let half = make.geometry.size / 2
        let geometry = try make.geometry.halved()
        let rotations = picked.flatMap { state.poses.candidates[($0 * k)..<(($0 + 1) * k)] }
        let ctf = picked.map { make.dataset.ctf[$0] }
        let (expected, _) = try CandidateScoring.scored(coords: coords, images: try FourierFilter.downsample(try make.targets(picked), to: half), rotations: rotations,
                                                        shifts: [Float](repeating: 0, count: 16), ctf: ctf, geometry: geometry,
                                                        search: try unknown.search?.resized(size: half, pixel: geometry.pixel))
        var poses = state.poses
        let term = try unknown.dataTerm(picked: picked, coords: coords, images: try make.targets(picked), poses: &poses, ctf: ctf, geometry: make.geometry)
        XCTAssertEqual(term.storage[0], try unknown.lifting.expectedLoss(expected, gridSize: unknown.gridSize).mean().storage[0], accuracy: 1e-6)
        // In the local phase the same call scores at full size: a different number.
        poses.local = true
        let local = try unknown.dataTerm(picked: picked, coords: coords, images: try make.targets(picked), poses: &poses, ctf: ctf, geometry: make.geometry)
        XCTAssertNotEqual(local.storage[0], term.storage[0])
    }

    func testResearchWithAShiftSearchRecoversWrongOrigins() throws {
        let make = try trainer(epochs: 1, research: 1).0
        let unknown = try XCTUnwrap(make.settings.unknownPoses), truth = try XCTUnwrap(unknown.truthOrigins)
        let withSearch = try XCTUnwrap(unknown.research)
        let without = try CandidateResearch(interval: 1, centroids: 0, estimator: try PoseEstimator(level: 1, keep: 8, lifting: try SupportLifting()))
        var medians: [Double] = []
        for research in [withSearch, without] {
            let state = try make.start()
            // Every origin 7 Å off (5 Å along each axis), as an origin fitted to a wrong pose can be.
            state.poses.origins = truth.enumerated().map { $0.element + ($0.offset % 2 == 0 ? 5 : -5) }
            try make.researchCandidates(state, unknown, research)
            let errors = (0..<(truth.count / 2)).map { i in Double(hypotf(state.poses.origins[2 * i] - truth[2 * i], state.poses.origins[2 * i + 1] - truth[2 * i + 1])) }
            medians.append(ReconstructionMetrics.percentile(errors, 50))
        }
        print("re-search from origins 7 Å off: shift error median \(medians[0]) Å with a shift search, \(medians[1]) Å centred by the origins")
        XCTAssertLessThan(medians[0], 3)
        XCTAssertGreaterThan(medians[1], 6)
    }

    /// `centroid_choices`: each image scored against its nearest centroids keeps the search whose best rotation scores
    /// lowest, so no image ends worse than against its own cluster's centroid, and some move to another's.
    func testResearchAgainstSeveralCentroidsKeepsTheBestScoringOne() throws {
        let make = try trainer(epochs: 1, research: 1, centroids: 3).0
        let unknown = try XCTUnwrap(make.settings.unknownPoses), own = try XCTUnwrap(unknown.research)
        let all = try CandidateResearch(interval: 1, centroids: 3, choices: 3, estimator: own.estimator)
        let ownLosses = try make.researchCandidates(try make.start(), unknown, own)
        let state = try make.start()
        let bestLosses = try make.researchCandidates(state, unknown, all)
        XCTAssertEqual(bestLosses.count, ownLosses.count)
        for (best, nearest) in zip(bestLosses, ownLosses) { XCTAssertLessThanOrEqual(best, nearest) }
        let moved = zip(bestLosses, ownLosses).filter { $0 < $1 }.count
        print("re-search against all 3 centroids: \(moved) of \(ownLosses.count) images score better against another cluster's centroid")
        XCTAssertGreaterThan(moved, 0)
        XCTAssertThrowsError(try CandidateResearch(interval: 1, centroids: 3, choices: 4, estimator: own.estimator))
        XCTAssertThrowsError(try CandidateResearch(interval: 1, centroids: 0, choices: 2, estimator: own.estimator))
        XCTAssertThrowsError(try CandidateResearch(interval: 1, centroids: 3, choices: 0, estimator: own.estimator))
    }

    /// Each point's own cluster comes first, then the other centroids nearest first, as many as asked for.
    func testNearestCentroidsPutTheOwnClusterFirst() {
        let centres: [[Double]] = [[0, 0], [10, 0], [3, 0]]
        let points: [Float] = [1, 0, 9, 0, 4, 0]
        // The first point is labelled with centroid 1 (as a k-means label can lag a moved centroid).
        let nearest = CandidateResearch.nearestCentroids(points, dimension: 2, centres: centres, labels: [1, 1, 2], count: 3)
        XCTAssertEqual(nearest, [[1, 0, 2], [1, 2, 0], [2, 0, 1]])
        XCTAssertEqual(CandidateResearch.nearestCentroids(points, dimension: 2, centres: centres, labels: [0, 1, 2], count: 2), [[0, 2], [1, 2], [2, 0]])
        XCTAssertEqual(CandidateResearch.nearestCentroids(points, dimension: 2, centres: centres, labels: [0, 1, 2], count: 5).map(\.count), [3, 3, 3])
    }

    /// Runs the trainer `make(checkpoint, resume)` makes until `shouldContinue` has been asked `steps` times, resumes
    /// it from its checkpoint, and checks that latents, poses, origins and error histories equal `straight`'s.
    private func assertResumesBitIdentically(_ straight: AutodecoderTrainer.Result, interruptedAfter steps: Int,
                                             _ make: (String, String?) throws -> AutodecoderTrainer) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-pose-ckpt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var calls = 0
        XCTAssertThrowsError(try make(folder + "/run.ckpt", nil).run(report: { _ in }, shouldContinue: { calls += 1; return calls < steps }))
        let resumed = try make(folder + "/run.ckpt", folder + "/run.ckpt").run(report: { _ in }, shouldContinue: { true })
        XCTAssertEqual(resumed.latents.storage, straight.latents.storage, "latents differ after resuming")
        XCTAssertEqual(resumed.poses?.map(\.m), straight.poses?.map(\.m), "poses differ after resuming")
        XCTAssertEqual(resumed.origins, straight.origins)
        XCTAssertEqual(resumed.poseErrorMedian, straight.poseErrorMedian)
        XCTAssertEqual(resumed.shiftErrorMedian, straight.shiftErrorMedian)
    }

    func testResumeWithUnknownPosesIsBitIdentical() throws {
        let straight = try trainer(epochs: 3, research: 2, centroids: 3).0.run(report: { _ in }, shouldContinue: { true })
        // Interrupted in the middle of the second epoch, before the re-search round ahead of the third.
        try assertResumesBitIdentically(straight, interruptedAfter: 7) {
            try self.trainer(epochs: 3, research: 2, centroids: 3, checkpoint: $0, resume: $1).0
        }
        XCTAssertThrowsError(try CandidateResearch(interval: 0, centroids: 0, estimator: try PoseEstimator(level: 1, lifting: try SupportLifting())))
    }
}
