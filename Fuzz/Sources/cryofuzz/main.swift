import Foundation
import Interpreter

/// libFuzzer's entry point: the input, read as UTF-8, runs as a CryoScript program in the fuzzing sandbox (no
/// files; budgets of steps, time, memory and tensor size). It must end in a value, a located diagnostic or an
/// exhausted budget; any other outcome aborts, so that libFuzzer keeps the input as a crash, as it does for
/// sanitizer reports, timeouts and leaks.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let program = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if case .unexpected(let what) = SandboxOutcome.of(program) {
        FileHandle.standardError.write(Data("cryofuzz: neither a value, a located diagnostic nor an exhausted budget: \(what)\n".utf8))
        abort()
    }
    return 0
}
