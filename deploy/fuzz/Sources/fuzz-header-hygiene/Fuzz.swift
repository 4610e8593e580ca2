import FuzzDriver
import SwitchyardFuzzEntries
import SwitchyardFuzzTargets

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in try FuzzTargets.headerHygiene(bytes, strip: FuzzEntries.stripHopByHop) }
}

@_cdecl("fuzz_header_hygiene_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.main(argc, argv, fuzzTestOneInput)
}
