import Foundation

/// The sanitizer this test process was built with (Scripts/sanitize.sh), found by its runtime's entry symbol.
enum Sanitizer: String {
    case address, thread

    /// The active sanitizer, or nil in a normal build.
    static let active: Sanitizer? = {
        let process = UnsafeMutableRawPointer(bitPattern: 0)
        if dlsym(process, "__asan_init") != nil { return .address }
        if dlsym(process, "__tsan_init") != nil { return .thread }
        return nil
    }()
}
