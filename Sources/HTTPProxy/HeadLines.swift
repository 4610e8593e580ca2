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
            if listed.contains(where: { HeaderHygiene.namesEqualIgnoringCase(bytes: bytes[name], bytes[$0]) }) {
                lines[position].keep = false
            }
        }
    }

    /// The kept lines as runs of consecutive lines.
    static func runs(_ lines: [Line]) -> [Run] {
        var runs: [Run] = []
        Self.runs(lines, into: &runs)
        return runs
    }

    /// The kept lines as runs, in `runs` (emptied first; its storage is reused
    /// when nothing else holds it, e.g. the last head built from it).
    static func runs(_ lines: [Line], into runs: inout [Run]) {
        runs.removeAll(keepingCapacity: true)
        runs.reserveCapacity(4)
        Self.forEachRun(lines) { runs.append($0) }
    }

    /// `runs` without the array: each run as it is found.
    static func forEachRun(_ lines: [Line], _ body: (Run) -> Void) {
        var pending: Run? = nil
        for line in lines where line.keep {
            if line.endsInCRLF {
                let length = line.end + 2 - line.start
                if let run = pending, run.start + run.length == line.start {
                    pending?.length += length
                    continue
                }
                if let run = pending { body(run) }
                pending = Run(start: line.start, length: length, appendLineEnd: false)
            } else {
                if let run = pending { body(run) }
                pending = nil
                body(Run(start: line.start, length: line.end - line.start, appendLineEnd: true))
            }
        }
        if let run = pending { body(run) }
    }

    /// The first `byte` at or after `start` (memchr: heads are scanned line by line).
    static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// RFC 9110 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

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
        var index = range.lowerBound
        while index + 8 <= range.upperBound {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // Nonzero exactly when some byte is below 0x20 (the borrow of the
            // subtraction sets its high bit; `& ~word` rules out bytes from 0x80).
            let below0x20 = (word &- 0x2020_2020_2020_2020) & ~word & 0x8080_8080_8080_8080
            // Nonzero exactly when some byte is 0x7F (a zero byte of the XOR).
            let delete = word ^ 0x7F7F_7F7F_7F7F_7F7F
            let has0x7F = (delete &- 0x0101_0101_0101_0101) & ~delete & 0x8080_8080_8080_8080
            if below0x20 | has0x7F != 0 {
                for position in index..<(index + 8) where !Self.isFieldValueByte(bytes[position]) {
                    return false
                }
            }
            index += 8
        }
        while index < range.upperBound {
            guard Self.isFieldValueByte(bytes[index]) else { return false }
            index += 1
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
    /// Whether `bytes` holds `text` at `offset`, exactly.
    static func matches(_ bytes: UnsafeRawBufferPointer, at offset: Int, _ text: StaticString) -> Bool {
        guard offset + text.utf8CodeUnitCount <= bytes.count else { return false }
        return text.withUTF8Buffer { expected in
            for index in 0..<expected.count where bytes[offset + index] != expected[index] {
                return false
            }
            return true
        }
    }
}

/// Where a head being encoded goes: a counter (the first pass) or a buffer's
/// writable space (the second).
protocol HeadByteOutput {
    mutating func put(_ bytes: UnsafeRawBufferPointer)
}

extension HeadByteOutput {
    mutating func put(_ text: StaticString) {
        text.withUTF8Buffer { self.put(UnsafeRawBufferPointer($0)) }
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

    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        let length = min(bytes.count, self.space.count - self.count)
        guard length > 0, let source = bytes.baseAddress, let target = self.space.baseAddress else { return }
        (target + self.count).copyMemory(from: source, byteCount: length)
        self.count += length
    }
}
