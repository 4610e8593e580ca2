import SwitchyardCore
import Testing

@Suite("LSN: parse, format, compare, bytes behind")
struct LSNTests {
    @Test(
        "parses X/Y hex as (X << 32) | Y",
        arguments: [
            ("0/0", UInt64(0)),
            ("0/3000148", 0x0300_0148),
            ("16/B374D848", 0x16_B374_D848),
            ("16/b374d848", 0x16_B374_D848),
            ("1/0", 0x1_0000_0000),
            ("0/FFFFFFFF", 0xFFFF_FFFF),
            ("00000001/00000002", 0x1_0000_0002),
            ("FFFFFFFF/FFFFFFFF", .max),
            ("a/b", 0xA_0000_000B),
        ]
    )
    func parses(text: String, value: UInt64) throws {
        let lsn = try #require(LSN(parsing: text))
        #expect(lsn.value == value)
        #expect(lsn == LSN(value))
    }

    @Test("parses a Substring (e.g. a header value slice)")
    func parsesSubstring() throws {
        let header = "X-Switchyard-LSN: 0/3000148"
        let slice = try #require(header.split(separator: " ").last)
        #expect(LSN(parsing: slice) == LSN(0x0300_0148))
    }

    @Test(
        "rejects anything but 1-8 hex digits, a slash, 1-8 hex digits",
        arguments: [
            "", "/", "0", "0/", "/0", "00", "0/0/0", "0//0", "100000000/0", "0/100000000", "g/0", "0/g", "0x1/0", "0/0x1",
            " 0/0", "0/0 ", "0 /0", "0/ 0", "0/0\n", "0\\0", "0:0", "0.0", "１/0", "0/٣",
        ]
    )
    func rejects(text: String) {
        #expect(LSN(parsing: text) == nil)
    }

    /// PostgreSQL's `pg_lsn` input accepts hex digits only; so does the doc
    /// comment of `LSN.init(parsing:)` ("1-8 hex digits each side. Nil for
    /// anything else"). `UInt64(_:radix:)` also accepts a leading '+' or '-'
    /// ("-0" parses as 0), which slips through.
    @Test("rejects a sign on either side", arguments: ["+1/0", "1/+0", "-0/0", "0/-0", "+0/+0", "+FFFFFFF/0"])
    func rejectsSigns(text: String) {
        #expect(LSN(parsing: text) == nil)
    }

    @Test(
        "formats as PostgreSQL does: upper-case hex, no leading zeros",
        arguments: [
            (UInt64(0), "0/0"),
            (0x0300_0148, "0/3000148"),
            (0x16_B374_D848, "16/B374D848"),
            (0x1_0000_0000, "1/0"),
            (0xFFFF_FFFF, "0/FFFFFFFF"),
            (.max, "FFFFFFFF/FFFFFFFF"),
        ]
    )
    func formats(value: UInt64, text: String) {
        #expect(LSN(value).description == text)
        #expect("\(LSN(value))" == text)
    }

    @Test("format then parse is the identity")
    func formatParseRoundTrip() {
        var value: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<500 {
            value = value &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let lsn = LSN(value)
            #expect(LSN(parsing: lsn.description) == lsn)
            let shifted = LSN(value >> 40)
            #expect(LSN(parsing: shifted.description) == shifted)
        }
    }

    @Test("compares by position, across the high/low boundary")
    func compares() throws {
        let a = try #require(LSN(parsing: "0/FFFFFFFF"))
        let b = try #require(LSN(parsing: "1/0"))
        let c = try #require(LSN(parsing: "1/1"))
        #expect(a < b)
        #expect(b < c)
        #expect(a < c)
        #expect(!(b < b))
        #expect(b <= b)
        #expect(b >= b)
        #expect(c > a)
        #expect([c, a, b].sorted() == [a, b, c])
        #expect([c, a, b].max() == c)
        // Not a text comparison: "9/0" < "10/0".
        #expect(try #require(LSN(parsing: "9/0")) < (try #require(LSN(parsing: "10/0"))))
        #expect(try #require(LSN(parsing: "0/9")) < (try #require(LSN(parsing: "0/10"))))
    }

    @Test("equal and hashable by value")
    func equality() {
        #expect(LSN(parsing: "0/3000148") == LSN(parsing: "00000000/03000148"))
        #expect(LSN(parsing: "a/b") == LSN(parsing: "A/B"))
        #expect(Set([LSN(1), LSN(1), LSN(2)]).count == 2)
    }

    @Test(
        "bytesBehind is ahead - behind, clamped at 0",
        arguments: [
            ("0/3000148", "0/3000000", UInt64(0x148)),
            ("0/3000000", "0/3000148", 0),
            ("0/3000148", "0/3000148", 0),
            ("1/0", "0/FFFFFFFF", 1),
            ("1/0", "0/0", 0x1_0000_0000),
            ("FFFFFFFF/FFFFFFFF", "0/0", .max),
            ("0/0", "FFFFFFFF/FFFFFFFF", 0),
        ]
    )
    func bytesBehind(ahead: String, behind: String, expected: UInt64) throws {
        let aheadLSN = try #require(LSN(parsing: ahead))
        let behindLSN = try #require(LSN(parsing: behind))
        #expect(LSN.bytesBehind(aheadLSN, behindLSN) == expected)
    }
}
