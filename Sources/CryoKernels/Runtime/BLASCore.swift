import CBLAS

/// The kernels OpenBLAS picked for this CPU. OpenBLAS chooses them from the CPU's model number, not its features, so
/// a CPU it does not know gets its oldest x86-64 kernels: Debian 12's OpenBLAS 0.3.21 runs its SSE3 "Prescott" sgemm
/// on a Sapphire Rapids virtual machine, at 16–64 GFLOP/s on 2 cores (512³) where its SkylakeX kernels reach 180.
/// CryoScript's own kernels (`InstructionSet`, `cryo_narrow_gemm`) go by the CPU's features and are not affected;
/// the products left to OpenBLAS (wide ones, such as ESL scoring's) are.
public enum BLASCore {
    /// OpenBLAS's name for its kernels ("Haswell", "SkylakeX", "Zen", "Prescott", ...).
    public static var name: String { String(cString: openblas_get_corename()) }

    /// Kernel sets that use neither AVX2 nor AVX-512 (OpenBLAS's names, lower-cased).
    static let withoutAVX2: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "sandybridge",
                                           "barcelona", "bobcat", "opteron", "athlon", "bulldozer", "piledriver",
                                           "katmai", "coppermine", "northwood", "banias", "unknown"]

    /// One line for a CPU with AVX2 whose OpenBLAS runs older kernels: what it runs, and the environment variable
    /// that selects the CPU's own (OpenBLAS reads it at start-up); nil when the kernels fit the CPU.
    public static var mismatchNote: String? { mismatchNote(core: name, cpu: .supported) }

    static func mismatchNote(core: String, cpu: InstructionSet) -> String? {
        guard cpu >= .avx2, withoutAVX2.contains(core.lowercased()) else { return nil }
        let suggested = cpu == .avx512 ? "SkylakeX" : "Haswell"
        return "OpenBLAS runs its \(core) kernels on this \(cpu.name) CPU (it does not recognise the model); "
            + "OPENBLAS_CORETYPE=\(suggested) selects kernels for its vector width"
    }
}
