import CryoKernels

/// A dataset's images left in their MRC stacks (`read_star(path, stream: true)`): training reads them a batch at a
/// time. `.load(rows)` reads particular images into a tensor.
final class StreamedImagesObject: ScriptObject, @unchecked Sendable {
    let images: StreamedImages

    init(_ images: StreamedImages) { self.images = images }

    var typeName: String { "image_stack" }
    var summary: String { "<image stack: \(images.count) images of \(images.size)×\(images.size) px, read from their MRC files as needed>" }
    var memberNames: [String] { ["count", "size", "load"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "count": return .number(Double(images.count))
        case "size": return .number(Double(images.size))
        case "load":
            return .builtin(builtin("load", topic: "data", [required("rows")],
                                    doc: "Reads images rows (a list or tensor of particle indices) into a [n,D,D] tensor.",
                                    example: "data.images.load([0, 1, 2])") { a in
                let rows = try a.ints("rows")
                return .tensor(try Tensor(shape: [rows.count, self.images.size, self.images.size], storage: try self.images.read(rows)))
            })
        default: return nil
        }
    }
}
