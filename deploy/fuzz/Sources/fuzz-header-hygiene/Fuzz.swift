#if canImport(Glibc)
import Glibc
#endif
@testable import HTTPProxy
import NIOHTTP1
import SwitchyardFuzzTargets

/// The one place the fuzzer reaches into HTTPProxy (its header hygiene is
/// internal to that module; built with -enable-testing). Adapt here if it moves.
func stripHopByHop(_ headers: inout HTTPHeaders) {
    HeaderHygiene.strip(&headers)
}

/// libFuzzer's entry point: one input through `FuzzTargets.headerHygiene`;
/// a broken invariant aborts, so that libFuzzer keeps the input as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    do {
        try FuzzTargets.headerHygiene(UnsafeRawBufferPointer(start: data, count: size), strip: stripHopByHop)
    } catch {
        print(error)
        abort()
    }
    return 0
}
