import Foundation

/// Where the image stacks named in a STAR file are, found as RELION finds them: a relative path in
/// `rlnImageName` starts at the project directory (where RELION runs: the current directory, or the one
/// given), and, for files that were moved with their stacks, at the STAR file's own folder. Each stack is
/// opened once; a missing one is an error listing every path tried.
struct StackPaths {
    let starPath: String
    let projectDirectory: String?
    private var opened: [String: MRCFile] = [:]

    init(starPath: String, projectDirectory: String?) {
        self.starPath = starPath
        self.projectDirectory = projectDirectory
    }

    /// The paths tried for `name`, in order.
    func candidates(_ name: String) -> [String] {
        if name.hasPrefix("/") { return [name] }
        let project = projectDirectory ?? FileManager.default.currentDirectoryPath
        let starFolder = (starPath as NSString).deletingLastPathComponent
        var paths = [(project as NSString).appendingPathComponent(name)]
        let beside = starFolder.isEmpty ? name : (starFolder as NSString).appendingPathComponent(name)
        if !paths.contains(beside) { paths.append(beside) }
        return paths
    }

    /// The stack `name` (as written in the STAR file), opened on first use.
    mutating func open(_ name: String, particle: Int) throws -> MRCFile {
        if let stack = opened[name] { return stack }
        let tried = candidates(name)
        guard let found = tried.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            let rule = projectDirectory == nil ? "relative to the current directory (RELION's project directory), then to the STAR file's folder"
                : "relative to project_dir, then to the STAR file's folder"
            throw KernelError("read_star", "\(starPath): particle \(particle): stack '\(name)' not found; tried \(tried.joined(separator: " and ")) (\(rule)); run from the RELION project directory or pass project_dir:")
        }
        let stack = try MRCFile(path: found, op: "read_star")
        opened[name] = stack
        return stack
    }
}
