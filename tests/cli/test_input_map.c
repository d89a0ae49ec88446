/* tests/cli/test_input_map.c: input files mapped in place (input_map.h)
 * and the value stream over them: a file truncated under a live map
 * reads as zeros past the cut and is reported, never SIGBUS; a SIGBUS
 * that is not a mapped input's keeps its default action; pipes and empty
 * files are read, not mapped. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/workq.h"
#include "cli/input_map.h"
#include "cli/value_stream.h"

#define SL_TEST_TMPDIR "/tmp/sluice-map-XXXXXX"
#include "cli/tmpdir.h"

TestSuite(input_map, .init = make_dir, .fini = remove_dir);

/* Write n bytes of text repeated to name; returns the path. */
static const char *fill_file(const char *name, const char *text, size_t n) {
    const char *p = path(name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    size_t tl = strlen(text);
    for (size_t i = 0; i < n; i += tl) {
        cr_assert_eq(fwrite(text, 1, tl, f), tl);
    }
    fclose(f);
    return p;
}

Test(input_map, a_page_cut_away_under_a_live_map_reads_as_zeros) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const char *p = fill_file("cut.txt", "x", 3 * pg);
    int fd = open(p, O_RDONLY);
    cr_assert_geq(fd, 0);
    sl_cli_map m;
    cr_assert(sl_cli_map_open(&m, fd));
    cr_assert_eq(m.len, 3 * pg);
    cr_assert_eq(m.ptr[0], 'x');
    cr_assert_not(sl_cli_map_truncated(&m));
    cr_assert_eq(truncate(p, (off_t)pg), 0);
    cr_assert_eq(m.ptr[2 * pg + 5], 0, "the page past the cut reads as zeros");
    cr_assert_eq(m.ptr[0], 'x', "the page before the cut is the file's");
    cr_assert(sl_cli_map_truncated(&m));
    sl_cli_map_close(&m);
    cr_assert_null(m.ptr);
}

Test(input_map, a_shrink_within_a_page_is_noticed) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const char *p = fill_file("shrink.txt", "y", pg);
    int fd = open(p, O_RDONLY);
    sl_cli_map m;
    cr_assert(sl_cli_map_open(&m, fd));
    cr_assert_eq(truncate(p, 10), 0);
    cr_assert(sl_cli_map_truncated(&m), "fstat shows the file shorter");
    sl_cli_map_close(&m);
}

Test(input_map, pipes_and_empty_files_are_read_not_mapped) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    sl_cli_map m;
    cr_assert_not(sl_cli_map_open(&m, fds[0]));
    cr_assert_null(m.ptr);
    close(fds[0]);
    close(fds[1]);
    const char *p = fill_file("empty.txt", "", 0);
    int fd = open(p, O_RDONLY);
    cr_assert_not(sl_cli_map_open(&m, fd));
    close(fd); /* not owned by a map that failed */
}

Test(input_map, a_sigbus_that_is_not_a_mapped_input_keeps_its_default) {
    const char *p = fill_file("any.txt", "z", 100);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        sl_cli_map m;
        if (!sl_cli_map_open(&m, open(p, O_RDONLY))) {
            _exit(3); /* the handler is installed by the first map */
        }
        raise(SIGBUS);
        _exit(0);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFSIGNALED(st), "exit status %d", st);
    cr_assert_eq(WTERMSIG(st), SIGBUS);
}

Test(input_map, a_stream_over_a_file_truncated_while_read_ends_with_an_error) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const char *p = fill_file("lines.jsonl", "{\"a\":1}\n", 4 * pg);
    sl_cli_stream s;
    cr_assert_eq(sl_cli_stream_open(&s, p), 0);
    cr_assert_not_null(s.map.ptr, "a regular file is mapped");
    sl_error err = {0};
    cr_assert_eq(sl_cli_stream_next(&s, &err), 1);
    cr_assert_eq(truncate(p, 100), 0);
    int got, values = 1;
    while ((got = sl_cli_stream_next(&s, &err)) == 1) {
        values++;
    }
    cr_assert_eq(got, -2, "the input ends with an error, got %d", got);
    cr_assert_str_eq(err.msg, "the file was truncated while it was read");
    cr_assert_str_eq(err.file, p);
    cr_assert_leq(values, 13, "only values before the cut: %d", values);
    sl_cli_stream_close(&s);
}

Test(input_map, a_mapped_stream_reads_every_value_of_an_unchanged_file) {
    const char *p = fill_file("ok.jsonl", "{\"a\":1}\n", 8 * 1000);
    sl_cli_stream s;
    cr_assert_eq(sl_cli_stream_open(&s, p), 0);
    sl_error err = {0};
    int got, values = 0;
    while ((got = sl_cli_stream_next(&s, &err)) == 1) {
        values++;
    }
    cr_assert_eq(got, 0);
    cr_assert_eq(values, 1000);
    cr_assert_eq(s.bytes_read, 8000);
    sl_cli_stream_close(&s);
}

Test(input_map, warming_reads_ahead_and_leaves_the_bytes_as_they_are) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const char *p = fill_file("warm.txt", "0123456789abcdef", 1024 * pg);
    int fd = open(p, O_RDONLY);
    sl_cli_map m;
    cr_assert(sl_cli_map_open(&m, fd));
    sl_cli_warm *w = sl_cli_map_warm_start(&m);
    cr_assert_not_null(w);
    /* the reader goes on meanwhile */
    cr_assert_eq(memcmp(m.ptr + 16 * 1000, "0123456789abcdef", 16), 0);
    nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    size_t warmed = sl_cli_map_warm_stop(w);
    cr_assert_leq(warmed, m.len);
    cr_assert_eq(sl_cli_map_warm_stop(NULL), 0);
    for (size_t i = 0; i < m.len; i += pg) {
        cr_assert_eq(m.ptr[i + 3], '3', "byte %zu", i + 3);
    }
    cr_assert_not(sl_cli_map_truncated(&m));
    sl_cli_map_close(&m);
    sl_cli_map none = {.ptr = NULL, .slot = -1, .fd = -1};
    cr_assert_null(sl_cli_map_warm_start(&none), "nothing to warm");
}

Test(input_map, a_released_range_reads_the_same_bytes_again) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const char *p = fill_file("rel.txt", "abcdefgh", 16 * pg);
    int fd = open(p, O_RDONLY);
    sl_cli_map m;
    cr_assert(sl_cli_map_open(&m, fd));
    cr_assert_eq(m.ptr[5 * pg + 1], 'b');
    /* not page-aligned at either end: the partial pages stay */
    sl_cli_map_release(&m, m.ptr + 100, 10 * pg);
    for (size_t i = 0; i < m.len; i += 8) {
        cr_assert_eq(memcmp(m.ptr + i, "abcdefgh", 8), 0, "at %zu", i);
    }
    /* ranges outside the map are ignored */
    sl_cli_map_release(&m, m.ptr + m.len - 8, 16);
    sl_cli_map_release(&m, m.ptr - 1, 8);
    cr_assert_eq(m.ptr[m.len - 1], 'h');
    sl_cli_map_close(&m);
}

Test(input_map, warming_a_file_truncated_under_it_does_not_kill) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const char *p = fill_file("wcut.txt", "x", 2048 * pg);
    int fd = open(p, O_RDONLY);
    sl_cli_map m;
    cr_assert(sl_cli_map_open(&m, fd));
    cr_assert_eq(truncate(p, (off_t)pg), 0);
    sl_cli_warm *w = sl_cli_map_warm_start(&m);
    cr_assert_not_null(w);
    nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    size_t warmed = sl_cli_map_warm_stop(w);
    cr_assert_lt(warmed, m.len, "warming stops at the cut");
    cr_assert_eq(m.ptr[0], 'x');
    cr_assert(sl_cli_map_truncated(&m));
    sl_cli_map_close(&m);
}

static void read_past_cut(void *worker, void *job) {
    const sl_cli_map *m = worker;
    *(char *)job = m->ptr[m->len - 1];
}

/* A worker of the apply pipeline (base/workq.h) that reads a page cut
 * away under the map gets zeros too: the guard's signal reaches it. */
Test(input_map, a_worker_thread_reading_past_a_cut_reads_zeros) {
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    const char *p = fill_file("wq.txt", "q", 4 * pg);
    int fd = open(p, O_RDONLY);
    sl_cli_map m;
    cr_assert(sl_cli_map_open(&m, fd));
    cr_assert_eq(truncate(p, (off_t)pg), 0);
    void *w = &m;
    sl__workq *q = NULL;
    cr_assert_eq(sl__workq_new(1, &w, read_past_cut, 1, &q, NULL), SL_OK);
    char got = 'q';
    cr_assert_eq(sl__workq_submit(q, &got), SL_OK);
    cr_assert_eq(sl__workq_collect(q), &got);
    sl__workq_free(q);
    cr_assert_eq(got, 0, "zeros past the cut");
    cr_assert(sl_cli_map_truncated(&m));
    sl_cli_map_close(&m);
}
