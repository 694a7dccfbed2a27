/// The `centre:` and `map:` arguments of `train_autodecoder` and `esl`: the point a structure rotates about, its
/// centroid (as simulations render) or the box centre of a map it was fitted into (as RELION's poses rotate).
enum RotationCentreArgument {
    /// The rotation centre (Å, in the structure's coordinates) that `centre:` and `map:` name for `op`; nil: the
    /// structure's own centroid.
    static func parse(_ a: Arguments, op: String) throws -> [Double]? {
        switch try a.string("centre") {
        case "centroid": return nil
        case "map":
            guard case .record(let map) = a["map"] else {
                throw a.fail("map", "read_mrc(path) of the consensus map, or {box: voxels, pixel: Å}, with centre: \"map\"", a["map"])
            }
            if case .list(let c)? = map["centre"], c.count == 3 {
                return try c.map { v in
                    guard case .number(let x) = v else { throw a.fail("map", "a record whose centre is three numbers (Å)", a["map"]) }
                    return x
                }
            }
            guard case .number(let box)? = map["box"], case .number(let pixel)? = map["pixel"], box >= 1, pixel > 0 else {
                throw a.fail("map", "read_mrc(path) or {box: voxels, pixel: Å}", a["map"])
            }
            let c = Double(Int(box) / 2) * pixel
            return [c, c, c]
        case let other:
            throw ScriptFailure(message: "\(op): centre must be \"centroid\" or \"map\", got \"\(other)\"")
        }
    }
}
