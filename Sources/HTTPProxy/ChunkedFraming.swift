import NIOCore

/// HTTP/1.1 chunked framing (RFC 9112 §7.1) for bodies Switchyard frames
/// itself: responses without a Content-Length, request bodies that came chunked.
enum ChunkedFraming {
    /// The last chunk and an empty trailer section.
    static let lastChunk = ByteBuffer(staticString: "0\r\n\r\n")
    static let lineEnd = ByteBuffer(staticString: "\r\n")

    /// `SIZE-IN-HEX CRLF`, the line that opens a chunk of `count` bytes.
    static func sizeLine(_ count: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 18)
        var shift = 0
        while shift < 60, count >> (shift + 4) != 0 {
            shift += 4
        }
        while shift >= 0 {
            let nibble = UInt8((count >> shift) & 0xF)
            buffer.writeInteger(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
            shift -= 4
        }
        buffer.writeStaticString("\r\n")
        return buffer
    }
}

/// Undoes chunked framing (RFC 9112 §7.1) as bytes arrive, for both
/// directions: request bodies a client sends chunked and responses an app
/// server sends chunked. Strict: a size is 1-15 hex digits (spaces after it
/// only before an extension's `;`), extensions hold no control bytes and are
/// skipped up to 4 KiB, trailers up to 64 KiB are dropped. Lines end in CRLF;
/// a bare LF is accepted only where the caller says (responses, as NIO's
/// decoder did; never in requests).
struct ChunkedBodyDecoder {
    static let maximumExtensionBytes = 4 * 1024
    static let maximumTrailerBytes = 64 * 1024

    /// The framing is broken; the connection cannot be read further.
    struct Malformed: Error {}

    private enum State {
        case size(value: Int, digits: Int)
        /// Spaces after the size: only a `;` (an extension) may follow.
        case sizeWhitespace(value: Int)
        case extensionBytes(value: Int, count: Int)
        case sizeLineFeed(value: Int)
        case data(remaining: Int)
        case dataCarriageReturn
        case dataLineFeed
        case trailerLineStart(total: Int)
        case trailerLine(total: Int)
        case trailerLineFeed(total: Int)
        case finalLineFeed
    }

    private var state = State.size(value: 0, digits: 0)
    /// Bare LFs end lines (responses, as lenient as NIO's decoder was); requests need CRLF.
    private let acceptsBareLineFeed: Bool

    init(acceptsBareLineFeed: Bool) {
        self.acceptsBareLineFeed = acceptsBareLineFeed
    }

    /// What `next` found.
    enum Output {
        /// A run of body bytes: a slice of the input, not a copy.
        case data(ByteBuffer)
        /// The end of the body (last chunk and trailers read).
        case end
    }

    /// Reads framing from `buffer` up to the next run of data or the end of
    /// the body; nil when `buffer` is used up first. `buffer` is left
    /// positioned after what was returned.
    mutating func next(_ buffer: inout ByteBuffer) throws(Malformed) -> Output? {
        while buffer.readableBytes > 0 {
            if case .data(let remaining) = self.state {
                let count = min(remaining, buffer.readableBytes)
                guard let slice = buffer.readSlice(length: count) else { return nil }
                self.state = count == remaining ? .dataCarriageReturn : .data(remaining: remaining - count)
                return .data(slice)
            }
            guard let byte = buffer.readInteger(as: UInt8.self) else { return nil }
            let isLineFeed = byte == UInt8(ascii: "\n") && self.acceptsBareLineFeed
            switch self.state {
            case .size(let value, let digits):
                if let digit = Self.hexValue(byte) {
                    guard digits < 15 else { throw Malformed() }
                    self.state = .size(value: value << 4 | digit, digits: digits + 1)
                } else if digits > 0, byte == UInt8(ascii: ";") {
                    self.state = .extensionBytes(value: value, count: 1)
                } else if digits > 0, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                    self.state = .sizeWhitespace(value: value)
                } else if digits > 0, byte == UInt8(ascii: "\r") {
                    self.state = .sizeLineFeed(value: value)
                } else if digits > 0, isLineFeed {
                    self.state = Self.afterSizeLine(value)
                } else {
                    throw Malformed()
                }
            case .sizeWhitespace(let value):
                if byte == UInt8(ascii: ";") {
                    self.state = .extensionBytes(value: value, count: 1)
                } else if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") {
                    throw Malformed()  // "5 5": no size has a space inside
                }
            case .extensionBytes(let value, let count):
                if byte == UInt8(ascii: "\r") {
                    self.state = .sizeLineFeed(value: value)
                } else if isLineFeed {
                    self.state = Self.afterSizeLine(value)
                } else {
                    // Extension bytes: visible ASCII, spaces and tabs (no controls).
                    guard count < Self.maximumExtensionBytes, byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F) else {
                        throw Malformed()
                    }
                    self.state = .extensionBytes(value: value, count: count + 1)
                }
            case .sizeLineFeed(let value):
                guard byte == UInt8(ascii: "\n") else { throw Malformed() }
                self.state = Self.afterSizeLine(value)
            case .dataCarriageReturn:
                if byte == UInt8(ascii: "\r") {
                    self.state = .dataLineFeed
                } else if isLineFeed {
                    self.state = .size(value: 0, digits: 0)
                } else {
                    throw Malformed()
                }
            case .dataLineFeed:
                guard byte == UInt8(ascii: "\n") else { throw Malformed() }
                self.state = .size(value: 0, digits: 0)
            case .trailerLineStart(let total):
                if byte == UInt8(ascii: "\r") {
                    self.state = .finalLineFeed
                } else if isLineFeed {
                    return .end
                } else {
                    guard self.isTrailerByte(byte) else { throw Malformed() }
                    self.state = .trailerLine(total: total + 1)
                }
            case .trailerLine(let total):
                guard total < Self.maximumTrailerBytes else { throw Malformed() }
                if byte == UInt8(ascii: "\r") {
                    self.state = .trailerLineFeed(total: total + 1)
                } else if isLineFeed {
                    self.state = .trailerLineStart(total: total + 1)
                } else {
                    guard self.isTrailerByte(byte) else { throw Malformed() }
                    self.state = .trailerLine(total: total + 1)
                }
            case .trailerLineFeed(let total):
                guard byte == UInt8(ascii: "\n") else { throw Malformed() }
                self.state = .trailerLineStart(total: total + 1)
            case .finalLineFeed:
                guard byte == UInt8(ascii: "\n") else { throw Malformed() }
                return .end
            case .data:
                break  // handled above
            }
        }
        return nil
    }

    /// A byte inside a trailer line: where lines must end in CRLF, no bare LF
    /// (a front end that ends lines at LF would see a request where the
    /// trailers end) and no other control byte but HTAB.
    private func isTrailerByte(_ byte: UInt8) -> Bool {
        self.acceptsBareLineFeed ? byte != UInt8(ascii: "\n") : byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F)
    }

    private static func afterSizeLine(_ value: Int) -> State {
        value == 0 ? .trailerLineStart(total: 0) : .data(remaining: value)
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
