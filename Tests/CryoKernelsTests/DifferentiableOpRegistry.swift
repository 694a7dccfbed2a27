import Foundation
@testable import CryoKernels

/// The registry of differentiable ops, read from the ops themselves: every place in Sources/CryoKernels where an op
/// records itself on the tape (a `Tape.recordIfNeeded` call, or a call of the unary functions' shared `unary`
/// helper, which records under its caller's line), as the `RecordingSite` the tape stores for it. No list is kept:
/// a new op is a new site, and the gradient-check test fails until a finite-difference check records it.
enum DifferentiableOpRegistry {
    /// Sources/CryoKernels beside this test target.
    static var folder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/CryoKernels")
    }

    /// Every recording site in the source (all subfolders; `#fileID` names a file by module and file name only).
    /// Lines that pass `line: line` on (inside a shared helper) and declarations and comments are not sites.
    static func sites() throws -> Set<RecordingSite> {
        var sites = Set<RecordingSite>()
        let paths = FileManager.default.subpaths(atPath: folder.path) ?? []
        for path in paths where path.hasSuffix(".swift") {
            let name = (path as NSString).lastPathComponent
            let text = try String(contentsOf: folder.appendingPathComponent(path), encoding: .utf8)
            for (index, line) in text.components(separatedBy: "\n").enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                guard !code.hasPrefix("//"), !code.contains("line: line"), !code.contains("func ") || code.contains("{ unary(") else { continue }
                if code.contains("Tape.recordIfNeeded(") || code.range(of: #"(^|[^A-Za-z_.])unary\("#, options: .regularExpression) != nil {
                    sites.insert(RecordingSite(file: "CryoKernels/" + name, line: index + 1))
                }
            }
        }
        return sites
    }
}
