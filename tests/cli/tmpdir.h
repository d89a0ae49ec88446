/* tests/cli/tmpdir.h: each CLI test runs in a fresh directory under /tmp
 * (made by the suite's .init, removed by its .fini) and names its files
 * with path(). A test file defines SL_TEST_TMPDIR ("/tmp/sluice-x-XXXXXX",
 * a mkdtemp template) before including this header. */
#ifndef SL_TEST_CLI_TMPDIR_H
#define SL_TEST_CLI_TMPDIR_H

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[] = SL_TEST_TMPDIR;

static void make_dir(void) {
    memcpy(dir, SL_TEST_TMPDIR, sizeof(dir));
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void) {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* dir/name, in one of four rotating buffers (valid for three more calls) */
static inline const char *path(const char *name) {
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
    return p[k];
}

#endif
