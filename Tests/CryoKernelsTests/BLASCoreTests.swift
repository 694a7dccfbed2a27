import XCTest
@testable import CryoKernels

/// `BLASCore`: which kernels OpenBLAS picked, and the note when they are older than the CPU.
final class BLASCoreTests: XCTestCase {
    /// The note on OpenBLAS kernels older than the CPU: said for SSE-era kernels on AVX2 and AVX-512 CPUs, with the
    /// kernel set that fits; not for kernels that fit, nor for a CPU without AVX2.
    func testOpenBLASKernelsOlderThanTheCPUAreNamed() {
        XCTAssertEqual(BLASCore.mismatchNote(core: "Prescott", cpu: .avx512),
                       "OpenBLAS runs its Prescott kernels on this avx512 CPU (it does not recognise the model); "
                           + "OPENBLAS_CORETYPE=SkylakeX selects kernels for its vector width")
        let haswell = "OPENBLAS_CORETYPE=Haswell selects kernels for its vector width"
        XCTAssertTrue(BLASCore.mismatchNote(core: "Nehalem", cpu: .avx2)?.hasSuffix(haswell) ?? false)
        for (core, cpu) in [("Haswell", InstructionSet.avx2), ("SkylakeX", .avx512), ("Zen", .avx2), ("Prescott", .baseline)] {
            XCTAssertNil(BLASCore.mismatchNote(core: core, cpu: cpu), "\(core) on \(cpu.name)")
        }
        XCTAssertFalse(BLASCore.name.isEmpty)
    }
}
