import CryoKernels
import Foundation

/// Reading a RELION 3.1 Refine3D `run_data.star` of 139,000 particles (an optics table of 2 groups and a particle
/// table of 26 columns, 55 MB): file read plus `STARFile.parse`. The file is synthetic and deterministic; it is
/// written to `$TMPDIR/cryobench-star-139k.star` and left there for `Benchmarks/reference/star_read.py`, which
/// times the `starfile` package on the same bytes.
enum STARReadBenchmark {
    static let particles = 139_000
    static var path: String { FileManager.default.temporaryDirectory.appendingPathComponent("cryobench-star-139k.star").path }

    static func run() throws -> [(String, Double)] {
        try AtomicFile.write(Data(text().utf8), to: path, op: "cryobench")
        var rows = 0
        let ms = try medianMilliseconds(repeats: 5, warmup: 1) {
            guard let data = FileManager.default.contents(atPath: path) else { throw KernelError("cryobench", "\(path): not readable") }
            rows = try STARFile.parse(data, name: path).last?.rows.count ?? 0
        }
        guard rows == particles else { throw KernelError("cryobench", "\(path): parsed \(rows) particles, wrote \(particles)") }
        print("star_read_139k_ms", ms)
        return [("star_read_139k_ms", ms)]
    }

    /// The file's text: values laid out as RELION writes them (fixed-width numbers, `index@stack` image names).
    static func text() -> String {
        var g = SeededGenerator(seed: 139)
        var text = """

        # version 30001

        data_optics

        loop_
        _rlnOpticsGroupName #1
        _rlnOpticsGroup #2
        _rlnMtfFileName #3
        _rlnMicrographOriginalPixelSize #4
        _rlnVoltage #5
        _rlnSphericalAberration #6
        _rlnAmplitudeContrast #7
        _rlnImagePixelSize #8
        _rlnImageSize #9
        _rlnImageDimensionality #10
        opticsGroup1            1 MTFs/mtf_k3_300kV.star     0.830000   300.000000     2.700000     0.100000     1.245000          256            2
        opticsGroup2            2 MTFs/mtf_k3_300kV.star     0.830000   300.000000     2.700000     0.100000     1.245000          256            2


        # version 30001

        data_particles

        loop_

        """
        let labels = ["rlnCoordinateX", "rlnCoordinateY", "rlnAutopickFigureOfMerit", "rlnClassNumber", "rlnAnglePsi", "rlnImageName",
                      "rlnMicrographName", "rlnOpticsGroup", "rlnCtfMaxResolution", "rlnCtfFigureOfMerit", "rlnDefocusU", "rlnDefocusV",
                      "rlnDefocusAngle", "rlnCtfBfactor", "rlnCtfScalefactor", "rlnPhaseShift", "rlnGroupNumber", "rlnAngleRot",
                      "rlnAngleTilt", "rlnOriginXAngst", "rlnOriginYAngst", "rlnNormCorrection", "rlnLogLikeliContribution",
                      "rlnMaxValueProbDistribution", "rlnNrOfSignificantSamples", "rlnRandomSubset"]
        for (k, label) in labels.enumerated() { text += "_\(label) #\(k + 1)\n" }
        text.reserveCapacity(text.utf8.count + particles * 400)
        let perMicrograph = 139
        for i in 0..<particles {
            let micrograph = i / perMicrograph, group = micrograph % 2 + 1
            let defocus = 8000 + 17000 * g.uniform()
            let image = String(format: "%06d", i % perMicrograph + 1) + "@Extract/job012/Movies/mic_\(String(format: "%04d", micrograph)).mrcs"
            let head = String(format: "%12.6f %12.6f %12.6f %12d %12.6f ", 100 + 3800 * g.uniform(), 100 + 5600 * g.uniform(), 0.5 + g.uniform(),
                              1, 360 * g.uniform() - 180)
            let ctf = String(format: " %12d %12.6f %12.6f %12.6f %12.6f %12.6f %12.6f %12.6f %12.6f %12d ", group, 2.5 + 3 * g.uniform(),
                             0.05 + 0.1 * g.uniform(), defocus, defocus - 400 * g.uniform(), 180 * g.uniform(), 0.0, 1.0, 0.0, micrograph + 1)
            let pose = String(format: "%12.6f %12.6f %12.6f %12.6f %12.6f %12.6f %12.6f %12d %12d\n", 360 * g.uniform() - 180, 180 * g.uniform(),
                              8 * g.uniform() - 4, 8 * g.uniform() - 4, 0.8 + 0.4 * g.uniform(), 70000 + 10000 * g.uniform(),
                              0.05 + 0.9 * g.uniform(), 1 + Int(50 * g.uniform()), i % 2 + 1)
            text += head + image + " MotionCorr/job002/Movies/mic_\(String(format: "%04d", micrograph)).mrc" + ctf + pose
        }
        return text
    }
}
