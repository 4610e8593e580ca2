#if canImport(Glibc)
import Glibc
#endif
import CLibFuzzer
@testable import HTTPProxy
import NIOHTTP1
import SwitchyardFuzzTargets

/// The one place the fuzzer reaches into HTTPProxy (its header hygiene is
/// internal to that module; built with -enable-testing). Adapt here if it moves.
func stripHopByHop(_ headers: inout HTTPHeaders) {
    HeaderHygiene.strip(&headers)
}

/// One input through `FuzzTargets.headerHygiene`; a broken invariant aborts, so
/// that libFuzzer keeps the input as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do {
        try FuzzTargets.headerHygiene(bytes, strip: stripHopByHop)
    } catch {
        // Straight to file descriptor 2: nothing buffered is lost by abort.
        let message = Array("\(error)\n".utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        abort()
    }
    return 0
}

/// The program's main: SwiftPM links an executable with `main` defined as
/// `fuzz_header_hygiene_main`, so libFuzzer's own main is not used; its driver is.
@_cdecl("fuzz_header_hygiene_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzTestOneInput)
}
