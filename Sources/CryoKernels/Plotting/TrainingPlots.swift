import Foundation

/// PNG line plots of a training run's per-epoch histories, rewritten after every epoch so a long run can be watched.
enum TrainingPlots {
    /// Writes into `folder` (created if missing) `loss.png`, `bond_rms.png`, `latent_spread.png`, and
    /// `validation.png` when images are held out, and `rmsd.png` (the ground-truth RMSD) when it is known; each plots
    /// one history against the epoch (1-based). Returns the paths written.
    @discardableResult
    static func write(_ history: TrainingHistory, to folder: String) throws -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw KernelError("train_autodecoder", "plots: cannot create the folder \(folder): \(error.localizedDescription)")
        }
        let charts: [(file: String, values: [Double], title: String, unit: String)] = [
            ("loss.png", history.loss, "training loss", "loss"),
            ("bond_rms.png", history.bondRMS, "bond-length RMS deviation from the template", "A"),
            ("validation.png", history.validation, "data term of the held-out images", "data term"),
            ("latent_spread.png", history.latentSpread, "latent spread (mean per-dimension std)", "std"),
            ("rmsd.png", history.rmsd, "mean RMSD to the ground truth (oracle)", "A"),
        ]
        var written: [String] = []
        for chart in charts where !chart.values.isEmpty {
            let path = (folder as NSString).appendingPathComponent(chart.file)
            let epochs = chart.values.indices.map { Double($0 + 1) }
            try LinePlot.write(path, series: [.init(name: "", x: epochs, y: chart.values)], title: chart.title, xLabel: "epoch",
                               yLabel: chart.unit, lines: true)
            written.append(path)
        }
        return written
    }
}
