/// The text formats of the structured targets: one directive per line,
/// fields separated by tabs (`rule\tprimary\tprefix=/admin`). Lines whose
/// directive is unknown are ignored, so every byte string is a valid input.
struct FuzzLines {
    struct Line {
        var directive: Substring
        var fields: [Substring]

        func field(_ index: Int) -> Substring? {
            index < self.fields.count ? self.fields[index] : nil
        }
    }

    var lines: [Line] = []

    init(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var parts = raw.split(separator: "\t", omittingEmptySubsequences: false)
            guard !parts.isEmpty else { continue }
            let directive = parts.removeFirst()
            self.lines.append(Line(directive: directive, fields: parts))
        }
    }

    func all(_ directive: String) -> [Line] {
        self.lines.filter { $0.directive == directive }
    }

    func first(_ directive: String) -> Line? {
        self.lines.first { $0.directive == directive }
    }
}
