import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What both head parsers (`ClientRequestParser`, `UpstreamResponseParser`)
/// share: heads are kept as their bytes, and the header lines that cross the
/// proxy are copied verbatim, as runs of consecutive lines.
package enum HeadLines {
    /// One header line, as offsets into its head.
    package struct Line {
        var start: Int
        /// Where the line's content ends (its CR or LF).
        var end: Int
        var endsInCRLF: Bool
        var nameEnd: Int
        var valueStart: Int
        var valueEnd: Int
        /// The line is forwarded.
        var keep: Bool

        var name: Range<Int> { self.start..<self.nameEnd }
        var value: Range<Int> { self.valueStart..<self.valueEnd }
    }

    /// Consecutive forwarded lines. A run with `appendLineEnd` is one line
    /// whose own end was a bare LF; the others include their CRLFs.
    package struct Run: Equatable {
        package var start: Int
        package var length: Int
        package var appendLineEnd: Bool
    }

    /// Drops the lines whose names a `Connection` header listed (`listed`:
    /// ranges of those names in `bytes`).
    static func dropListed(_ lines: inout [Line], listed: [Range<Int>], in bytes: UnsafeRawBufferPointer) {
        guard !listed.isEmpty else { return }
        for position in lines.indices where lines[position].keep {
            let name = lines[position].name
            if Self.isListed(name, listed, in: bytes) {
                lines[position].keep = false
            }
        }
    }

    /// The same over runs (a response head keeps no lines): the runs rebuilt
    /// without the listed lines. Each line of a run is a validated header
    /// line, so its name ends at its first colon.
    static func dropListed(_ runs: inout [Run], listed: [Range<Int>], in bytes: UnsafeRawBufferPointer) {
        guard !listed.isEmpty else { return }
        var kept: [Run] = []
        var builder = RunBuilder()
        for run in runs {
            var start = run.start
            let runEnd = run.start + run.length
            while start < runEnd {
                // A run with `appendLineEnd` is one line without its end.
                let lineEnd = run.appendLineEnd ? runEnd : (Self.index(of: UInt8(ascii: "\n"), in: bytes, from: start) ?? runEnd - 1) - 1
                let colon = Self.index(of: UInt8(ascii: ":"), in: UnsafeRawBufferPointer(rebasing: bytes[start..<lineEnd]), from: 0) ?? 0
                if !Self.isListed(start..<(start + colon), listed, in: bytes) {
                    builder.add(start: start, end: lineEnd, endsInCRLF: !run.appendLineEnd) { kept.append($0) }
                }
                start = run.appendLineEnd ? runEnd : lineEnd + 2
            }
        }
        builder.finish { kept.append($0) }
        runs = kept
    }

    private static func isListed(_ name: Range<Int>, _ listed: [Range<Int>], in bytes: UnsafeRawBufferPointer) -> Bool {
        listed.contains { HeaderHygiene.namesEqualIgnoringCase(bytes: bytes[name], bytes[$0]) }
    }

    /// The kept lines as runs of consecutive lines.
    static func runs(_ lines: [Line]) -> [Run] {
        var runs: [Run] = []
        Self.forEachRun(lines) { runs.append($0) }
        return runs
    }

    /// `runs` without the array: each run as it is found.
    static func forEachRun(_ lines: [Line], _ body: (Run) -> Void) {
        var builder = RunBuilder()
        for line in lines where line.keep {
            builder.add(start: line.start, end: line.end, endsInCRLF: line.endsInCRLF, body)
        }
        builder.finish(body)
    }

    /// Joins forwarded lines, given in order, into runs: consecutive lines
    /// that end in CRLF make one run; a line ending in a bare LF is a run of
    /// its own (its end is written as CRLF).
    struct RunBuilder {
        /// The run being extended (`length` 0: none).
        private var pending = Run(start: 0, length: 0, appendLineEnd: false)

        /// A forwarded line (`start..<end`, its line end excluded); `body`
        /// gets each run this completes.
        mutating func add(start: Int, end: Int, endsInCRLF: Bool, _ body: (Run) -> Void) {
            if endsInCRLF {
                if self.pending.length > 0, self.pending.start + self.pending.length == start {
                    self.pending.length += end + 2 - start
                    return
                }
                self.finish(body)
                self.pending = Run(start: start, length: end + 2 - start, appendLineEnd: false)
            } else {
                self.finish(body)
                body(Run(start: start, length: end - start, appendLineEnd: true))
            }
        }

        /// Hands over the run being extended, if any.
        mutating func finish(_ body: (Run) -> Void) {
            if self.pending.length > 0 {
                body(self.pending)
                self.pending.length = 0
            }
        }
    }

    /// The first `byte` at or after `start` (memchr: heads are scanned line by line).
    static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// RFC 9110 tchar: digits, letters and ``!#$%&'*+-.^_`|~``. A table
    /// lookup: names are most of what a head's bytes are checked against,
    /// byte by byte.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        Self.tokenTable.utf8Start[Int(byte)] == UInt8(ascii: "1")
    }

    /// "1" at each tchar's byte value, 64 bytes a row (a constant in the binary).
    private static let tokenTable: StaticString = """
        0000000000000000000000000000000001011111001101101111111111000000\
        0111111111111111111111111110001111111111111111111111111111101010\
        0000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000
        """

    /// Field values and reason phrases: HTAB, SP, visible ASCII, obs-text.
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F)
    }

    /// Whether every byte in `range` is a field value byte (`isFieldValueByte`).
    ///
    /// Eight bytes at a time: a word with no byte below 0x20 and none equal to
    /// 0x7F is all valid (bytes from 0x80 up are obs-text, allowed); only a
    /// word with a suspect byte (a control, or a tab, which is allowed) is
    /// looked at byte by byte. Values are most of a head's bytes.
    static func areFieldValueBytes(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        guard range.count >= 8 else {
            for index in range where !Self.isFieldValueByte(bytes[index]) {
                return false
            }
            return true
        }
        // Whole words, the last one overlapping the one before when the
        // length is no multiple of eight.
        var index = range.lowerBound
        while index < range.upperBound {
            let position = min(index, range.upperBound - 8)
            let word = bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)
            // Nonzero exactly when some byte is below 0x20 (the borrow of the
            // subtraction sets its high bit; `& ~word` rules out bytes from 0x80).
            let below0x20 = (word &- 0x2020_2020_2020_2020) & ~word & 0x8080_8080_8080_8080
            // Nonzero exactly when some byte is 0x7F (a zero byte of the XOR).
            let delete = word ^ 0x7F7F_7F7F_7F7F_7F7F
            let has0x7F = (delete &- 0x0101_0101_0101_0101) & ~delete & 0x8080_8080_8080_8080
            if below0x20 | has0x7F != 0 {
                for offset in position..<(position + 8) where !Self.isFieldValueByte(bytes[offset]) {
                    return false
                }
            }
            index += 8
        }
        return true
    }

    /// Splits a header line (`start..<end`, its line end excluded) into name
    /// and value: a token, a colon right after it, the value without the
    /// spaces and tabs around it. Nil when the line is malformed (whitespace
    /// first, i.e. obs-fold, no colon, a bad name or value byte).
    static func parseLine(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int, endsInCRLF: Bool) -> Line? {
        let first = bytes[start]
        guard first != UInt8(ascii: " "), first != UInt8(ascii: "\t") else { return nil }
        var colon = start
        while colon < end, Self.isTokenByte(bytes[colon]) { colon += 1 }
        guard colon > start, colon < end, bytes[colon] == UInt8(ascii: ":") else { return nil }
        var valueStart = colon + 1
        while valueStart < end, bytes[valueStart] == UInt8(ascii: " ") || bytes[valueStart] == UInt8(ascii: "\t") {
            valueStart += 1
        }
        var valueEnd = end
        while valueEnd > valueStart, bytes[valueEnd - 1] == UInt8(ascii: " ") || bytes[valueEnd - 1] == UInt8(ascii: "\t") {
            valueEnd -= 1
        }
        guard Self.areFieldValueBytes(bytes, valueStart..<valueEnd) else { return nil }
        return Line(
            start: start, end: end, endsInCRLF: endsInCRLF, nameEnd: colon, valueStart: valueStart, valueEnd: valueEnd, keep: true)
    }

    /// ASCII case-insensitive comparison with a lower-case `target` (HeaderHygiene's, on a range).
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ target: StaticString) -> Bool {
        HeaderHygiene.equalsIgnoringCase(bytes: UnsafeRawBufferPointer(rebasing: bytes[range]), target)
    }

    static func hasPrefixIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ prefix: StaticString) -> Bool {
        HeaderHygiene.hasPrefixIgnoringCase(bytes: UnsafeRawBufferPointer(rebasing: bytes[range]), prefix)
    }

    /// A non-negative decimal, digits only, at most 18 of them.
    static func decimal(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value = 0
        for index in range {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func string(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}

extension HeadLines {
    /// Whether `bytes` holds `text` at `offset`, exactly. Inlined: with the
    /// literal's length a constant, the comparison is a few loads.
    @inline(__always)
    static func matches(_ bytes: UnsafeRawBufferPointer, at offset: Int, _ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard offset >= 0, offset + count <= bytes.count, let base = bytes.baseAddress else { return count == 0 }
        guard text.hasPointerRepresentation else {
            return text.withUTF8Buffer { UnsafeRawBufferPointer($0).elementsEqual(UnsafeRawBufferPointer(start: base + offset, count: count)) }
        }
        return memcmp(base + offset, text.utf8Start, count) == 0
    }
}

/// Where a head being encoded goes: a counter (the first pass) or a buffer's
/// writable space (the second).
protocol HeadByteOutput {
    mutating func put(_ bytes: UnsafeRawBufferPointer)
    /// Requirements, not only extension methods: the counter counts a text
    /// without reaching its bytes. A literal goes through `literal`: given to
    /// `put`, a string literal is a `String`.
    mutating func literal(_ text: StaticString)
    mutating func put(_ text: String)
}

extension HeadByteOutput {
    /// A literal's bytes are where the literal is: no closure (one through
    /// `withUTF8Buffer` stayed a call per piece).
    @inline(__always)
    mutating func literal(_ text: StaticString) {
        if text.hasPointerRepresentation {
            self.put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        } else {
            text.withUTF8Buffer { self.put(UnsafeRawBufferPointer($0)) }
        }
    }

    /// A native string's bytes are read where they are: no copy of the
    /// string (the `var` copy `withUTF8` needs cost a retain and a release
    /// per value, two passes per head).
    mutating func put(_ text: String) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { self.put(UnsafeRawBufferPointer($0)) }
        if done == nil {
            var text = text
            text.withUTF8 { self.put(UnsafeRawBufferPointer($0)) }
        }
    }
}

/// Local answers are written straight into their buffer.
extension ByteBuffer: HeadByteOutput {
    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        self.writeBytes(bytes)
    }
}

/// Counts what would be written.
struct HeadByteCounter: HeadByteOutput {
    private(set) var count = 0

    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        self.count += bytes.count
    }

    mutating func literal(_ text: StaticString) {
        self.count += text.utf8CodeUnitCount
    }

    mutating func put(_ text: String) {
        self.count += text.utf8.count
    }
}

/// Copies into `space`, sized by a `HeadByteCounter` pass over the same
/// pieces. Bytes past its end are dropped rather than written out of bounds
/// (the two passes agree, so none are).
struct HeadByteWriter: HeadByteOutput {
    private let space: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(_ space: UnsafeMutableRawBufferPointer) {
        self.space = space
    }

    /// Inlined: a literal's length is then a constant (a call per piece cost
    /// more than the copy).
    @inline(__always)
    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        let length = min(bytes.count, self.space.count - self.count)
        guard length > 0, let source = bytes.baseAddress, let target = self.space.baseAddress else { return }
        (target + self.count).copyMemory(from: source, byteCount: length)
        self.count += length
    }
}
