import Foundation

extension Tensor: CustomStringConvertible {
    /// `Tensor[2,3] [[1, 2, 3], [4, 5, 6]]`, eliding the middle of long axes as numpy does.
    public var description: String {
        var text = "Tensor\(formatShape(shape)) "
        if storage.isEmpty { return text + "[]" }
        if shape.isEmpty { return text + Tensor.format(storage[0]) }
        appendNested(into: &text, axis: 0, offset: 0, strides: stridesOf(shape))
        return text
    }

    private func appendNested(into text: inout String, axis: Int, offset: Int, strides: [Int]) {
        let n = shape[axis]
        let edge = 3
        let shown: [Int?] = n <= 2 * edge ? Array(0..<n) : Array(0..<edge) + [nil] + Array((n - edge)..<n)
        text += "["
        for (k, index) in shown.enumerated() {
            if k > 0 { text += axis == rank - 1 ? ", " : ",\n" + String(repeating: " ", count: axis + 1) }
            guard let i = index else { text += "..."; continue }
            if axis == rank - 1 {
                text += Tensor.format(storage[offset + i])
            } else {
                appendNested(into: &text, axis: axis + 1, offset: offset + i * strides[axis], strides: strides)
            }
        }
        text += "]"
    }

    /// Formats one element compactly: integers without a fraction, others with 4 significant digits.
    static func format(_ x: Float) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == x.rounded() && Swift.abs(x) < 1e7 { return String(Int(x)) }
        return String(format: "%.4g", Double(x))
    }
}
