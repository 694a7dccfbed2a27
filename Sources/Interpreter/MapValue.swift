import CryoKernels

/// Maps as scripts hold them: the record `read_mrc` returns, {size [x,y,z] voxels, pixel [x,y,z] Å, origin [x,y,z] Å
/// of voxel 0, centre [x,y,z] Å of the box centre, data [z,y,x] when read}, which `density_map` returns too and
/// `write_mrc` and `fsc` take.
enum MapValue {
    /// The record of `map`, naming `path` when it came from a file.
    static func record(_ map: DensityMap, path: String? = nil) throws -> Value {
        try record(size: map.size, spacing: map.spacing, origin: map.origin, values: map.values, path: path)
    }

    /// The record of a grid of `size` voxels of `spacing` Å from `origin`, with `values` [z,y,x] as `data` when given.
    static func record(size: [Int], spacing: [Float], origin: [Float], values: [Float]?, path: String?) throws -> Value {
        let centre = DensityMap.centre(origin: origin, size: size, spacing: spacing)
        var fields: [(String, Value)] = [("size", numbers(size.map(Double.init))), ("pixel", numbers(spacing.map(Double.init))),
                                         ("origin", numbers(origin.map(Double.init))), ("centre", numbers(centre.map(Double.init)))]
        if let path { fields.append(("path", .string(path))) }
        if let values { fields.append(("data", .tensor(try Tensor(shape: size.reversed(), storage: values)))) }
        return .record(Record(fields))
    }

    /// The map a record holds (argument `name` of `a`): it must carry `data`, and its pixel and origin.
    static func map(_ a: Arguments, _ name: String) throws -> DensityMap {
        let expected = "a map record (read_mrc(path, data: true) or density_map(...)) with data, pixel and origin"
        guard case .record(let r) = a[name] else { throw a.fail(name, expected, a[name]) }
        guard case .tensor(let data)? = r["data"] else {
            throw ScriptFailure(message: "\(a.callee): \(name) has no data: read the map with read_mrc(path, data: true)")
        }
        guard data.rank == 3, let pixel = triple(r["pixel"]), let origin = triple(r["origin"]) else { throw a.fail(name, expected, a[name]) }
        return try DensityMap(size: data.shape.reversed(), spacing: pixel, origin: origin, values: data.storage, op: a.callee)
    }

    /// Whether the map record (argument `name`) carries its values.
    static func hasData(_ a: Arguments, _ name: String) -> Bool {
        if case .record(let r) = a[name], case .tensor? = r["data"] { return true }
        return false
    }

    /// The grid of a map record (argument `name`), with or without data: size, pixel and origin.
    static func grid(_ a: Arguments, _ name: String) throws -> (size: [Int], spacing: [Float], origin: [Float]) {
        let expected = "a map record (read_mrc(path) or density_map(...)) with size, pixel and origin"
        guard case .record(let r) = a[name], let size = triple(r["size"]), let pixel = triple(r["pixel"]), let origin = triple(r["origin"]),
              size.allSatisfy({ $0 >= 1 && $0 == $0.rounded() }) else { throw a.fail(name, expected, a[name]) }
        return (size.map { Int($0) }, pixel, origin)
    }

    /// Three numbers from a list value, or nil.
    private static func triple(_ value: Value?) -> [Float]? {
        guard case .list(let items)? = value, items.count == 3 else { return nil }
        let numbers = items.compactMap { item -> Float? in if case .number(let x) = item { return Float(x) } else { return nil } }
        return numbers.count == 3 ? numbers : nil
    }

    private static func numbers(_ values: [Double]) -> Value { .list(values.map { .number($0) }) }
}
