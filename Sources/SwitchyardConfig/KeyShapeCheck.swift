import CYaml

/// Finds every mapping key that is not a plain scalar (an alias, a list or a
/// mapping), with one linear pass of libyaml's event parser, before Yams
/// composes the text. No configuration key is anything but a plain name, and
/// Yams is not safe with such keys (both found by the config-loader fuzz target):
///
/// - it finds duplicate keys by hashing the key nodes, walking an aliased
///   node in full each time it is reached: with `a1: &a1 [*a0, *a0, ...]`
///   nested a few levels, a 400-byte key `*a9` is billions of nodes to hash
///   (depth 6 took 1.8 s, each level ten times more);
/// - when two equal non-scalar keys repeat, it sorts the duplicates with an
///   order that does not compare a mapping with a string, so which key the
///   problem names, and where, changed from run to run.
enum KeyShapeCheck {
    struct Finding: Equatable {
        /// 1-based.
        var line: Int
        var column: Int
        /// `an alias`, `a list` or `a mapping`.
        var found: String
    }

    /// Every key that is not a scalar, in file order (nothing for text
    /// libyaml rejects: composing it reports that).
    static func nonScalarKeys(_ yaml: String) -> [Finding] {
        var bytes = Array(yaml.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> [Finding] in
            guard let base = buffer.baseAddress else { return [] }
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return [] }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, base, buffer.count)

            var findings: [Finding] = []
            // One frame per open collection: is it a mapping, and is its next node a key?
            var stack: [(isMapping: Bool, expectsKey: Bool)] = []
            // The stack depth at which a collection used as a key was opened
            // (what it holds is not looked at: the key is reported as a whole).
            var keyDepth: Int?
            func completed() {
                if let last = stack.indices.last, stack[last].isMapping {
                    stack[last].expectsKey.toggle()
                }
            }
            func atKey() -> Bool {
                keyDepth == nil && (stack.last.map { $0.isMapping && $0.expectsKey } ?? false)
            }
            func found(_ event: yaml_event_t, _ kind: String) {
                findings.append(Finding(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1, found: kind))
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return [] }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return findings
                case YAML_ALIAS_EVENT:
                    if atKey() { found(event, "an alias") }
                    completed()
                case YAML_SCALAR_EVENT:
                    completed()
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let isMapping = event.type == YAML_MAPPING_START_EVENT
                    if atKey() {
                        found(event, isMapping ? "a mapping" : "a list")
                        keyDepth = stack.count
                    }
                    stack.append((isMapping: isMapping, expectsKey: true))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    _ = stack.popLast()
                    if keyDepth == stack.count {
                        keyDepth = nil
                    }
                    completed()
                default:
                    // Stream and document starts, document ends.
                    break
                }
            }
        }
    }
}
