import Yams

extension ConfigLoader {
    /// One positioned problem for a YAML syntax error. Built from libyaml's
    /// problem and context texts only: `YamlError.description` quotes the
    /// offending line, which may hold a password.
    static func syntaxProblem(_ error: any Error, yaml: String, file: String) -> ConfigProblem {
        guard let error = error as? YamlError else {
            return ConfigProblem(file: file, message: "invalid YAML")
        }
        switch error {
        case let .scanner(context, problem, mark, _),
            let .parser(context, problem, mark, _),
            let .composer(context, problem, mark, _):
            var message = "invalid YAML: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            let position = ConfigLoader.clamped(line: mark.line, column: mark.column, in: yaml)
            return ConfigProblem(file: file, line: position.line, column: position.column, message: message)
        case let .reader(problem, offset, _, _):
            let position = offset.flatMap { ConfigLoader.position(ofCharacter: $0, in: yaml) }
            return ConfigProblem(file: file, line: position?.line, column: position?.column, message: "invalid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            // Yams stops at the first mapping with a repeated key and points at
            // the key's first occurrence. `context.text` is the whole file: unused.
            let keys = duplicates.map { ConfigNode.quoted($0) }.joined(separator: ", ")
            let noun = duplicates.count == 1 ? "key" : "keys"
            return ConfigProblem(
                file: file,
                line: context.mark.line,
                column: context.mark.column,
                message: "duplicate \(noun) \(keys): a key may appear only once in a mapping"
            )
        default:
            return ConfigProblem(file: file, message: "invalid YAML")
        }
    }

    /// A libyaml position moved inside the text. At the end of a text whose
    /// last line has no line break, libyaml reports errors on the line after
    /// it (it starts a new line for the end of the stream), a line an editor
    /// cannot go to: such a position becomes the end of the last line.
    static func clamped(line: Int, column: Int, in text: String) -> (line: Int, column: Int) {
        var lines = 1
        var lastLength = 0
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n" where previousWasCR:
                break
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                lines += 1
                lastLength = 0
            default:
                lastLength += 1
            }
            previousWasCR = scalar == "\r"
        }
        if line > lines || (line == lines && column > lastLength + 1) {
            return (lines, lastLength + 1)
        }
        return (line, column)
    }

    /// 1-based line and column (in Unicode scalars, like libyaml) of the
    /// character at `offset`.
    static func position(ofCharacter offset: Int, in text: String) -> (line: Int, column: Int)? {
        guard offset >= 0 else { return nil }
        var line = 1
        var column = 1
        var index = 0
        for character in text {
            if index == offset {
                return (line, column)
            }
            if character.isNewline {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
            index += 1
        }
        return index == offset ? (line, column) : nil
    }
}
