/// Just enough JSON for one flat log line: every value as text (`null` → "null").
public enum FlatJSON {
    public static func parse(_ line: String) -> [String: String] {
        var result: [String: String] = [:]
        let scalars = Array(line.unicodeScalars)
        var index = 0
        func skipSpaces() { while index < scalars.count, scalars[index] == " " { index += 1 } }
        func readString() -> String {
            var text = ""
            index += 1
            while index < scalars.count, scalars[index] != "\"" {
                if scalars[index] == "\\", index + 1 < scalars.count {
                    index += 1
                }
                text.unicodeScalars.append(scalars[index])
                index += 1
            }
            index += 1
            return text
        }
        index = 1
        while index < scalars.count {
            skipSpaces()
            guard index < scalars.count, scalars[index] == "\"" else { break }
            let key = readString()
            skipSpaces()
            index += 1  // ':'
            skipSpaces()
            if index < scalars.count, scalars[index] == "\"" {
                result[key] = readString()
            } else {
                var text = ""
                while index < scalars.count, scalars[index] != ",", scalars[index] != "}" {
                    text.unicodeScalars.append(scalars[index])
                    index += 1
                }
                result[key] = text
            }
            skipSpaces()
            if index < scalars.count, scalars[index] == "," { index += 1 }
        }
        return result
    }
}
