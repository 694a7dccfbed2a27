import Foundation

/// Runs evaluation on a thread with a large stack, so deep (but bounded) script recursion cannot overflow the native
/// stack of the calling thread. The threads are kept and reused: creating a thread with a stack this size for every
/// run cost more than most runs (a fresh interpreter per fuzz input, every REPL line).
enum LargeStack {
    /// Stack size of evaluation threads.
    static let bytes = 512 << 20

    /// Idle evaluation threads.
    private static let idle = Idle()

    /// Runs `body` on an evaluation thread and waits for its result. A run from inside a run (on an evaluation thread)
    /// takes another thread, so nesting never waits on itself.
    static func run<T>(_ body: () throws -> T) throws -> T {
        let worker = idle.take() ?? Worker()
        defer { idle.put(worker) }
        return try withoutActuallyEscaping(body) { escapable in
            let box = ResultBox<T>()
            worker.perform { box.result = Result { try escapable() } }
            guard let result = box.result else { throw RuntimeError("evaluation thread ended without a result", at: nil) }
            return try result.get()
        }
    }

    private final class ResultBox<T>: @unchecked Sendable {
        var result: Result<T, Error>?
    }

    /// The idle workers, under a lock.
    private final class Idle: @unchecked Sendable {
        private let lock = NSLock()
        private var workers: [Worker] = []

        func take() -> Worker? { lock.withLock { workers.popLast() } }
        func put(_ worker: Worker) { lock.withLock { workers.append(worker) } }
    }

    /// One evaluation thread that runs the jobs handed to it, one at a time, for the life of the process.
    private final class Worker: @unchecked Sendable {
        private let condition = NSCondition()
        private var job: (() -> Void)?
        private var finished = false

        init() {
            let thread = Thread { self.serve() }
            thread.stackSize = LargeStack.bytes
            thread.start()
        }

        /// Runs `job` on this worker's thread and returns when it has run.
        func perform(_ job: @escaping () -> Void) {
            condition.lock()
            self.job = job
            finished = false
            condition.broadcast()
            while !finished { condition.wait() }
            self.job = nil
            condition.unlock()
        }

        private func serve() {
            condition.lock()
            while true {
                while job == nil || finished { condition.wait() }
                var current = job
                condition.unlock()
                current?()
                current = nil  // released before the caller returns: `run`'s body must not outlive its call
                condition.lock()
                finished = true
                condition.broadcast()
            }
        }
    }
}
