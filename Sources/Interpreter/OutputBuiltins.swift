import Foundation
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
            builtin("write_csv", topic: topic, [required("path"), required("table"), optional("header", .null)],
                    doc: "Writes a [rows, columns] tensor (or a [rows] one) as comma-separated text, with an optional list of column names.",
                    example: "write_csv(\"out/latents.csv\", result.latents, header: [\"z1\", \"z2\"])") { a in
                let t = try a.tensor("table")
                guard t.rank == 1 || t.rank == 2 else { throw a.fail("table", "a [rows, columns] or [rows] tensor", a["table"]) }
                let columns = t.rank == 2 ? t.shape[1] : 1
                var text = ""
                if !a.isNull("header") {
                    let names = try a.list("header").map { v -> String in
                        guard case .string(let s) = v else { throw a.fail("header", "a list of strings", a["header"]) }
                        return s
                    }
                    guard names.count == columns else { throw a.fail("header", "\(columns) column names", a["header"]) }
                    text += names.joined(separator: ",") + "\n"
                }
                for r in 0..<(t.count / Swift.max(columns, 1)) {
                    text += (0..<columns).map { "\(t.storage[r * columns + $0])" }.joined(separator: ",") + "\n"
                }
                try AtomicFile.write(Data(text.utf8), to: try a.string("path"), op: "write_csv")
                return .null
            },
            builtin("read_csv", topic: topic, [required("path")],
                    doc: "Reads a numeric table as write_csv writes it → {table ([rows, columns] tensor), header (the column names, or nil without a header line)}.",
                    example: "read_csv(\"out/latents.csv\").table") { a in
                let csv = try CSVTable.read(try a.string("path"))
                return .record(Record([("table", .tensor(try Tensor(shape: [csv.rows, csv.columns], storage: csv.values))),
                                       ("header", csv.header.map { .list($0.map { .string($0) }) } ?? .null)]))
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
