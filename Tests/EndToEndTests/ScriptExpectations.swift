/// The key figures each script prints in its quick mode and the ranges they must fall in. The ranges are wide enough
/// for other seeds, initialisations and machines (quick runs train for an epoch or two, so trained models sit near the
/// template) and narrow enough to catch a broken pipeline: RMSDs finite and below 1.5 × the template's, pose errors
/// in degrees within [0, 180] with median ≤ p90, counts exact, and the properties a table must have (the oracle epoch
/// is the lowest, the winner named is the one with the lower figure).
enum ScriptExpectations {
    /// A check of one script's output; `earlier` holds the outputs of the scripts that ran before it.
    typealias Check = @Sendable (inout FigureChecks, _ earlier: [String: ScriptOutput]) -> Void

    /// Every script's checks, by file name. A script without an entry fails the test: add its figures here.
    static let byScript: [String: Check] = [
        "adk_known_poses.cryo": adkKnownPoses,
        "adk_unknown_poses.cryo": adkUnknownPoses,
        "analyze.cryo": analyze,
        "calibration_recipe.cryo": calibrationRecipe,
        "custom_layer.cryo": customLayer,
        "custom_regularizer.cryo": customRegularizer,
        "epoch_selection.cryo": epochSelection,
        "esl_poses.cryo": eslPoses,
        "fair_comparison.cryo": fairComparison,
        "make_relion_project.cryo": makeRelionProject,
        "pose_fixed_point.cryo": poseFixedPoint,
        "quickstart.cryo": quickstart,
        "relion_known_poses.cryo": relionKnownPoses,
        "relion_unknown_poses.cryo": relionUnknownPoses,
        "simulate.cryo": simulate,
        "simulate_adk.cryo": simulateAdK,
        "snr_sweep.cryo": snrSweep,
        "tour.cryo": tour,
    ]

    /// The calibration's recipe: every model's RMSD at both latent scales below 1.5 × the template's.
    private static func calibrationRecipe(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        guard let templateRow = c.row("template"), let template = c.number(templateRow, 1, "template RMSD") else { return }
        c.expect("template RMSD", template, in: 1...10)
        for model in ["GCN, reference (no first residual, Glorot convolutions)", "GCN, calibration (no first residual, Linear convolutions)",
                      "GCN, first-layer residual, Linear convolutions (CryoScript before)", "matched MLP"] {
            guard let row = c.row(model) else { continue }
            for (column, scale) in [(1, "0.01"), (2, "0.1")] {
                let figures = c.numbers(row, column, "\(model) at latent scale \(scale)") ?? []
                c.expect(figures.count == 2, "\(model) at latent scale \(scale): expected unaligned and Kabsch RMSD, got \(figures)")
                for value in figures { trained("\(model) RMSD at latent scale \(scale)", value, template: template, &c) }
            }
        }
        for draw in ["simulate's defaults (each frame centred, pixel-integrated)", "frames moved by frame 0's centroid",
                     "Gaussians sampled at pixel centres", "the calibration's draw (both)"] {
            guard let row = c.row(draw) else { continue }
            for (column, model) in [(1, "GCN"), (2, "MLP")] {
                let figures = c.numbers(row, column, "\(model) on \(draw)") ?? []
                c.expect(figures.count == 2, "\(model) on \(draw): expected unaligned and Kabsch RMSD, got \(figures)")
                for value in figures { trained("\(model) RMSD on \(draw)", value, template: template, &c) }
            }
        }
    }

    /// The contact-map example: its term passes the gradient check and every row trains both models to figures in
    /// range (a name, then GCN RMSD, bond RMS, ms/step and MLP RMSD, bond RMS, ms/step).
    private static func customRegularizer(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        if let line = c.line("gradient check of the contact-map term") {
            c.expect(line.text.contains("passed: true"), "the contact-map term's gradient check did not pass: \(line.text)")
        }
        guard let template = c.output.number(after: "template (no training) RMSD") else { return c.missing("the template RMSD") }
        c.expect("template RMSD", template, in: 1...10)
        let rows = c.output.lines(startingWith: "reference") + c.output.lines(startingWith: "+ ")
        c.expect(rows.count == 4, "\(rows.count) comparison rows, expected 4 (reference, angle, log_distance, contact map)")
        for row in rows {
            let figures = Array(row.numbers.suffix(6))
            guard figures.count == 6 else { c.expect(false, "expected 6 figures in \(row.text)"); continue }
            trained("GCN RMSD (\(row.text.prefix(20)))", figures[0], template: template, &c)
            trained("MLP RMSD (\(row.text.prefix(20)))", figures[3], template: template, &c)
            for bond in [figures[1], figures[4]] { c.expect("bond RMS", bond, in: 0...5) }
            for ms in [figures[2], figures[5]] { c.expect("ms per step", ms, in: 1e-3...1e6) }
        }
    }

    /// The fair comparison's grid: every run's RMSD in range, the oracle epoch never worse than the truth-free one,
    /// and one summary row per model.
    private static func fairComparison(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        guard let template = c.output.number(after: "template RMSD") else { return c.missing("the template RMSD") }
        c.expect("template RMSD", template, in: 1...10)
        for model in ["gcn", "mlp"] {
            for bond in ["0.001", "0.1"] {
                guard let row = c.row(model, bond, "0.01"), let truthFree = c.number(row, 4, "\(model) bond \(bond) truth-free RMSD"),
                      let oracle = c.number(row, 6, "\(model) bond \(bond) oracle RMSD") else { continue }
                trained("\(model) bond \(bond) truth-free RMSD", truthFree, template: template, &c)
                c.expect(oracle <= truthFree + 1e-9, "\(model) bond \(bond): the oracle's epoch (\(oracle) Å) is worse than the truth-free one (\(truthFree) Å)")
            }
        }
        let summaries = c.output.tableRows.filter { $0.count >= 2 && ["gcn", "mlp"].contains($0[0]) && $0[1].contains(",") }
        c.expect(summaries.count == 2, "\(summaries.count) summary rows, expected one per model")
    }

    /// A trained model's RMSD: finite, positive, below 1.5 × the template's.
    private static func trained(_ what: String, _ value: Double?, template: Double, _ c: inout FigureChecks) {
        c.expect(what, value, in: 0.01...(1.5 * template))
    }

    /// A pose error pair (median, p90) in degrees: both in [0, 180] and median ≤ p90.
    private static func poseErrors(_ what: String, _ values: [Double]?, _ c: inout FigureChecks) {
        guard let values, values.count == 2 else { return c.missing("\(what) median / p90") }
        c.expect("\(what) median", values[0], in: 0...180)
        c.expect("\(what) p90", values[1], in: 0...180)
        c.expect(values[0] <= values[1], "\(what): median \(values[0])° above p90 \(values[1])°")
    }

    /// A residue graph's summary `<graph: N nodes, E directed edges (P peptide, H hydrogen-bond pairs; hbonds: kind)>`:
    /// the counts given exactly (nil: any count in `hydrogenBondPairs`), and E = 2 (P + H).
    private static func graph(_ line: ScriptOutput.Line, nodes: Int, peptide: Int, hydrogenBondPairs: ClosedRange<Double>,
                              hbonds: String, _ c: inout FigureChecks) {
        c.expect("graph nodes", line.number(after: "<graph:"), equals: Double(nodes))
        c.expect("graph peptide edges", line.number(after: "edges ("), equals: Double(peptide))
        let pairs = line.number(after: "peptide,"), edges = line.number(before: "directed edges")
        c.expect("graph hydrogen-bond pairs", pairs, in: hydrogenBondPairs)
        if let pairs, let edges {
            c.expect(edges == 2 * (Double(peptide) + pairs), "graph: \(edges) directed edges, not twice \(peptide) peptide + \(pairs) hydrogen-bond pairs")
        }
        c.expect(line.text.contains("hbonds: \(hbonds)"), "graph: expected hbonds: \(hbonds) in \(line.text)")
    }

    private static func adkKnownPoses(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        if let line = c.line("AdK DIMS:") {
            c.expect("AdK residues", line.number(after: "AdK DIMS:"), equals: 214)
            c.expect("AdK frames", line.number(before: "frames"), equals: 98)
            graph(line, nodes: 214, peptide: 213, hydrogenBondPairs: 100...200, hbonds: "dssp", &c)
        }
        if let line = c.line("AdK DIMS, SNR") {
            c.expect("SNR", line.number(after: "SNR"), equals: 0.01)
            c.expect("images", line.number(before: "images"), equals: 128)
            c.expect("epochs", line.number(before: "epochs"), equals: 2)
        }
        c.expect("bond RMS of the true frames", c.output.number(after: "the true frames give"), in: 0.01...0.3)
        guard let templateRow = c.row("", "template"), let template = c.number(templateRow, 3, "template RMSD") else { return }
        c.expect("template RMSD", template, in: 2...8)
        for normalize in ["particle", "pixel"] {
            var parameters: [String: Double] = [:]
            for model in ["paper GCN", "matched MLP"] {
                guard let row = c.row(normalize, model) else { continue }
                let what = "\(normalize) \(model)"
                parameters[model] = c.number(row, 2, "\(what) parameters")
                trained("\(what) mean RMSD", c.number(row, 3, "mean"), template: template, &c)
                if let median = c.number(row, 4, "median"), let p90 = c.number(row, 5, "p90") {
                    trained("\(what) median RMSD", median, template: template, &c)
                    c.expect(median <= p90, "\(what): median RMSD \(median) above p90 \(p90)")
                }
                c.expect("\(what) best epoch", c.number(row, 6, "best epoch"), in: 1...2)
                trained("\(what) last-epoch RMSD", c.number(row, 7, "last epoch"), template: template, &c)
                for (i, bond) in (c.numbers(row, 8, "bond RMS") ?? []).enumerated() {
                    c.expect("\(what) bond RMS \(i == 0 ? "best" : "last")", bond, in: 0...2)
                }
            }
            c.expect("\(normalize) GCN parameters", parameters["paper GCN"], equals: 20465)
            if let gcn = parameters["paper GCN"] {
                c.expect("\(normalize) MLP parameters (matched to the GCN's)", parameters["matched MLP"], equals: gcn, tolerance: 0.01 * gcn)
            }
            c.expect("\(normalize) GCN / template", c.line("\(normalize): GCN / template")?.number(after: "="), in: 0.01...1.5)
        }
    }

    private static func adkUnknownPoses(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        if let line = c.line("AdK DIMS, SNR") {
            c.expect("SNR", line.number(after: "SNR"), equals: 0.03)
            c.expect("images", line.number(before: "images"), equals: 64)
        }
        guard let esl = c.row(startingWith: "ESL-marginalised"), let template = c.number(esl, 1, "template RMSD") else { return }
        c.expect("template RMSD", template, in: 2...8)
        // The ESL training's row, then the row after its realignment rounds (one round in quick mode).
        for (row, stage) in [(esl, "ESL"), (c.row(startingWith: "ESL, then realignment rounds: 1"), "realigned")] {
            guard let row else { continue }
            c.expect("template RMSD of the \(stage) row", c.number(row, 1, "template"), equals: template)
            trained("GCN RMSD, \(stage)", c.number(row, 2, "GCN"), template: template, &c)
            trained("MLP RMSD, \(stage)", c.number(row, 3, "MLP"), template: template, &c)
            for (column, model) in [(4, "GCN"), (5, "MLP")] {
                let errors = c.numbers(row, column, "\(model) pose errors")
                poseErrors("\(model) pose error, \(stage)", errors, &c)
                c.expect("\(model) median pose error, \(stage) (random poses give 126°)", errors?.first, in: 0...60)
                // Shifts of std 3 Å searched within 10 Å: the origin errors lie within the search's reach.
                let shifts = c.numbers(row, column + 2, "\(model) shift errors")
                c.expect("\(model) median shift error, \(stage) (Å)", shifts?.first, in: 0...10)
                shiftErrors("\(model) shift error, \(stage)", shifts, &c)
            }
        }
        for model in ["GCN", "MLP"] {
            guard let round = c.row(startingWith: "\(model) round 1") else { continue }
            poseErrors("\(model) pose error after realignment", [c.number(round, 1, "median"), c.number(round, 2, "p90")].compactMap { $0 }, &c)
            c.expect("\(model) share beyond 30° after realignment", c.number(round, 3, "share"), in: 0...1)
            shiftErrors("\(model) shift error after realignment", [c.number(round, 4, "median"), c.number(round, 5, "p90")].compactMap { $0 }, &c)
            trained("\(model) RMSD after realignment", c.number(round, 6, "oracle RMSD"), template: template, &c)
        }
        // The half maps agree to a resolution between Nyquist (4 Å) and the box (128 Å), from the true poses and from
        // those found (64 images in the quick mode: coarse figures, checked for their range only; the found poses'
        // halves are not independent, so they may even agree better than the truth's).
        if let line = c.line("half-map resolution") {
            c.expect("half-map resolution from the true poses (Å)", line.number(after: "the true poses"), in: 4...128)
            c.expect("half-map resolution from the poses found after the rounds (Å)", line.number(after: "after the rounds"), in: 4...128)
        }
        // Pure noise searched against the template: its halves agree through the template alone (reference bias).
        if let line = c.line("control: pure noise searched against the template") {
            c.expect("half-map resolution of pure noise (Å)", line.number(after: "half-map resolution"), in: 4...128)
        } else {
            c.expect(false, "no pure-noise control line")
        }
        // The gold standard: each half's pipeline prints its rows, then the resolutions of the halves' reconstructions.
        for half in ["half 1", "half 2"] {
            guard let row = c.row(startingWith: "\(half) ESL training") else { c.expect(false, "no gold-standard row for \(half)"); continue }
            poseErrors("\(half) pose error after ESL training", [c.number(row, 1, "median"), c.number(row, 2, "p90")].compactMap { $0 }, &c)
            trained("\(half) RMSD after ESL training", c.number(row, 6, "oracle RMSD"), template: template, &c)
        }
        if let line = c.line("gold-standard resolution") {
            for stage in ["the true poses", "after ESL training", "after the rounds"] {
                c.expect("gold-standard resolution, \(stage) (Å)", line.number(after: stage), in: 4...128)
            }
        } else {
            c.expect(false, "no gold-standard resolution line")
        }
        if let line = c.line("gold-standard resolution corrected by noise substitution") {
            c.expect("corrected gold-standard resolution after the rounds (Å)", line.number(after: "after the rounds"), in: 4...128)
        } else {
            c.expect(false, "no corrected gold-standard resolution line")
        }
        if let truth = c.row("the truth") {
            c.expect("template RMSD of the known-pose row", c.number(truth, 1, "template"), equals: template)
            trained("GCN RMSD with the true poses", c.number(truth, 2, "GCN"), template: template, &c)
            trained("MLP RMSD with the true poses", c.number(truth, 3, "MLP"), template: template, &c)
            for (column, what) in [(4, "GCN pose"), (5, "MLP pose"), (6, "GCN shift"), (7, "MLP shift")] {
                c.expect("\(what) error with the true poses and shifts", c.number(truth, column, "\(what) error"), equals: 0)
            }
        }
        for model in ["GCN", "MLP"] {
            guard let line = c.line("\(model): before training pose error") else { continue }
            let errors = line.numbers(after: "pose error")
            poseErrors("\(model) poses before training", Array(errors.prefix(2)), &c)
            c.expect("\(model) median pose error before training", errors.first, in: 0...60)
            shiftErrors("\(model) shifts before training", Array(line.numbers(after: "shift error").prefix(2)), &c)
        }
        if let line = c.line("pose error median / p90 in the template's frame") {
            for stage in ["GCN ESL training", "after the rounds", "MLP ESL training"] {
                poseErrors("pose error in the template's frame, \(stage)", Array(line.numbers(after: stage).prefix(2)), &c)
            }
            // The true poses differ from the template's frame by each DIMS frame's turn from the template (a few degrees).
            let truth = Array(line.numbers(after: "the true poses").prefix(2))
            poseErrors("true poses in the template's frame", truth, &c)
            c.expect("median turn of the true conformations from the template (°)", truth.first, in: 0.1...10)
        }
        if let line = c.line("GCN poses more than 30° off") {
            c.expect("share of all images in wrong pose basins", line.number(after: "all images"), in: 0...1)
            c.expect("share of the confident 80% in wrong pose basins", line.number(after: "smallest ESL spread"), in: 0...1)
            c.expect("median ESL spread (°)", line.number(after: "median spread"), in: 0...180)
        }
        if let line = c.line("gap to known poses") {
            c.expect("GCN gap to known poses", line.number(after: "GCN"), in: -template...template)
            c.expect("GCN / template with unknown poses", line.number(after: "unknown poses ="), in: 0.01...1.5)
        }
    }

    /// A shift error pair (median, p90) in Å for shifts of std 3 Å: both in [0, 15] and median ≤ p90.
    private static func shiftErrors(_ what: String, _ values: [Double]?, _ c: inout FigureChecks) {
        guard let values, values.count == 2 else { return c.missing("\(what) median / p90") }
        c.expect("\(what) median (Å)", values[0], in: 0...15)
        c.expect("\(what) p90 (Å)", values[1], in: 0...15)
        c.expect(values[0] <= values[1], "\(what): median \(values[0]) Å above p90 \(values[1]) Å")
    }

    private static func analyze(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        c.expect("particles read", c.line("read_star:")?.number(before: "particles,"), equals: 300)
        if let line = c.line("trained the GCN") {
            c.expect("epochs", line.number(before: "epochs"), equals: 2)
            if let template = line.number(after: "(template") {
                trained("mean RMSD", line.number(after: "mean RMSD"), template: template, &c)
            }
            c.expect("|corr(latent PC1, frame)|", line.number(after: "frame)|"), in: 0...1)
        }
        if let variance = c.line("explained variance:")?.numbers {
            c.expect(variance.count == 8, "explained variance: \(variance.count) PCs, expected 8")
            c.expect(variance.allSatisfy { (0...1).contains($0) }, "explained variance \(variance) outside [0, 1]")
            c.expect(zip(variance, variance.dropFirst()).allSatisfy { $0 >= $1 }, "explained variance \(variance) not decreasing")
            c.expect(variance.reduce(0, +) <= 1.001, "explained variance sums to \(variance.reduce(0, +)) > 1")
        }
        if let sizes = c.line("state sizes:")?.numbers {
            c.expect(sizes.count == 4, "\(sizes.count) k-means states, expected 4")
            c.expect(sizes.reduce(0, +) == 300 && sizes.allSatisfy { $0 > 0 }, "state sizes \(sizes): not 300 particles in non-empty states")
        }
        if let line = c.line("ARI against the true frames") {
            c.expect("adjusted Rand index", line.number(after: "bins:"), in: -0.5...1)
            c.expect("ground-truth adjusted Rand index", line.number(after: "true conformations:"), in: -0.5...1)
        }
        if let line = c.line("eta2, share of the true frame's variance") {
            c.expect("eta2", line.number(after: "states:"), in: 0...1)
            c.expect("ground-truth eta2", line.number(after: "ground truth:"), in: 0...1)
        }
        c.expect(c.output.text.contains("report: out/analysis/index.html"), "the report's path was not printed")
    }

    private static func customLayer(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        if let line = c.line("gradient check of the script layer") {
            c.expect(line.text.contains("passed: true"), "the script layer's gradient check did not pass: \(line.text)")
            c.expect("gradient check max_error", line.number(after: "max_error:"), in: 0...1e-2)
        }
        if let line = c.line("script layer:") {
            c.expect("script layer ms per step", line.number(before: "ms per step"), in: 0.01...1e5)
            if let template = line.number(after: "(template") {
                trained("script layer mean RMSD", line.number(after: "mean RMSD"), template: template, &c)
                if let native = c.line("native mpnn:") {
                    trained("native mpnn mean RMSD", native.number(after: "mean RMSD"), template: template, &c)
                    c.expect("native mpnn parameters", native.number(before: "parameters"), equals: 62211)
                }
            }
        }
        c.expect("step-time ratio", c.line("step-time ratio")?.number(after: "script / native:"), in: 0.1...100)
    }

    private static func epochSelection(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        if let line = c.line("mean RMSD (Å) to the ground truth") {
            c.expect("images", line.number(before: "images"), equals: 96)
            c.expect("epochs", line.number(before: "epochs"), equals: 2)
        }
        for (data, bound) in [("toy SNR 0.01", 4.0), ("AdK SNR 0.03", 7.0)] {
            for model in ["GCN", "MLP"] {
                guard let row = c.row(data, model) else { continue }
                var figures: [Double] = []
                for (column, rule) in ["oracle", "validation", "loss", "bond", "spread", "last"].enumerated() {
                    let cell = c.numbers(row, 2 + column, rule) ?? []
                    guard cell.count == 2 else { c.missing("\(data) \(model) \(rule): RMSD (epoch)"); continue }
                    c.expect("\(data) \(model) \(rule) RMSD", cell[0], in: 0.01...bound)
                    c.expect("\(data) \(model) \(rule) epoch", cell[1], in: 1...2)
                    figures.append(cell[0])
                }
                if let oracle = figures.first {
                    c.expect(figures.allSatisfy { oracle <= $0 + 0.005 }, "\(data) \(model): the oracle \(oracle) is not the lowest of \(figures)")
                }
            }
        }
    }

    /// The pose searches against given structures: every row's errors in range, and against the exact conformations a
    /// median far below the 126° of random poses even in the quick run (the structures are exact; training is not).
    private static func poseFixedPoint(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        if let line = c.line("AdK DIMS, SNR") {
            c.expect("SNR", line.number(after: "SNR"), equals: 0.03)
            c.expect("images", line.number(before: "images"), equals: 48)
            c.expect("k-means states", line.number(before: "k-means states"), equals: 2)
        }
        if let line = c.line("known-pose GCN: mean RMSD"), let template = line.number(after: "template") {
            c.expect("template RMSD", template, in: 2...8)
            trained("known-pose GCN RMSD", line.number(after: "mean RMSD"), template: template, &c)
            trained("ESL GCN RMSD", line.number(after: "ESL GCN:"), template: template, &c)
        }
        for name in ["the ESL run's trained poses (no search)", "each image's true conformation", "the known-pose run's conformations",
                     "the ESL run's conformations", "k-means states of the ESL run's conformations"] {
            guard let row = c.row(name) else { continue }
            poseErrors(name, [c.number(row, 1, "median"), c.number(row, 2, "p90")].compactMap { $0 }, &c)
            c.expect("\(name): share beyond 30°", c.number(row, 3, "share beyond 30°"), in: 0...1)
        }
        if let row = c.row("each image's true conformation") {
            c.expect("median pose error against the true conformations", c.number(row, 1, "median"), in: 0...20)
        }
    }

    private static func eslPoses(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        if let line = c.line("grid level 1:") {
            c.expect("rotations in the level-1 grid", line.number(after: "grid level 1:"), equals: 14761)
            let radius = line.number(after: "(max")
            c.expect("grid covering radius", radius, in: 1...15)
            c.expect("median distance to the grid", line.number(after: "a median"), in: 0...(radius ?? 15))
        }
        for snr in ["0.1", "0.03", "0.01"] {
            guard let row = c.row(snr) else { continue }
            for (column, method) in [(1, "full-grid ESL"), (2, "coarse-to-fine ESL"), (3, "argmin")] {
                poseErrors("SNR \(snr) \(method)", c.numbers(row, column, method), &c)
                if snr == "0.1" {
                    c.expect("SNR 0.1 \(method) median pose error", c.number(row, column, method), in: 0...15)
                }
            }
            c.expect("SNR \(snr) confidence spread", c.number(row, 4, "confidence"), in: 0...180)
            c.expect("SNR \(snr) full-grid images/s", c.number(row, 5, "full images/s"), in: 1e-3...1e6)
            c.expect("SNR \(snr) coarse-to-fine images/s", c.number(row, 6, "coarse-to-fine images/s"), in: 1e-3...1e6)
            c.expect("SNR \(snr) coarse-to-fine speed-up", c.number(row, 7, "speed-up"), in: 1...1000)
        }
        if let line = c.line("one conformation per image") {
            for method in ["full grid", "coarse-to-fine"] {
                let errors = Array(line.numbers(after: method).prefix(2))
                poseErrors("one conformation per image, \(method)", errors, &c)
                c.expect("one conformation per image, \(method) median", errors.first, in: 0...30)
            }
            let half = line.number(before: "half-size") ?? .infinity, full = line.number(before: "full-size") ?? .infinity
            c.expect(half + full < 14761, "coarse-to-fine renders \(half) + \(full) per image, not fewer than the full grid's 14761")
        }
    }

    private static func makeRelionProject(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        if let line = c.line("wrote a RELION project") {
            c.expect("particles", line.number(before: "particles"), equals: 1000)
            c.expect("box", line.number(after: "particles of"), equals: 128)
            c.expect("optics groups", line.number(before: "optics groups"), equals: 2)
        }
        if let line = c.line("in-memory RMSD"), let template = line.number(after: "(template") {
            c.expect("in-memory RMSD (training must beat the template)", line.number(after: "in-memory RMSD"), in: 0.01...(0.6 * template))
        }
    }

    private static func quickstart(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        if let line = c.line("data:") {
            c.expect("images", line.number(after: "data:"), equals: 256)
            c.expect("residues", line.number(before: "residues"), equals: 120)
            c.expect("SNR", line.number(after: "SNR"), equals: 0.01)
        }
        if let line = c.line("graph:") {
            graph(line, nodes: 120, peptide: 119, hydrogenBondPairs: 178...178, hbonds: "ca-proxy", &c)
        }
        guard let template = c.line("template (no training)")?.number(after: "mean RMSD") else { return }
        c.expect("template RMSD", template, in: 1...5)
        var means: [String: Double] = [:]
        for (label, parameters) in [("paper GCN", 12005.0), ("matched MLP", 12185.0)] {
            guard let line = c.line(label) else { continue }
            c.expect("\(label) parameters", line.number(after: "params"), equals: parameters, tolerance: label == "paper GCN" ? 0 : 0.02 * 12005)
            means[label] = line.number(after: "mean RMSD")
            trained("\(label) mean RMSD", means[label], template: template, &c)
            if let median = line.number(after: "median"), let p90 = line.number(after: "p90") {
                trained("\(label) median RMSD", median, template: template, &c)
                c.expect(median <= p90, "\(label): median RMSD \(median) above p90 \(p90)")
            }
            c.expect("\(label) % within 3 Å", line.number(after: "within 3 Å"), in: 0...100)
            c.expect("\(label) |corr(PC1, frame)|", line.number(after: "frame)|"), in: 0...1)
        }
        if let gcn = means["paper GCN"], let mlp = means["matched MLP"] {
            let named = c.line("→ the")?.text ?? ""
            c.expect(named.contains(gcn < mlp ? "GCN is ahead" : "MLP is ahead"), "GCN \(gcn) Å, MLP \(mlp) Å, but the script says \"\(named)\"")
        }
        if let line = c.line("with normalize: \"pixel\"") {
            trained("pixel-normalised GCN RMSD", line.number(after: "GCN"), template: template, &c)
            trained("pixel-normalised MLP RMSD", line.number(after: "MLP"), template: template, &c)
        }
    }

    private static func relionKnownPoses(_ c: inout FigureChecks, _ earlier: [String: ScriptOutput]) {
        if let line = c.line("read_star:") {
            c.expect("particles", line.number(before: "particles"), equals: 1000)
            c.expect("optics groups", line.number(before: "optics groups"), equals: 2)
            c.expect("resampled size", line.number(after: "resampled to"), equals: 64)
        }
        if let line = c.line("trained on") {
            c.expect("epochs", line.number(before: "epochs"), equals: 20)
            c.expect("last-epoch bond RMS", line.number(after: "bond RMS"), in: 0.01...1)
        }
        analysedStates(expected: 4, particles: 1000, &c)
        // The STAR's poses, origins and CTFs reconstruct a map whose random halves agree to a few Å (Nyquist 4 Å): the
        // particles went in as RELION has them.
        c.expect("half-map resolution from the STAR's poses (Å)", c.line("reconstruction from the STAR's poses")?.number(after: "agree to"), in: 4...10)
        // With --map (the project's noise-free consensus map of the particles' mean conformation, centred on the
        // template's centroid): the template, fitted by construction, agrees with it to a few Å, and so does each
        // state's map (the states span the motion on either side of the mean).
        c.expect("template against the consensus map (FSC 0.5, Å)", c.line("template against the consensus map")?.number(after: "FSC 0.5 at"), in: 1...10)
        if let line = c.line("analyze: each state's map against the consensus map") {
            let resolutions = line.numbers(after: "FSC 0.5:")
            c.expect("state maps' FSC resolutions", Double(resolutions.count), equals: 4)
            for r in resolutions { c.expect("a state map's FSC 0.5 resolution against the consensus map (Å)", r, in: 1...12) }
        }
        // Training on the RELION project's files (streamed, cropped on read, two optics groups, origins as RELION
        // has them) recovers the conformations as well as the same run on the images in memory.
        guard let line = c.line("files RMSD"), let template = line.number(after: "(template") else { return }
        let fromFiles = line.number(after: "files RMSD")
        c.expect("files RMSD (training on the files must beat the template)", fromFiles, in: 0.01...(0.6 * template))
        if let inMemory = earlier["make_relion_project.cryo"]?.number(after: "in-memory RMSD"), let fromFiles {
            c.expect("files RMSD against the in-memory run's \(inMemory) Å", fromFiles, equals: inMemory, tolerance: 0.1 * inMemory)
        }
    }

    /// The workflow's closing analysis: `expected` states that share out all the particles, and its report written.
    private static func analysedStates(expected: Int, particles: Int, _ c: inout FigureChecks) {
        guard let line = c.line("analysis:") else { return }
        let sizes = line.numbers(after: "states of")
        c.expect("states", line.number(after: "analysis:"), equals: Double(expected))
        c.expect(sizes.count == expected, "state sizes \(sizes): expected \(expected) states")
        c.expect("particles over the states", sizes.reduce(0, +), equals: Double(particles))
        c.expect(line.text.hasSuffix("analysis/index.html"), "the analysis report is not named: \(line.text)")
    }

    /// The same RELION project without its poses: the found poses and origins lie near the simulation's (which the
    /// STAR holds), the decoder beats the template, and the written STAR reads back with the poses found.
    private static func relionUnknownPoses(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        // The poses and origins found reconstruct a map whose random halves agree to a few Å (Nyquist 4 Å).
        c.expect("half-map resolution from the poses found (Å)", c.line("reconstruction from the poses found")?.number(after: "agree to"), in: 4...10)
        // --noise-substitution 12: the phase-randomised particles' half maps agree to about 12 Å at best (their images
        // hold nothing finer), and the correction keeps the found poses' figure within the same range.
        if let line = c.line("noise substitution beyond") {
            c.expect("half-map resolution of the phase-randomised particles (Å)", line.number(after: "half maps agree to"), in: 7...40)
            c.expect("corrected half-map resolution (Å)", line.number(after: "corrected:"), in: 4...12)
        } else {
            c.expect(false, "no noise-substitution line")
        }
        if let line = c.line("read_star:") {
            c.expect("particles", line.number(before: "particles"), equals: 1000)
            c.expect("optics groups", line.number(before: "optics groups"), equals: 2)
        }
        if let line = c.line("ESL training:") {
            c.expect("epochs", line.number(after: "ESL training:"), equals: 10)
            c.expect("last-epoch bond RMS", line.number(after: "bond RMS"), in: 0.01...1)
        }
        if let line = c.line("round 1 against the STAR's own poses") {
            let angles = Array(line.numbers(after: "median / p90").prefix(2)), origins = line.numbers(after: "origins")
            poseErrors("pose error after round 1", angles, &c)
            // Random poses would give a median of 126°; the quick run's round finds about 4°.
            c.expect("median pose error after round 1 (°)", angles.first, in: 0...15)
            shiftErrors("origin error after round 1", origins, &c)
            c.expect("median origin error after round 1 (Å; shifts of std 5 Å)", origins.first, in: 0...2)
        }
        if let line = c.line("files RMSD"), let template = line.number(after: "(template") {
            c.expect("files RMSD (training without poses must beat the template)", line.number(after: "files RMSD"), in: 0.01...(0.95 * template))
        }
        analysedStates(expected: 2, particles: 1000, &c)
        if let line = c.line("particles.star read back:") {
            c.expect("particles read back", line.number(after: "read back:"), equals: 1000)
            c.expect("largest pose difference after the round trip (°)", line.number(after: "poses within"), in: 0...0.01)
            c.expect("largest origin difference after the round trip (Å)", line.number(after: "origins within"), in: 0...0.001)
        }
    }

    private static func simulate(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        if let line = c.line("toy protein:") {
            c.expect("residues", line.number(after: "toy protein:"), equals: 120)
            c.expect("ANM frames", line.number(before: "ANM frames"), equals: 20)
            c.expect("first→last frame RMSD", line.number(after: "frame RMSD"), equals: 4, tolerance: 0.05)
        }
        if let line = c.line("simulated") {
            c.expect("images", line.number(after: "simulated"), equals: 64)
            c.expect("size", line.number(after: "images of"), equals: 64)
            c.expect("pixel", line.number(after: "px at"), equals: 2)
            c.expect("SNR", line.number(after: "SNR"), equals: 0.05)
            c.expect("noise σ", line.number(after: "noise σ"), in: 1e-3...1e4)
        }
        c.expect("particles read back", c.line("read_star:")?.number(before: "particles,"), equals: 64)
        c.expect(c.output.text.contains("round trip exact"), "the STAR/MRCS round trip was not reported exact")
    }

    private static func simulateAdK(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        if let line = c.line("AdK:") {
            c.expect("residues", line.number(after: "AdK:"), equals: 214)
            c.expect("frames", line.number(before: "frames"), equals: 98)
            c.expect("closed→open Kabsch RMSD", line.number(after: "Kabsch RMSD"), equals: 6.81, tolerance: 0.05)
        }
        if let line = c.line("wrote") {
            c.expect("particles", line.number(after: "wrote"), equals: 64)
            c.expect("SNR", line.number(after: "SNR"), equals: 0.01)
            c.expect("noise σ", line.number(after: "noise σ"), in: 1e-3...1e4)
        }
    }

    private static func snrSweep(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        var template: Double?
        for normalize in ["particle", "pixel"] {
            for snr in ["0.1", "0.03", "0.01", "0.003"] {
                guard let row = c.row(normalize, snr), let t = c.number(row, 2, "template") else { continue }
                let what = "\(normalize) SNR \(snr)"
                c.expect("\(what) template RMSD (the same template in every row)", t, equals: template ?? t)
                template = template ?? t
                let gcn = c.number(row, 3, "GCN"), mlp = c.number(row, 4, "MLP")
                trained("\(what) GCN RMSD", gcn, template: t, &c)
                trained("\(what) MLP RMSD", mlp, template: t, &c)
                if let gcn, let mlp, row.count > 5 {
                    c.expect(row[5] == (gcn < mlp ? "GCN" : "MLP"), "\(what): GCN \(gcn), MLP \(mlp), but the row says \(row[5]) is ahead")
                }
            }
        }
        guard let template else { return }
        let ablations = c.output.lines(startingWith: "graph ablation")
        c.expect(ablations.count == 2, "\(ablations.count) graph-ablation lines, expected 2 (particle and pixel)")
        for line in ablations {
            trained("graph ablation with hydrogen bonds", line.number(after: "hydrogen bonds"), template: template, &c)
            trained("graph ablation with peptide bonds only", line.number(after: "peptide bonds only"), template: template, &c)
        }
    }

    private static func tour(_ c: inout FigureChecks, _: [String: ScriptOutput]) {
        c.expect("square(3)", c.output.number(after: "square(3) ="), equals: 9)
        c.expect("cube(2)", c.output.number(after: "cube(2) ="), equals: 8)
        c.expect("fib(15)", c.output.number(after: "fib(15) ="), equals: 610)
        c.expect("sum of 0..9", c.output.number(after: "sum of 0..9 ="), equals: 45)
        c.expect("[1, 2, 3] |> len", c.output.number(after: "|> len ="), equals: 3)
        c.expect(c.output.text.contains("a @ a = Tensor[2,2] [[7, 10],\n [15, 22]]"), "a @ a is not [[7, 10], [15, 22]]")
        c.expect(c.output.text.contains("d/dw sum(w^3) = Tensor[2] [6.75, 0.75]"), "d/dw sum(w^3) is not [6.75, 0.75]")
        if let line = c.line("final MSE"), let baseline = line.number(after: "vs") {
            c.expect("constant predictor's MSE", baseline, in: 0.1...2)
            c.expect("final MSE of the MLP trained in the language", line.number(after: "final MSE"), in: 0...(0.1 * baseline))
        }
    }
}
