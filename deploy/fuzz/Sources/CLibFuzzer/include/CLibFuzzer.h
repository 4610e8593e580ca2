#ifndef SWITCHYARD_CLIBFUZZER_H
#define SWITCHYARD_CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, for a program that has its own main (compiler-rt's
/// FuzzerInterface.h). SwiftPM links every executable with main defined as
/// MODULE_main, so the fuzz executables call this from there.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
