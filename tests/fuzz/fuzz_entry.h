/* fuzz_entry.h - the name of a target's entry point: libFuzzer's by default;
 * tests/check_fuzz_regressions.c builds each target with -DFZ_ENTRY=<name>
 * so that one program can replay inputs through all of them. */
#ifndef SIPLADDER_TESTS_FUZZ_ENTRY_H
#define SIPLADDER_TESTS_FUZZ_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#ifndef FZ_ENTRY
#define FZ_ENTRY LLVMFuzzerTestOneInput
#endif

int FZ_ENTRY(const uint8_t *data, size_t size);

#endif
