import Foundation

/// A self-contained offline HTML page: headings, paragraphs, tables and PNG figures embedded as base64 data
/// URIs (so the page can be mailed or moved without its folder). On load a script checks every image decoded
/// and sets `data-images="loaded"` on <body> ("broken" otherwise), which headless browsers can read back.
public struct HTMLReport {
    private var body: [String] = []
    public let title: String

    /// An empty page titled `title`.
    public init(title: String) { self.title = title }

    /// `text` with &, <, > and " escaped.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A section heading.
    public mutating func heading(_ text: String) { body.append("<h2>\(Self.escape(text))</h2>") }

    /// A paragraph of plain text.
    public mutating func paragraph(_ text: String) { body.append("<p>\(Self.escape(text))</p>") }

    /// A table with a header row; cells are plain text.
    public mutating func table(header: [String], rows: [[String]]) {
        let head = "<tr>" + header.map { "<th>\(Self.escape($0))</th>" }.joined() + "</tr>"
        let cells = rows.map { "<tr>" + $0.map { "<td>\(Self.escape($0))</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        body.append("<table>\n\(head)\n\(cells)\n</table>")
    }

    /// A list of links to files beside the page (relative `href`s), each with a description.
    public mutating func links(_ items: [(href: String, text: String)]) {
        body.append("<ul>\n" + items.map { "<li><a href=\"\(Self.escape($0.href))\">\(Self.escape($0.href))</a>: \(Self.escape($0.text))</li>" }.joined(separator: "\n") + "\n</ul>")
    }

    /// The PNG at `path`, embedded, with a caption.
    public mutating func figure(_ path: String, caption: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw KernelError("report", "\(path): figure not readable") }
        body.append("<figure><img alt=\"\(Self.escape(caption))\" src=\"data:image/png;base64,\(data.base64EncodedString())\">"
                    + "<figcaption>\(Self.escape(caption))</figcaption></figure>")
    }

    /// The whole page.
    public var html: String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(Self.escape(title))</title>
        <style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}
        td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}figure{display:inline-block;margin:0.5em}img{max-width:100%}</style>
        </head>
        <body data-images="pending">
        <h1>\(Self.escape(title))</h1>
        \(body.joined(separator: "\n"))
        <script>
        window.addEventListener("load", function () {
          var images = Array.prototype.slice.call(document.images);
          var ok = images.every(function (i) { return i.complete && i.naturalWidth > 0; });
          document.body.setAttribute("data-images", ok ? "loaded" : "broken");
        });
        </script>
        </body></html>

        """
    }

    /// Writes the page to `path`.
    public func write(_ path: String) throws { try AtomicFile.write(Data(html.utf8), to: path, op: "report") }
}
