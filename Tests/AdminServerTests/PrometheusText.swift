/// A strict-enough reader of the Prometheus text exposition format (0.0.4)
/// for tests: every line is `# HELP name text`, `# TYPE name kind`, or
/// `name{label="value",...} number`; anything else is an error.
struct PrometheusText {
    struct Sample: Hashable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: String
        var reason: String
        var description: String { "bad exposition line (\(self.reason)): \(self.line)" }
    }

    var samples: [Sample] = []
    var types: [String: String] = [:]
    var helps: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(line)
            if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst("# HELP ".count)
                guard let space = rest.firstIndex(of: " "), PrometheusText.isMetricName(rest[..<space]) else {
                    throw ParseError(line: line, reason: "HELP")
                }
                self.helps[String(rest[..<space])] = String(rest[rest.index(after: space)...])
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst("# TYPE ".count).split(separator: " ")
                guard parts.count == 2, PrometheusText.isMetricName(parts[0]),
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[1])
                else { throw ParseError(line: line, reason: "TYPE") }
                self.types[String(parts[0])] = String(parts[1])
            } else if line.hasPrefix("#") {
                throw ParseError(line: line, reason: "unexpected comment")
            } else {
                self.samples.append(try PrometheusText.sample(line))
            }
        }
        for sample in self.samples {
            guard self.types[PrometheusText.family(of: sample.name)] != nil else {
                throw ParseError(line: sample.name, reason: "sample without a TYPE line")
            }
        }
    }

    /// The value of the one sample named `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matches = self.samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matches.count == 1 ? matches[0].value : nil
    }

    func hasSeries(_ name: String) -> Bool {
        self.samples.contains { $0.name == name }
    }

    static func family(of name: String) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count))
        }
        return name
    }

    static func isMetricName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isLetter || first == "_" || first == ":" else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" || $0 == ":" }
    }

    static func sample(_ line: String) throws -> Sample {
        var index = line.startIndex
        while index < line.endIndex, line[index] != "{", line[index] != " " {
            index = line.index(after: index)
        }
        let name = line[..<index]
        guard PrometheusText.isMetricName(name) else { throw ParseError(line: line, reason: "metric name") }
        var labels: [String: String] = [:]
        if index < line.endIndex, line[index] == "{" {
            index = line.index(after: index)
            while index < line.endIndex, line[index] != "}" {
                let nameStart = index
                while index < line.endIndex, line[index] != "=" {
                    index = line.index(after: index)
                }
                let labelName = line[nameStart..<index]
                guard PrometheusText.isMetricName(labelName), index < line.endIndex else {
                    throw ParseError(line: line, reason: "label name")
                }
                index = line.index(after: index)
                guard index < line.endIndex, line[index] == "\"" else { throw ParseError(line: line, reason: "label quote") }
                index = line.index(after: index)
                var value = ""
                while index < line.endIndex, line[index] != "\"" {
                    if line[index] == "\\" {
                        index = line.index(after: index)
                        guard index < line.endIndex else { throw ParseError(line: line, reason: "escape") }
                        switch line[index] {
                        case "n": value.append("\n")
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        default: throw ParseError(line: line, reason: "escape")
                        }
                    } else {
                        value.append(line[index])
                    }
                    index = line.index(after: index)
                }
                guard index < line.endIndex else { throw ParseError(line: line, reason: "unterminated label value") }
                index = line.index(after: index)
                labels[String(labelName)] = value
                if index < line.endIndex, line[index] == "," {
                    index = line.index(after: index)
                }
            }
            guard index < line.endIndex else { throw ParseError(line: line, reason: "unterminated labels") }
            index = line.index(after: index)
        }
        guard index < line.endIndex, line[index] == " " else { throw ParseError(line: line, reason: "space before value") }
        let valueText = line[line.index(after: index)...]
        let parts = valueText.split(separator: " ")
        guard parts.count == 1 || parts.count == 2 else { throw ParseError(line: line, reason: "value") }
        let number: Double?
        switch parts[0].lowercased() {
        case "nan": number = .nan
        case "+inf", "inf": number = .infinity
        case "-inf": number = -.infinity
        default: number = Double(parts[0])
        }
        guard let value = number else { throw ParseError(line: line, reason: "value") }
        return Sample(name: String(name), labels: labels, value: value)
    }
}
