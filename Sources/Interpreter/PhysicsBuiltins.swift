import CryoKernels

/// The forward model: projection, CTF, filters, noise.
enum PhysicsBuiltins {
    static let topic = "physics"

    static var all: [Builtin] {
        [
            builtin("project", topic: topic, [required("coords"), required("rotations"), optional("size", .number(64)), optional("pixel", .number(2)),
                                              optional("sigma", .number(1.5)), optional("weights", .number(1)), optional("shifts", .null), optional("like", .null)],
                    doc: "Gaussian-atom images: coords [B,N,3] or [N,3] Å, rotations [B,3,3], shifts [B,2] Å → [B,D,D]; sigma/weights a number, per-atom tensor or \"residue\" (needs like: structure). Differentiable in coords and shifts.",
                    example: "project(s.coords, random_rotations(8, seed: 1), size: 64, pixel: 2, sigma: \"residue\", weights: \"residue\", like: s)") { a in
                let coords = try a.tensor("coords")
                guard coords.rank >= 2, coords.shape.last == 3 else { throw a.fail("coords", "coordinates [N,3] or [B,N,3]", a["coords"]) }
                let n = coords.shape[coords.rank - 2]
                let template = a.isNull("like") ? nil : try a.structure("like")
                let geometry = try Projector.Geometry(
                    size: try a.int("size"), pixel: Float(try a.number("pixel")),
                    sigma: try a.atomValues("sigma", count: n, template: template, residue: { $0.sigma }, unit: 1.5),
                    weight: try a.atomValues("weights", count: n, template: template, residue: { $0.electrons }, unit: 1))
                return .tensor(try Projector.project(coords: coords, rotations: try a.tensor("rotations"),
                                                     shifts: a.isNull("shifts") ? nil : try a.tensor("shifts"), geometry: geometry))
            },
            builtin("ctf", topic: topic, [required("source"), optional("size", .null), optional("pixel", .null)],
                    doc: "CTFs from a dataset or a parameter record ({defocus, voltage, cs, amplitude, …}); .image gives centred 2D CTFs [B,D,D] on a grid of size: px at pixel: Å (a dataset's own unless given; required for a parameter record), the pixel apply_ctf then uses.",
                    example: "montage(ctf({defocus: 15000}, size: 128, pixel: 1).image, path: \"ctf.png\")") { a in
                let params = try DatasetValue.ctfParameters(a["source"], count: nil, op: "ctf")
                let dataset: Record? = if case .record(let r) = a["source"], r["pixel"] != nil { r } else { nil }
                func datasetValue(_ name: String) throws -> Double {
                    if case .number(let own)? = dataset?[name] { return own }
                    throw ScriptFailure(message: "ctf: give \(name): (the grid of .image and the pixel apply_ctf uses); a parameter record has none")
                }
                let side = a.isNull("size") ? try datasetValue("size") : Double(try a.int("size"))
                guard side >= 1, side <= 4096, side == side.rounded() else { throw a.fail("size", "an image size in 1...4096", .number(side)) }
                let size = Int(side)
                let pixel = try a.optionalNumber("pixel") ?? datasetValue("pixel")
                guard pixel > 0 else { throw a.fail("pixel", "a pixel size > 0 Å", .number(pixel)) }
                return .object(CTFObject(parameters: params, size: size, pixel: Float(pixel)))
            },
            builtin("apply_ctf", topic: topic, [required("images"), required("ctf"), optional("pixel", .null)],
                    doc: "Filters images [B,D,D] by their CTFs (a ctf(...) value, a dataset or a parameter record) with FFTW; differentiable. pixel: (Å) comes from the ctf(...) value or the dataset unless given; a parameter record needs it.",
                    example: "apply_ctf(project(x, R, size: 64, pixel: 2), data)") { a in
                let images = try a.tensor("images")
                guard images.rank == 3 else { throw a.fail("images", "images [B,D,D]", a["images"]) }
                let params = try DatasetValue.ctfParameters(a["ctf"], count: nil, op: "apply_ctf")
                var pixel = try a.optionalNumber("pixel")
                if pixel == nil, case .object(let o as CTFObject) = a["ctf"] { pixel = Double(o.pixel) }
                if pixel == nil, case .record(let r) = a["ctf"], case .number(let p)? = r["pixel"] { pixel = p }
                guard let pixel else { throw ScriptFailure(message: "apply_ctf: give pixel: (Å) unless the ctf comes from ctf(...) or a dataset") }
                return .tensor(try FourierFilter.applyCTF(images, parameters: params, pixel: Float(pixel)))
            },
            builtin("low_pass", topic: topic, [required("images"), required("pixel"), required("resolution")],
                    doc: "Keeps frequencies up to 1/resolution Å⁻¹ (raised-cosine edge); differentiable.",
                    example: "low_pass(data.images, pixel: 2, resolution: 8)") { a in
                .tensor(try FourierFilter.lowPass(try a.tensor("images"), pixel: Float(try a.number("pixel")), resolution: Float(try a.number("resolution"))))
            },
            builtin("downsample", topic: topic, [required("images"), required("size")],
                    doc: "Fourier-crops images [B,D,D] to [B,size,size] (pixel grows by D/size; each image's sum is kept).",
                    example: "downsample(data.images, size: 32)") { a in
                if case .object(let o as StreamedImagesObject) = a["images"] {
                    throw ScriptFailure(message: "downsample: these images are streamed from their stacks (\(o.images.count) of \(o.images.size) px); crop them on read instead: read_star(path, stream: true, size: \(try a.int("size")))")
                }
                return .tensor(try FourierFilter.downsample(try a.tensor("images"), to: try a.int("size")))
            },
            builtin("add_noise", topic: topic, [required("images"), required("snr"), optional("seed", .null)],
                    doc: "Adds white Gaussian noise of variance var(images)/snr (over the whole batch).",
                    example: "add_noise(clean, snr: 0.01, seed: 3)") { a in
                let images = try a.tensor("images"), snr = try a.number("snr")
                return .tensor(try a.withGenerator { g in try Noise.add(images, snr: snr, using: &g).0 })
            },
        ]
    }
}
