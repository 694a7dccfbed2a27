import Foundation

/// Training state on disk: a JSON header (progress, history, shapes) and the raw Float32 values of every
/// tensor (model parameters, latents, image scale/offset, Adam moments, and the values of the epoch a selection rule
/// keeps, when it keeps one), then each image's pose state when training moves poses (`TrainingPoses`). Written atomically.
public struct Checkpoint: Sendable {
    /// What the header records: the run's progress (flat beside the other keys, see `TrainingProgress`) and what
    /// identifies the tensors that follow.
    public struct Header: Codable, Sendable {
        /// 2 since the CTF took RELION's sign (white particles); a version-1 file's image scale or offset has the
        /// opposite sign to what this version's images need when the CTF is applied.
        public var version = 2
        public var model: String
        public var progress: TrainingProgress
        public var adamStep: Int
        public var shapes: [[Int]]
        /// How many pose values follow the tensors (absent: none).
        public var poseValueCount: Int?
        /// The side (px) and pixel size (Å) of the images trained on (absent in checkpoints written before they were
        /// recorded).
        public var imageSize: Int?, pixel: Double?
        /// Whether those images were whitened (`whiten`; absent in checkpoints written before it was recorded).
        public var whitened: Bool?

        public init(model: String, progress: TrainingProgress, adamStep: Int, shapes: [[Int]]) {
            (self.model, self.progress, self.adamStep, self.shapes) = (model, progress, adamStep, shapes)
        }

        enum CodingKeys: String, CodingKey { case version, model, adamStep, shapes, poseValueCount, imageSize, pixel, whitened }

        public init(from decoder: Swift.Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            version = try c.decode(Int.self, forKey: .version)
            model = try c.decode(String.self, forKey: .model)
            adamStep = try c.decode(Int.self, forKey: .adamStep)
            shapes = try c.decode([[Int]].self, forKey: .shapes)
            poseValueCount = try c.decodeIfPresent(Int.self, forKey: .poseValueCount)
            imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize)
            pixel = try c.decodeIfPresent(Double.self, forKey: .pixel)
            whitened = try c.decodeIfPresent(Bool.self, forKey: .whitened)
            progress = try TrainingProgress(from: decoder)
        }

        public func encode(to encoder: Swift.Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(version, forKey: .version)
            try c.encode(model, forKey: .model)
            try c.encode(adamStep, forKey: .adamStep)
            try c.encode(shapes, forKey: .shapes)
            try c.encodeIfPresent(poseValueCount, forKey: .poseValueCount)
            try c.encodeIfPresent(imageSize, forKey: .imageSize)
            try c.encodeIfPresent(pixel, forKey: .pixel)
            try c.encodeIfPresent(whitened, forKey: .whitened)
            try progress.encode(to: encoder)
        }
    }

    public var header: Header
    /// Trainable tensors' values, then Adam's first and second moments for each.
    public var values: [[Float]], firstMoments: [[Float]], secondMoments: [[Float]]
    /// The trainable tensors' values at the kept epoch (written when present; read back when `header.progress.keptEpoch` is set).
    public var bestValues: [[Float]]?
    /// Every image's pose state (`TrainingPoses.values`), when poses move during training.
    public var poseValues: [Float]?

    public init(header: Header, values: [[Float]], firstMoments: [[Float]], secondMoments: [[Float]], bestValues: [[Float]]?, poseValues: [Float]? = nil) {
        self.header = header
        self.header.poseValueCount = poseValues?.count
        (self.values, self.firstMoments, self.secondMoments, self.bestValues, self.poseValues) = (values, firstMoments, secondMoments, bestValues, poseValues)
    }

    static let magic = Array("CRYOCKPT".utf8)

    /// Writes the checkpoint to `path` atomically.
    public func write(_ path: String) throws {
        var w = BinaryWriter()
        w.bytes(Checkpoint.magic)
        let json = try JSONEncoder().encode(header)
        w.int32(Int32(json.count))
        w.append(json)
        for group in [values, firstMoments, secondMoments] + (bestValues.map { [$0] } ?? []) + (poseValues.map { [[$0]] } ?? []) {
            for v in group { v.withUnsafeBufferPointer { w.append(Data(buffer: $0)) } }
        }
        try AtomicFile.write(w.data, to: path, op: "checkpoint")
    }

    /// Reads a checkpoint, checking that it holds tensors of `shapes` (the current model's) and was made for `model`.
    public static func read(_ path: String, expecting shapes: [[Int]], model: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else { throw KernelError("resume", "\(path): no such checkpoint") }
        let r = BinaryReader(data: data, name: path, op: "resume")
        guard try r.bytes(0, 8, "the checkpoint tag") == magic else { throw KernelError("resume", "\(path) is not a CryoScript checkpoint") }
        let length = Int(try r.int32(8, "the header length"))
        try r.require(12, length, "the header")
        guard let header = try? JSONDecoder().decode(Header.self, from: data.subdata(in: (data.startIndex + 12)..<(data.startIndex + 12 + length))) else {
            throw KernelError("resume", "\(path): unreadable checkpoint header")
        }
        guard header.model == model, header.shapes == shapes else {
            throw KernelError("resume", "\(path) was written by a different model (\(header.model), \(header.shapes.count) tensors \(header.shapes.prefix(4).map(formatShape).joined(separator: " "))…) than this one (\(model), \(shapes.count) tensors \(shapes.prefix(4).map(formatShape).joined(separator: " "))…)")
        }
        var offset = 12 + length
        func group() throws -> [[Float]] {
            try shapes.map { shape in
                let n = shape.reduce(1, *)
                defer { offset += 4 * n }
                return try r.float32s(offset, n, "tensor values")
            }
        }
        let (values, firstMoments, secondMoments) = (try group(), try group(), try group())
        let bestValues = header.progress.keptEpoch == nil ? nil : try group()
        let poseValues = try header.poseValueCount.map { try r.float32s(offset, $0, "pose values") }
        return Checkpoint(header: header, values: values, firstMoments: firstMoments, secondMoments: secondMoments, bestValues: bestValues, poseValues: poseValues)
    }
}
