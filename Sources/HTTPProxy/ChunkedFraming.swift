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
