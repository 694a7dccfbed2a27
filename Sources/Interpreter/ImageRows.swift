import CryoKernels

/// The images a pose search reads: a tensor [B,D,D] in memory, or a stack left in its MRC files
/// (`read_star(..., stream: true)`), of which only the rows searched are read (under MPI, a rank's own block).
struct ImageRows {
    /// Number of images and their (square) side in pixels.
    let count: Int, size: Int
    /// Reads the given rows (0-based) → [rows, D, D].
    let read: ([Int]) throws -> Tensor

    /// The `images` argument of `a`.
    init(_ a: Arguments) throws {
        if case .object(let o as StreamedImagesObject) = a["images"] {
            let stack = o.images
            (count, size) = (stack.count, stack.size)
            read = { rows in try Tensor(shape: [rows.count, stack.size, stack.size], storage: try stack.read(rows)) }
            return
        }
        let images = try a.tensor("images")
        guard images.rank == 3, images.shape[1] == images.shape[2] else { throw a.fail("images", "square images [B,D,D] or a streamed stack", a["images"]) }
        (count, size) = (images.shape[0], images.shape[1])
        read = { rows in try images.gather(Tensor(rows.map(Float.init))) }
    }
}
