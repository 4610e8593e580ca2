import CYaml

/// Finds a mapping key that is, or holds, an alias, with one linear pass of
/// libyaml's event parser, before Yams composes the text.
///
/// Yams checks every mapping for duplicate keys by hashing the key nodes,
/// and hashing walks an aliased node in full each time it is reached: with
/// `a1: &a1 [*a0, *a0, ...]` nested a few levels, a 400-byte key `*a9` is
/// billions of nodes to hash (found by the config-loader fuzz target: depth 6
/// took 1.8 s, each level ten times more). No configuration key is anything
/// but a plain name, so such a file is refused before Yams sees it.
enum AliasKeyCheck {
    /// 1-based line and column of the first alias in a key position, or nil
    /// (also for text libyaml rejects: composing it reports that).
    static func firstAliasInKey(_ yaml: String) -> (line: Int, column: Int)? {
        var bytes = Array(yaml.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> (line: Int, column: Int)? in
            guard let base = buffer.baseAddress else { return nil }
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, base, buffer.count)

            // One frame per open collection: is it a mapping, and is its next node a key?
            var stack: [(isMapping: Bool, expectsKey: Bool)] = []
            // The stack depth at which a collection used as a key was opened.
            var keyDepth: Int?
            func completed() {
                if let last = stack.indices.last, stack[last].isMapping {
                    stack[last].expectsKey.toggle()
                }
            }
            func atKey() -> Bool {
                stack.last.map { $0.isMapping && $0.expectsKey } ?? false
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_ALIAS_EVENT:
                    if keyDepth != nil || atKey() {
                        return (Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1)
                    }
                    completed()
                case YAML_SCALAR_EVENT:
                    completed()
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    if keyDepth == nil, atKey() {
                        keyDepth = stack.count
                    }
                    stack.append((isMapping: event.type == YAML_MAPPING_START_EVENT, expectsKey: true))
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
