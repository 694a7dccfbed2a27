import CKernels

/// The vector instruction set of the C kernels (message passing, projector), chosen at run time: the widest the
/// CPU supports of SSE2 (the x86-64 baseline), AVX2 + FMA and AVX-512, so one binary runs everywhere and uses
/// 16-wide vectors where the CPU has them.
public enum InstructionSet: Int, Sendable, CaseIterable, Comparable {
    case baseline = 0, avx2 = 1, avx512 = 2

    /// The widest instruction set this CPU supports.
    public static var supported: InstructionSet { InstructionSet(cryo_isa_supported()) }

    /// The instruction set the kernels use now.
    public static var active: InstructionSet { InstructionSet(cryo_isa_active()) }

    /// Makes the kernels use at most `limit` (tests compare every path the CPU has); returns the one now active.
    @discardableResult
    public static func limit(_ limit: InstructionSet) -> InstructionSet {
        InstructionSet(cryo_isa_limit(cryo_isa(rawValue: UInt32(limit.rawValue))))
    }

    /// Short name: "sse2", "avx2" or "avx512".
    public var name: String { ["sse2", "avx2", "avx512"][rawValue] }

    init(_ isa: cryo_isa) { self = InstructionSet(rawValue: Int(isa.rawValue)) ?? .baseline }

    public static func < (a: InstructionSet, b: InstructionSet) -> Bool { a.rawValue < b.rawValue }
}
