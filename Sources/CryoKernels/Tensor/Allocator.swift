import Foundation

/// Allocator tuning for large tensors. By default glibc hands every large block back to the kernel when it is
/// freed and maps a fresh one for the next tensor, so each large op paid thousands of page faults on first touch
/// (a third of a GNN layer's time). Keeping freed blocks up to 32 MB in the heap, and trimming the heap only
/// beyond 1 GB, lets the next tensor of the same size reuse warm memory. `mallopt` is looked up at run time
/// (it is declared in <malloc.h>, outside the Glibc module); on other C libraries nothing changes.
enum Allocator {
    /// glibc's option codes (malloc.h): M_TRIM_THRESHOLD = −1, M_MMAP_THRESHOLD = −3.
    private static let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3

    /// Applies the settings once; read by every tensor allocation.
    static let configured: Bool = {
        typealias MallocOption = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: MallocOption.self)
        _ = mallopt(mmapThreshold, 32 << 20)
        _ = mallopt(trimThreshold, 1 << 30)
        return true
    }()
}
