import CryoKernels

/// Pictures: single images and montages as PNG.
enum OutputBuiltins {
    static let topic = "output"

    static var all: [Builtin] {
        [
            builtin("save_image", topic: topic, [required("path"), required("image")],
                    doc: "Writes one image [H,W] as a grayscale PNG (scaled between its 1st and 99th percentiles).",
                    example: "save_image(\"first.png\", data.images[0])") { a in
                let t = try a.tensor("image")
                guard t.rank == 2 else { throw a.fail("image", "one image [H,W]", a["image"]) }
                try PNGImage.montage(t, path: try a.string("path"), columns: 1)
                return .null
            },
            builtin("montage", topic: topic, [required("images"), required("path"), optional("columns", .number(8))],
                    doc: "Tiles images [B,H,W] into a grayscale PNG grid, each scaled on its own.",
                    example: "montage(data.images[0..16], path: \"particles.png\", columns: 8)") { a in
                try PNGImage.montage(try a.tensor("images"), path: try a.string("path"), columns: try a.int("columns"))
                return .null
            },
        ]
    }
}
