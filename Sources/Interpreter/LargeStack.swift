import Foundation

/// Runs evaluation on a thread with a large stack, so deep (but bounded) script recursion cannot overflow
/// the native stack of the main thread.
enum LargeStack {
    /// Stack size of evaluation threads.
    static let bytes = 512 << 20

    /// Runs `body` on a fresh thread with a `bytes`-sized stack and waits for its result.
    static func run<T>(_ body: () throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { escapable in
            let box = ResultBox<T>(work: escapable)
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                if let work = box.work { box.result = Result { try work() } }
                done.signal()
            }
            thread.stackSize = bytes
            thread.start()
            done.wait()
            box.work = nil
            guard let result = box.result else { throw RuntimeError("evaluation thread ended without a result", at: nil) }
            return try result.get()
        }
    }

    private final class ResultBox<T>: @unchecked Sendable {
        /// The evaluation to run; cleared once it has run so the non-escaping closure is released in time.
        var work: (() throws -> T)?
        var result: Result<T, Error>?
        init(work: @escaping () throws -> T) { self.work = work }
    }
}
