/* What the libFuzzer targets of tests/fuzz share (fuzz.c): the input as a C string, and the
 * input fed to a stream decoder in pieces, as libcurl hands a body over. */
#ifndef CUTIPFS_TESTS_FUZZ_H
#define CUTIPFS_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point, declared once for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd NUL-terminated copy of the input (a NUL inside ends the string early, as it
 * would for any C caller); aborts when out of memory, which libFuzzer reports. */
char *fuzz_text(const uint8_t *data, size_t size);

typedef int (*fuzz_sink)(const char *buf, size_t len, void *ctx);
/* Feeds data[1..size) to sink in pieces whose lengths come from data[0] (each 1 to 16 bytes
 * longer than the last, wrapping), so that the fuzzer also chooses where the splits fall.
 * Stops at the first non-zero return of sink, and returns it. */
int fuzz_feed(const uint8_t *data, size_t size, fuzz_sink sink, void *ctx);

#endif
