import HTTPProxy
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("Proxy: bodies stream both ways with backpressure", .serialized, .heavyLoad)
struct StreamingTests {
    static let size = 256 * 1024 * 1024

    @Test func a256MiBUploadAndDownloadStreamThroughInBoundedMemory() async throws {
        let harness = try await ProxyHarness.start { $0.clients.maxBodyBytes = 1 << 30 }
        for fake in harness.replicaA {
            fake.setBehavior(.download(bytes: StreamingTests.size))
        }
        let before = ProcessMemory.residentBytes()
        var peak = before

        let upload = try await harness.raw()
        try await upload.send("PUT /blob HTTP/1.1\r\nHost: t\r\nContent-Length: \(StreamingTests.size)\r\n\r\n")
        try await upload.sendStreamingBody(totalBytes: StreamingTests.size)
        peak = max(peak, ProcessMemory.residentBytes())
        let uploaded = try await upload.readResponse()
        #expect(uploaded.status == 200)
        #expect(try uploaded.echo().bodyBytes == StreamingTests.size)
        upload.close()

        let download = try await harness.raw()
        try await download.send("GET /blob HTTP/1.1\r\nHost: t\r\n\r\n")
        let (head, count) = try await download.readResponseDiscardingBody()
        peak = max(peak, ProcessMemory.residentBytes())
        #expect(head.status == 200)
        #expect(count == StreamingTests.size)
        download.close()

        // The high-water mark bounds every moment of both transfers, not just the samples.
        peak = max(peak, ProcessMemory.peakResidentBytes())
        let growth = peak - before
        #expect(growth < 64 * 1024 * 1024, "resident memory grew by \(growth / 1024 / 1024) MiB")
        await harness.stop()
    }
}
