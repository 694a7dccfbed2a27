import CryoKernels
import Foundation

/// Particle data: simulation, MRCS stacks and RELION STAR files.
enum DataBuiltins {
    static let topic = "data"

    static var all: [Builtin] {
        [
            builtin("simulate", topic: topic, [required("conformations"), optional("images", .number(1000)), optional("size", .number(64)),
                                               optional("pixel", .number(2)), optional("sigma", .string("residue")), optional("weights", .string("residue")),
                                               optional("snr", .number(0.1)), optional("defocus", .list([.number(10000), .number(25000)])),
                                               optional("shift", .number(0)), optional("ctf", .bool(true)), optional("seed", .number(0)), optional("like", .null)],
                    doc: "Simulated particles: random conformation, uniform pose, shift (std, Å), defocus (range, Å), CTF, noise at snr. Returns {images, clean, truth [K,N,3], rotations, shifts, ctf, conformation, pixel, size, snr, noise_sigma}.",
                    example: "let data = simulate(traj, images: 2000, size: 64, pixel: 2, snr: 0.01, seed: 1)") { a in
                let conformations = try a.conformations("conformations")
                var template: Structure?
                if case .object(let o as StructureObject) = a["conformations"] { template = o.structure }
                if !a.isNull("like") { template = try a.structure("like") }
                let n = conformations[0].count / 3
                let defocus = try a.list("defocus").map { v -> Double in
                    guard case .number(let x) = v else { throw a.fail("defocus", "a [low, high] range in Å", a["defocus"]) }
                    return x
                }
                guard defocus.count == 2 || defocus.count == 1, defocus[0] <= defocus[defocus.count - 1] else {
                    throw a.fail("defocus", "[low, high] in Å (or [value])", a["defocus"])
                }
                let settings = Simulator.Settings(images: try a.int("images"), size: try a.int("size"), pixel: Float(try a.number("pixel")),
                                                  snr: try a.number("snr"), defocus: defocus[0]...defocus[defocus.count - 1],
                                                  shift: try a.number("shift"), applyCTF: try a.bool("ctf"),
                                                  seed: UInt64(bitPattern: Int64(try a.int("seed"))))
                let bar = ProgressBar("simulate", total: settings.images)
                let interpreter = a.interpreter
                let (dataset, clean, sigma) = try Simulator.simulate(
                    conformations: conformations,
                    sigma: try a.atomValues("sigma", count: n, template: template, residue: { $0.sigma }, unit: 1.5),
                    weight: try a.atomValues("weights", count: n, template: template, residue: { $0.electrons }, unit: 1),
                    settings: settings, progress: { done, total in bar.update(done); return !interpreter.shouldInterrupt() })
                // Ground truth as rendered: each conformation centred on its own centroid, [K,N,3].
                let truth = conformations.flatMap { Superposition.centred($0).map(Float.init) }
                return DatasetValue.record(dataset, extra: [("clean", .tensor(clean)), ("truth", .tensor(try Tensor(shape: [conformations.count, n, 3], storage: truth))),
                                                            ("snr", .number(settings.snr)), ("noise_sigma", .number(sigma))])
            },
            builtin("read_mrcs", topic: topic, [required("path")],
                    doc: "Reads an MRC/MRCS stack (modes 0, 1, 2, 6, 12; either byte order) → [B,H,W].", example: "let imgs = read_mrcs(\"particles.mrcs\")") { a in
                .tensor(try MRCFile(path: try a.string("path")).tensor())
            },
            builtin("write_mrcs", topic: topic, [required("path"), required("images"), optional("pixel", .number(1))],
                    doc: "Writes images [B,H,W] as an MRC2014 float32 stack with the pixel size (Å) in the header.",
                    example: "write_mrcs(\"particles.mrcs\", data.images, pixel: 2)") { a in
                try MRCFile.write(try a.string("path"), images: try a.tensor("images"), pixel: Float(try a.number("pixel")))
                return .null
            },
            builtin("read_star", topic: topic, [required("path"), optional("images", .bool(true)), optional("stream", .bool(false))],
                    doc: "Reads a RELION 3.1 particle STAR file (and its MRCS stacks unless images: false) into a dataset record. stream: true leaves the images in their stacks (an image_stack) and training reads them a batch at a time, for datasets larger than memory.",
                    example: "let data = read_star(\"particles.star\")") { a in
                DatasetValue.record(try ParticleSTAR.read(try a.string("path"), loadImages: try a.bool("images"), stream: try a.bool("stream")))
            },
            builtin("write_star", topic: topic, [required("path"), required("dataset"), optional("stack", .null)],
                    doc: "Writes a dataset's poses, shifts and CTFs as a RELION 3.1 STAR file whose images are index@stack (default: the STAR name with .mrcs).",
                    example: "write_star(\"particles.star\", data, stack: \"particles.mrcs\")") { a in
                let path = try a.string("path")
                let stack = a.isNull("stack") ? ((path as NSString).deletingPathExtension as NSString).lastPathComponent + ".mrcs" : try a.string("stack")
                try ParticleSTAR.write(path, dataset: try DatasetValue.dataset(a["dataset"], op: "write_star"), stack: stack)
                return .null
            },
        ]
    }
}
