import CBLAS
import CryoKernels
import Foundation

/// 512×512×512 sgemm: the Tensor API's `matmul` (OpenBLAS on one thread, the product split across CryoScript's
/// workers) against a raw `cblas_sgemm` call on the same data with OpenBLAS's own threads on every core.
enum GemmBenchmark {
    static func run() throws -> [(String, Double)] {
        let n = 512
        var generator = SeededGenerator(seed: 1)
        let a = Tensor.randn([n, n], using: &generator), b = Tensor.randn([n, n], using: &generator)
        var c = [Float](repeating: 0, count: n * n)
        _ = BLASThreads.singleThreaded
        openblas_set_num_threads(Int32(ProcessInfo.processInfo.activeProcessorCount))
        let raw = medianMilliseconds {
            a.storage.withUnsafeBufferPointer { x in b.storage.withUnsafeBufferPointer { y in c.withUnsafeMutableBufferPointer { z in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(n), blasint(n), blasint(n), 1,
                            x.baseAddress, blasint(n), y.baseAddress, blasint(n), 0, z.baseAddress, blasint(n))
            } } }
        }
        openblas_set_num_threads(1)
        let tensor = try medianMilliseconds { _ = try Tensor.matmul(a, b) }
        let flops = 2.0 * Double(n * n * n)
        print(String(format: "sgemm 512^3: raw cblas %.2f ms (%.1f GFLOP/s), Tensor.matmul %.2f ms (%.1f GFLOP/s): %.0f%% of raw",
                     raw, flops / raw / 1e6, tensor, flops / tensor / 1e6, 100 * raw / tensor))
        return [("sgemm_raw_512_ms", raw), ("sgemm_tensor_512_ms", tensor)]
    }
}
