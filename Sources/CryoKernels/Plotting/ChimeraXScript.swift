import Foundation

/// ChimeraX command files (.cxc) for CryoScript's outputs.
public enum ChimeraXScript {
    /// A command file that opens the multi-model PDB `pdb` (named relative to the .cxc's folder, from which
    /// ChimeraX runs it) as one trajectory, colours it by the B-factor column (blue 0 → red `maxBFactor`, Å),
    /// and plays the frames forwards and back.
    public static func traversal(_ path: String, pdb: String, frames: Int, title: String, maxBFactor: Double) throws {
        let top = maxBFactor > 0 ? maxBFactor : 1
        let text = """
        # \(title)
        # Written by CryoScript's analyze. Open this file in ChimeraX (open \((path as NSString).lastPathComponent)); the
        # B-factor column holds each residue's displacement (Å) between the first and last frames.
        open \(pdb) coordsets true
        show #1 atoms
        style #1 ball
        color bfactor #1 palette blue:white:red range 0,\(String(format: "%.2f", top))
        coordset #1 1,\(frames) pauseFrames 5 loop 20 bounce true

        """
        try AtomicFile.write(Data(text.utf8), to: path, op: "analyze")
    }
}
