/// The adjusted Rand index (Hubert & Arabie 1985) of two labellings of the same items: 1 for identical
/// partitions (up to renaming the labels), about 0 for independent ones, negative below chance.
public enum AdjustedRandIndex {
    /// ARI of `a` and `b` (one label per item, any integers). Two single-cluster (or all-singleton) labellings
    /// that agree give 1, as scikit-learn's `adjusted_rand_score` does.
    public static func score(_ a: [Int], _ b: [Int]) throws -> Double {
        guard a.count == b.count else { throw KernelError("adjusted_rand_index", "the labellings have \(a.count) and \(b.count) items") }
        let n = a.count
        guard n > 0 else { throw KernelError("adjusted_rand_index", "no items to compare") }
        guard n > 1 else { return 1 }
        var table: [Int: [Int: Int]] = [:], rows: [Int: Int] = [:], columns: [Int: Int] = [:]
        for (x, y) in zip(a, b) {
            table[x, default: [:]][y, default: 0] += 1
            rows[x, default: 0] += 1
            columns[y, default: 0] += 1
        }
        func pairs(_ c: Int) -> Double { Double(c) * Double(c - 1) / 2 }
        let index = table.values.reduce(0.0) { $0 + $1.values.reduce(0.0) { $0 + pairs($1) } }
        let sumA = rows.values.reduce(0.0) { $0 + pairs($1) }, sumB = columns.values.reduce(0.0) { $0 + pairs($1) }
        let expected = sumA * sumB / pairs(n), maximum = (sumA + sumB) / 2
        guard maximum != expected else { return 1 }
        return (index - expected) / (maximum - expected)
    }
}
