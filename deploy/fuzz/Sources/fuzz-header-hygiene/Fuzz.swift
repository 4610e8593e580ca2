import FuzzDriver
@testable import HTTPProxy
import NIOHTTP1
import SwitchyardFuzzTargets

/// The one place the fuzzer reaches into HTTPProxy (its header hygiene is
/// internal to that module; built with -enable-testing). Adapt here if it moves.
func stripHopByHop(_ headers: inout HTTPHeaders) {
    HeaderHygiene.strip(&headers)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in try FuzzTargets.headerHygiene(bytes, strip: stripHopByHop) }
}

@_cdecl("fuzz_header_hygiene_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.main(argc, argv, fuzzTestOneInput)
}
