import Foundation

/// mmCIF (PDBx) coordinate files: the `_atom_site` table of the first data block, read into the same `Structure`
/// that `PDBFile.read` gives for the equivalent PDB file. Columns are found by their labels: the atom name, residue
/// name, residue number and chain come from `auth_atom_id`, `auth_comp_id`, `auth_seq_id` and `auth_asym_id` (what
/// PDB files hold), falling back to the `label_*` column where the `auth_*` one is absent or `?`/`.`; models from
/// `pdbx_PDB_model_num`, alternate locations from `label_alt_id` (the first is kept), insertion codes from
/// `pdbx_PDB_ins_code`, elements from `type_symbol`. Other categories, including `;` multi-line text fields, are
/// skipped.
public enum MMCIFFile {
    /// Whether `path` names an mmCIF file by its extension (`.cif` or `.mmcif`, any case).
    public static func isMMCIF(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".cif") || lower.hasSuffix(".mmcif")
    }

    /// Reads the atoms of `selection` from the mmCIF file at `path`; errors name the file and line.
    public static func read(_ path: String, selection: PDBFile.Selection = .ca, op: String = "read_cif") throws -> Structure {
        guard let data = FileManager.default.contents(atPath: path) else { throw KernelError(op, "\(path): no such file or not readable") }
        return try parse(data, name: path, selection: selection, op: op)
    }

    /// Parses mmCIF bytes (see `read`).
    public static func parse(_ data: Data, name: String, selection: PDBFile.Selection = .ca, op: String = "read_cif") throws -> Structure {
        try data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let table = try atomSiteTable(bytes, name: name, op: op)
            return try structure(table, bytes, name: name, selection: selection, op: op)
        }
    }

    /// The `_atom_site` columns (labels after the dot, lower case) and their values, row after row.
    private struct Table {
        var labels: [String] = []
        var values: [STARLexer.Token] = []
    }

    /// Collects the `_atom_site` loop (or its key–value form, for a single atom) of the first data block.
    private static func atomSiteTable(_ bytes: UnsafeBufferPointer<UInt8>, name: String, op: String) throws -> Table {
        enum State { case outside, labels, values }
        var table = Table(), state = State.outside, loopIsAtomSite = false, pendingLabel: String?, blocks = 0
        func fail(_ t: STARLexer.Token, _ message: String) -> KernelError {
            KernelError(op, "\(name):\(STARLexer.lineNumber(bytes, t.start)): \(message)")
        }
        try tokens(bytes, name: name, op: op) { t in
            let word = { STARLexer.string(bytes, t) }
            if !t.quoted && STARLexer.hasPrefix(bytes, t.start, t.end, "data_") {
                blocks += 1
                return blocks == 1
            }
            if !t.quoted && STARLexer.isKeyword(bytes, t.start, t.end, "loop_") {
                state = .labels
                loopIsAtomSite = false
                return true
            }
            if !t.quoted && bytes[t.start] == UInt8(ascii: "_") {
                let label = word().lowercased()
                let isAtomSite = label.hasPrefix("_atom_site.")
                if state == .labels {
                    if isAtomSite { table.labels.append(String(label.dropFirst(11))) }
                    loopIsAtomSite = isAtomSite
                } else {
                    if let pendingLabel { throw fail(t, "label \(pendingLabel) has no value") }
                    state = .outside
                    pendingLabel = label
                }
                return true
            }
            if let label = pendingLabel {
                if label.hasPrefix("_atom_site.") {
                    table.labels.append(String(label.dropFirst(11)))
                    table.values.append(t)
                }
                pendingLabel = nil
                return true
            }
            switch state {
            case .outside: throw fail(t, "value '\(word())' outside any loop_ and without a label")
            case .labels, .values:
                state = .values
                if loopIsAtomSite { table.values.append(t) }
            }
            return true
        }
        guard !table.labels.isEmpty else {
            throw KernelError(op, "\(name): no _atom_site table (an mmCIF coordinate file lists its atoms in a loop_ of _atom_site.* columns)")
        }
        guard table.values.count % table.labels.count == 0 else {
            throw KernelError(op, "\(name): the _atom_site table has \(table.values.count) values for \(table.labels.count) columns, not a whole number of rows")
        }
        return table
    }

    /// Calls `body` on every value, label and keyword of the file, in order, until it returns false. A `;` at the
    /// start of a line opens a text field that runs to the next line starting with `;` (one token, quoted).
    private static func tokens(_ bytes: UnsafeBufferPointer<UInt8>, name: String, op: String, _ body: (STARLexer.Token) throws -> Bool) throws {
        var i = 0
        while i < bytes.count {
            var end = STARLexer.lineEnd(bytes, from: i)
            var p = i
            if bytes[i] == UInt8(ascii: ";") {
                var close = end + 1
                while close < bytes.count && bytes[close] != UInt8(ascii: ";") { close = STARLexer.lineEnd(bytes, from: close) + 1 }
                guard close < bytes.count else {
                    throw KernelError(op, "\(name):\(STARLexer.lineNumber(bytes, i)): a ';' text field that no line starting with ';' closes")
                }
                guard try body(STARLexer.Token(start: i + 1, end: Swift.max(i + 1, close - 1), quoted: true)) else { return }
                p = close + 1
                end = STARLexer.lineEnd(bytes, from: close)
            }
            do {
                while let t = try STARLexer.next(bytes, &p, end) {
                    guard try body(t) else { return }
                }
            } catch let error as STARLexer.UnterminatedQuote {
                throw KernelError(op, "\(name):\(STARLexer.lineNumber(bytes, error.position)): unterminated quote")
            }
            i = end + 1
        }
    }

    /// The structure of the `_atom_site` rows.
    private static func structure(_ table: Table, _ bytes: UnsafeBufferPointer<UInt8>, name: String, selection: PDBFile.Selection,
                                  op: String) throws -> Structure {
        let width = table.labels.count
        func column(_ label: String) -> Int? { table.labels.firstIndex(of: label.lowercased()) }
        func requiredColumn(_ labels: String...) throws -> [Int] {
            let found = labels.compactMap(column)
            guard !found.isEmpty else {
                throw KernelError(op, "\(name): the _atom_site table has no \(labels.map { "_atom_site.\($0)" }.joined(separator: " or ")) column")
            }
            return found
        }
        let (x, y, z) = (try requiredColumn("Cartn_x")[0], try requiredColumn("Cartn_y")[0], try requiredColumn("Cartn_z")[0])
        let atomName = try requiredColumn("auth_atom_id", "label_atom_id"), residueNumber = try requiredColumn("auth_seq_id", "label_seq_id")
        let residueName = ["auth_comp_id", "label_comp_id"].compactMap(column), chain = ["auth_asym_id", "label_asym_id"].compactMap(column)
        let model = column("pdbx_PDB_model_num"), altLoc = column("label_alt_id"), insertion = column("pdbx_PDB_ins_code")
        let element = column("type_symbol")

        var assembler = StructureAssembler(name: name, selection: selection, op: op)
        /// "file:line" of row `row`'s first value.
        func location(_ row: Int) -> String { "\(name):\(STARLexer.lineNumber(bytes, table.values[row * width].start))" }
        var currentModel: String?
        let rows = table.values.count / width
        for row in 0..<rows {
            let base = row * width
            /// The value in `column`, nil when it is `?` (unknown) or `.` (not applicable).
            func value(_ column: Int) -> String? {
                let t = table.values[base + column]
                let text = STARLexer.string(bytes, t)
                return !t.quoted && (text == "?" || text == ".") ? nil : text
            }
            func first(_ columns: [Int]) -> String? { columns.lazy.compactMap(value).first }
            func number(_ column: Int, _ what: String) throws -> Double {
                guard let text = value(column), let v = Double(text), v.isFinite else {
                    throw KernelError(op, "\(location(row)): \(what) '\(STARLexer.string(bytes, table.values[base + column]))' is not a number")
                }
                return v
            }
            let modelNumber = model.flatMap(value)
            if row > 0 && modelNumber != currentModel { try assembler.closeModel(at: location(row)) }
            currentModel = modelNumber
            guard let residueText = first(residueNumber), let residue = Int(residueText) else {
                throw KernelError(op, "\(location(row)): residue number '\(first(residueNumber) ?? "?")' is not an integer")
            }
            let atom = Structure.Atom(name: first(atomName) ?? "", residueName: first(residueName) ?? "", residueNumber: residue,
                                      insertionCode: insertion.flatMap(value) ?? "", chain: first(chain) ?? "", element: element.flatMap(value) ?? "")
            assembler.add(atom, altLoc: altLoc.flatMap(value) ?? "", x: try number(x, "x coordinate"), y: try number(y, "y coordinate"),
                          z: try number(z, "z coordinate"))
        }
        try assembler.closeModel(at: rows > 0 ? location(rows - 1) : name)
        return try assembler.structure(records: "the _atom_site table")
    }
}

/// Writing: a minimal PDBx/mmCIF `_atom_site` loop (one row per atom per model, models numbered by
/// `pdbx_PDB_model_num`) that gemmi, ChimeraX, PyMOL and `read` above open.
extension MMCIFFile {
    /// Writes `models` (each 3·N Å values) of the atoms of `template`, with `bFactors` (one per atom) in
    /// `B_iso_or_equiv` when given (0 otherwise). `name` becomes the data block's name.
    public static func write(_ path: String, models: [[Double]], like template: Structure, bFactors: [Double]? = nil, name: String = "cryoscript") throws {
        guard !models.isEmpty else { throw KernelError("write_cif", "\(path): nothing to write") }
        for (k, m) in models.enumerated() where m.count != 3 * template.count {
            throw KernelError("write_cif", "\(path): model \(k + 1) has \(m.count / 3) atoms, the template \(template.count)")
        }
        if let bFactors, bFactors.count != template.count {
            throw KernelError("write_cif", "\(path): \(bFactors.count) B-factors for the template's \(template.count) atoms")
        }
        let columns = ["group_PDB", "id", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id", "label_asym_id", "label_entity_id",
                       "label_seq_id", "pdbx_PDB_ins_code", "Cartn_x", "Cartn_y", "Cartn_z", "occupancy", "B_iso_or_equiv",
                       "auth_seq_id", "auth_comp_id", "auth_asym_id", "auth_atom_id", "pdbx_PDB_model_num"]
        let block = name.filter { !$0.isWhitespace }
        var text = "data_\(block.isEmpty ? "cryoscript" : block)\n#\nloop_\n" + columns.map { "_atom_site.\($0)\n" }.joined()
        // Chains become entities in order of appearance; label_seq_id numbers each chain's residues from 1.
        var entity: [String: Int] = [:], sequence: [Int] = [], previous: (String, Int, String)?, counter = 0
        for atom in template.atoms {
            let chain = atom.chain.isEmpty ? "A" : atom.chain
            if entity[chain] == nil { entity[chain] = entity.count + 1; counter = 0 }
            let key = (chain, atom.residueNumber, atom.insertionCode)
            if previous.map({ $0 != key }) ?? true { counter += 1 }
            previous = key
            sequence.append(counter)
        }
        func token(_ s: String) -> String {
            if s.isEmpty { return "?" }
            if s.contains("'") { return "\"\(s)\"" }
            return s.contains(where: \.isWhitespace) || s.hasPrefix("_") || s.hasPrefix("#") ? "'\(s)'" : s
        }
        var serial = 0
        for (k, m) in models.enumerated() {
            for (i, atom) in template.atoms.enumerated() {
                serial += 1
                let chain = atom.chain.isEmpty ? "A" : atom.chain
                let b = Swift.max(-99.99, Swift.min(999.99, bFactors?[i] ?? 0))
                let fields = ["ATOM", "\(serial)", token(atom.element), token(atom.name), ".", token(atom.residueName), token(chain), "\(entity[chain] ?? 1)",
                              "\(sequence[i])", atom.insertionCode.isEmpty ? "?" : token(atom.insertionCode),
                              String(format: "%.3f", m[3 * i]), String(format: "%.3f", m[3 * i + 1]), String(format: "%.3f", m[3 * i + 2]),
                              "1.00", String(format: "%.2f", b), "\(atom.residueNumber)", token(atom.residueName), token(chain), token(atom.name), "\(k + 1)"]
                text += fields.joined(separator: " ") + "\n"
            }
        }
        text += "#\n"
        try AtomicFile.write(Data(text.utf8), to: path, op: "write_cif")
    }
}
