import CMPIWorld
import Dispatch

/// The MPI world this process belongs to (`mpirun -np K cryorepl ...`), or a world of one when it was started
/// without mpirun: then MPI is never initialised and every collective is the identity. Collectives throw a
/// `KernelError` naming the call and the rank on failure; a collective that waits longer than
/// `CRYOSCRIPT_MPI_TIMEOUT` seconds (default 120) stops the whole job (see CMPIWorld.h).
public enum World {
    /// Joins the world once (idempotent); returns its size.
    @discardableResult
    public static func join() -> Int { Int(cryo_world_init()) }

    /// Wall time (s) this process has spent in collectives, and how many it made (for scaling measurements).
    nonisolated(unsafe) public private(set) static var collectiveSeconds = 0.0
    nonisolated(unsafe) public private(set) static var collectiveCalls = 0

    public static var rank: Int { Int(cryo_world_rank()) }
    public static var size: Int { Int(cryo_world_size()) }
    public static var isRoot: Bool { rank == 0 }

    /// Sums `values` over all ranks, in place.
    public static func sum(_ values: inout [Float]) throws {
        let started = DispatchTime.now().uptimeNanoseconds
        let code = values.withUnsafeMutableBufferPointer { cryo_world_allreduce_float($0.baseAddress, $0.count) }
        collectiveSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        collectiveCalls += 1
        try check(code)
    }

    public static func sum(_ values: inout [Double]) throws {
        let code = values.withUnsafeMutableBufferPointer { cryo_world_allreduce_double($0.baseAddress, $0.count) }
        try check(code)
    }

    /// Every rank's `values` concatenated in rank order, on every rank.
    public static func gather(_ values: [Float]) throws -> [Float] {
        guard size > 1 else { return values }
        var counts = [Double](repeating: 0, count: size)
        counts[rank] = Double(values.count)
        try sum(&counts)
        let sizes = counts.map { Int($0) }
        var out = [Float](repeating: 0, count: sizes.reduce(0, +))
        let code = values.withUnsafeBufferPointer { v in out.withUnsafeMutableBufferPointer { o in
            sizes.withUnsafeBufferPointer { c in cryo_world_allgather_float(v.baseAddress, values.count, o.baseAddress, c.baseAddress) }
        } }
        try check(code)
        return out
    }

    /// Stops every rank with `code` (returns only in a world of one).
    public static func abort(_ code: Int32) { cryo_world_abort(code) }

    public static func finalize() { cryo_world_finalize() }

    private static func check(_ code: Int32) throws {
        guard code == 0 else { throw KernelError("mpi", String(cString: cryo_world_error())) }
    }
}
