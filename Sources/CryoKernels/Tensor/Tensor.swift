import Foundation

/// A dense Float32 array: row-major, contiguous, with a shape. The value type of every kernel.
///
/// Tensors have reference semantics: ops return new tensors and never change their inputs; the only
/// in-place updates are the optimisers' parameter steps. A tensor that `requiresGrad` and was not produced
/// by an op is a *leaf* (a trainable parameter); ops on it are recorded on the active `Tape`.
public final class Tensor: @unchecked Sendable {
    /// The extent of each axis; `[]` is a scalar.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `storage.count == shape.reduce(1, *)`.
    public var storage: [Float]
    /// True for trainable leaves and for every tensor computed from them while a tape records.
    public var requiresGrad: Bool = false
    /// The accumulated gradient of a leaf after `Tape.backward`, same shape as the tensor.
    public var grad: Tensor?
    /// True unless the tensor was produced by a recorded op.
    public internal(set) var isLeaf: Bool = true
    /// Identity of the tape this tensor has a node on (0: none) and the node's index there.
    var tapeID: Int = 0
    var node: Int = -1

    /// Wraps `storage` with `shape`; throws if the element count does not match.
    public init(shape: [Int], storage: [Float]) throws {
        _ = Allocator.configured
        let count = try elementCount(shape, op: "tensor")
        guard count == storage.count else {
            throw KernelError("tensor", "shape \(formatShape(shape)) needs \(count) values, got \(storage.count)")
        }
        self.shape = shape
        self.storage = storage
    }

    /// Internal initialiser for kernels that already guarantee `storage.count == product(shape)`.
    init(uncheckedShape shape: [Int], storage: [Float]) {
        _ = Allocator.configured
        self.shape = shape
        self.storage = storage
    }

    /// A rank-0 tensor holding one value.
    public convenience init(_ scalar: Float) {
        self.init(uncheckedShape: [], storage: [scalar])
    }

    /// A rank-1 tensor holding `values`.
    public convenience init(_ values: [Float]) {
        self.init(uncheckedShape: [values.count], storage: values)
    }

    /// Number of elements.
    public var count: Int { storage.count }
    /// Number of axes.
    public var rank: Int { shape.count }

    /// The single value of a one-element tensor.
    public func item() throws -> Float {
        guard storage.count == 1 else { throw KernelError("item", "expected a one-element tensor, got shape \(formatShape(shape))") }
        return storage[0]
    }

    /// Marks this tensor as a trainable leaf and returns it.
    @discardableResult
    public func asParameter() -> Tensor {
        requiresGrad = true
        isLeaf = true
        return self
    }

    /// A copy that shares no state with the tape (a constant with the same values).
    public func detached() -> Tensor { Tensor(uncheckedShape: shape, storage: storage) }

    /// Normalises a possibly negative axis against this tensor's rank (`extra` allows one past the end, for stack).
    func axis(_ axis: Int, op: String, extra: Int = 0) throws -> Int {
        let r = rank + extra
        let a = axis < 0 ? axis + r : axis
        guard a >= 0 && a < r else { throw KernelError(op, "axis \(axis) out of range for shape \(formatShape(shape))") }
        return a
    }
}

/// The element count of `shape`, or an error naming `op` if an extent is negative or the count is beyond
/// `ElementLimit` (shapes computed from script input go through this before anything is allocated).
public func elementCount(_ shape: [Int], op: String) throws -> Int {
    guard shape.allSatisfy({ $0 >= 0 }) else { throw KernelError(op, "negative extent in shape \(formatShape(shape))") }
    if shape.contains(0) { return 0 }
    var count = 1
    for extent in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: extent)
        guard !overflow, product <= ElementLimit.value else {
            throw KernelError(op, "shape \(formatShape(shape)) has more than \(ElementLimit.value) elements, the most one tensor may have here")
        }
        count = product
    }
    return count
}

/// Row-major strides of a shape.
func stridesOf(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}
