/* tests/support/read_file.h: a whole file into memory, for the tests and
 * benchmarks that load their inputs from disk (header only: tests/ and
 * bench/ both include it as "support/read_file.h"). */
#ifndef SL_TEST_SUPPORT_READ_FILE_H
#define SL_TEST_SUPPORT_READ_FILE_H

#include <stdio.h>
#include <stdlib.h>

/* The bytes of the file at path in a malloc'd buffer the caller frees,
 * with a NUL after them (*len does not count it); NULL when the file
 * cannot be opened, sized or read whole, or memory runs out. */
static inline char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    char *buf =
        n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

#endif
