import SwitchyardConfig
import Testing

@Suite("ConfigValue: durations and sizes")
struct ConfigValueTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("2s", .seconds(2)),
        ("1m", .seconds(60)),
        ("1h", .seconds(3600)),
        ("0", .zero),
        ("0s", .zero),
        ("0ms", .zero),
        ("1.5s", .milliseconds(1500)),
        ("0.25s", .milliseconds(250)),
        ("1m30s", .seconds(90)),
        ("1h1m1s1ms", .milliseconds(3_661_001)),
        ("1.000000001s", .nanoseconds(1_000_000_001)),
        ("0.5ms", .microseconds(500)),
        ("007s", .seconds(7)),
    ])
    func validDuration(text: String, expected: Duration) {
        #expect(ConfigValue.duration(text) == expected)
    }

    @Test(arguments: [
        "", " ", "5", "-1s", "+1s", "1 s", " 1s", "1s ", "1S", "1sec", "1d", "s", "ms", ".5s", "1.s", "1.5", "1e3ms",
        "1.0000000001s", "1s1", "abc", "99999999999h", "9223372036854775807ms", "1_000ms", "１s",
    ])
    func invalidDuration(text: String) {
        #expect(ConfigValue.duration(text) == nil)
    }

    @Test(arguments: [
        ("512", UInt64(512)),
        ("0", 0),
        ("512B", 512),
        ("16KiB", 16_384),
        ("10MiB", 10_485_760),
        ("64MiB", 67_108_864),
        ("1GiB", 1_073_741_824),
        ("16GiB", 17_179_869_184),
        ("18446744073709551615", UInt64.max),
    ])
    func validSize(text: String, expected: UInt64) {
        #expect(ConfigValue.size(text) == expected)
    }

    @Test(arguments: [
        "", "B", "KiB", "-1", "+1", "1.5MiB", "10MB", "10KB", "1GB", "10m", "10k", "10kib", "10 MiB", " 10", "10TiB",
        "18446744073709551616", "17179869184GiB", "0x10", "1_024",
    ])
    func invalidSize(text: String) {
        #expect(ConfigValue.size(text) == nil)
    }
}
