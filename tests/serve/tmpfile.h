/* tests/serve/tmpfile.h: one temporary file in its own fresh directory
 * under /tmp, for the serve unit tests that read files (config, PEM). */
#ifndef SL_TEST_SERVE_TMPFILE_H
#define SL_TEST_SERVE_TMPFILE_H

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write text to a new file called name; its path goes in path (64 bytes). */
static inline void write_tmp(char *path, const char *name, const char *text) {
    char dir[] = "/tmp/sluice-serve-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, 64, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* Remove the file and its directory. */
static inline void remove_tmp(const char *path) {
    unlink(path);
    char dir[64];
    snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = '\0';
    rmdir(dir);
}

#endif
