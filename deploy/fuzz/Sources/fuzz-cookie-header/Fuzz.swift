#if canImport(Glibc)
import Glibc
#endif
import SwitchyardFuzzTargets

/// libFuzzer's entry point: one input through `FuzzTargets.cookieHeader`; a broken
/// invariant aborts, so that libFuzzer keeps the input as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    do {
        try FuzzTargets.cookieHeader(UnsafeRawBufferPointer(start: data, count: size))
    } catch {
        print(error)
        abort()
    }
    return 0
}
