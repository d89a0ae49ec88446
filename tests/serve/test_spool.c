/* tests/serve/test_spool.c: the on-disk export queue (src/serve/spool.c):
 * append / peek / ack order and content, replay after reopening, the
 * cursor, segment rotation and deletion, the byte bound, the directory
 * lock, group commit from many threads, and a torn or corrupt entry at
 * every byte offset of its header (and cut anywhere) skipped and counted,
 * never returned. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "serve/spool.h"

typedef struct tmpdir {
    char path[256];
} tmpdir;

static void tmp_make(tmpdir *t) {
    snprintf(t->path, sizeof(t->path), "/tmp/sluice-spool-XXXXXX");
    cr_assert_not_null(mkdtemp(t->path));
}

static void tmp_remove(tmpdir *t) {
    DIR *d = opendir(t->path);
    if (d) {
        for (struct dirent *de = readdir(d); de; de = readdir(d)) {
            if (de->d_name[0] != '.') {
                char p[512];
                snprintf(p, sizeof(p), "%s/%s", t->path, de->d_name);
                unlink(p);
            }
        }
        closedir(d);
    }
    rmdir(t->path);
}

static size_t count_segments(const char *dir) {
    size_t n = 0;
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    for (struct dirent *de = readdir(d); de; de = readdir(d)) {
        n += strncmp(de->d_name, "seg-", 4) == 0;
    }
    closedir(d);
    return n;
}

static sl__spool *open_dir(const char *dir, size_t max, size_t segment) {
    sl__spool_opts o = {.dir = dir, .max_bytes = max, .segment_bytes = segment};
    sl__spool *s = NULL;
    sl_error err = {0};
    cr_assert_eq(sl__spool_open(&o, &s, &err), SL_OK, "%s", err.msg);
    return s;
}

static void append(sl__spool *s, sl_signal sig, uint32_t records,
                   const char *text) {
    sl_error err = {0};
    cr_assert_eq(sl__spool_append(s, sig, records, text, strlen(text), &err),
                 SL_OK, "%s", err.msg);
}

/* Peek the head, check it is text, ack it. */
static void expect_next(sl__spool *s, sl_signal sig, uint32_t records,
                        const char *text) {
    sl__spool_entry e;
    sl_error err = {0};
    cr_assert_eq(sl__spool_peek(s, &e, &err), SL_OK, "%s", err.msg);
    cr_assert_eq(e.sig, sig);
    cr_assert_eq(e.records, records);
    cr_assert_eq(e.len, strlen(text));
    cr_assert_eq(memcmp(e.data, text, e.len), 0, "got %.*s", (int)e.len,
                 e.data);
    cr_assert_eq(sl__spool_ack(s, &err), SL_OK, "%s", err.msg);
}

static void expect_empty(sl__spool *s) {
    sl__spool_entry e;
    cr_assert_eq(sl__spool_peek(s, &e, NULL), SL_ENOTFOUND);
}

Test(spool, entries_come_back_in_order_with_signal_and_count) {
    tmpdir t;
    tmp_make(&t);
    sl__spool *s = open_dir(t.path, 0, 0);
    expect_empty(s);
    append(s, SL_SIGNAL_LOG, 3, "first");
    append(s, SL_SIGNAL_TRACE, 1, "second");
    append(s, SL_SIGNAL_METRIC, 0, "");
    sl__spool_stats st;
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.pending_entries, 3);
    cr_assert_eq(st.pending_bytes, 3 * SL_SPOOL_HEADER + 11);
    cr_assert_eq(st.appends, 3);
    cr_assert_eq(st.syncs, 3, "one thread: one sync per append");
    /* peek twice returns the same head until acked */
    sl__spool_entry e;
    cr_assert_eq(sl__spool_peek(s, &e, NULL), SL_OK);
    cr_assert_eq(sl__spool_peek(s, &e, NULL), SL_OK);
    cr_assert_eq(memcmp(e.data, "first", 5), 0);
    expect_next(s, SL_SIGNAL_LOG, 3, "first");
    expect_next(s, SL_SIGNAL_TRACE, 1, "second");
    expect_next(s, SL_SIGNAL_METRIC, 0, "");
    expect_empty(s);
    cr_assert_eq(sl__spool_ack(s, NULL), SL_ESTATE, "nothing peeked");
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.pending_entries, 0);
    cr_assert_eq(st.pending_bytes, 0);
    sl__spool_close(s);
    tmp_remove(&t);
}

Test(spool, reopening_replays_what_was_not_acked_after_the_cursor) {
    tmpdir t;
    tmp_make(&t);
    sl__spool *s = open_dir(t.path, 0, 0);
    append(s, SL_SIGNAL_LOG, 1, "a");
    append(s, SL_SIGNAL_LOG, 2, "bb");
    append(s, SL_SIGNAL_LOG, 3, "ccc");
    expect_next(s, SL_SIGNAL_LOG, 1, "a");
    sl__spool_close(s);
    s = open_dir(t.path, 0, 0);
    sl__spool_stats st;
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.replayed, 2);
    cr_assert_eq(st.pending_entries, 2);
    cr_assert_eq(st.torn, 0);
    append(s, SL_SIGNAL_LOG, 4, "dddd"); /* goes to a new segment */
    expect_next(s, SL_SIGNAL_LOG, 2, "bb");
    sl__spool_close(s); /* peeked-acked bb, ccc and dddd left */
    s = open_dir(t.path, 0, 0);
    expect_next(s, SL_SIGNAL_LOG, 3, "ccc");
    expect_next(s, SL_SIGNAL_LOG, 4, "dddd");
    expect_empty(s);
    sl__spool_close(s);
    s = open_dir(t.path, 0, 0);
    expect_empty(s);
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.replayed, 0);
    cr_assert_eq(count_segments(t.path), 1, "delivered segments deleted");
    sl__spool_close(s);
    tmp_remove(&t);
}

Test(spool, a_crash_between_cursor_writes_redelivers_not_loses) {
    tmpdir t;
    tmp_make(&t);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* the first ack writes the cursor, the second (within
         * SL_SPOOL_CURSOR_MS) does not; then the process dies */
        sl__spool *s = open_dir(t.path, 0, 0);
        append(s, SL_SIGNAL_LOG, 1, "one");
        append(s, SL_SIGNAL_LOG, 2, "two");
        append(s, SL_SIGNAL_LOG, 3, "three");
        expect_next(s, SL_SIGNAL_LOG, 1, "one");
        expect_next(s, SL_SIGNAL_LOG, 2, "two");
        _exit(0);
    }
    int st = 0;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    sl__spool *s = open_dir(t.path, 0, 0);
    expect_next(s, SL_SIGNAL_LOG, 2, "two"); /* at least once */
    expect_next(s, SL_SIGNAL_LOG, 3, "three");
    expect_empty(s);
    sl__spool_close(s);
    tmp_remove(&t);
}

Test(spool, segments_rotate_and_finished_ones_are_deleted) {
    tmpdir t;
    tmp_make(&t);
    sl__spool *s = open_dir(t.path, 0, 64); /* two 24-byte entries each */
    char text[8];
    for (int i = 0; i < 10; i++) {
        snprintf(text, sizeof(text), "e%03d", i);
        append(s, SL_SIGNAL_LOG, (uint32_t)i, text);
    }
    cr_assert_eq(count_segments(t.path), 5);
    for (int i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "e%03d", i);
        expect_next(s, SL_SIGNAL_LOG, (uint32_t)i, text);
    }
    sl__spool_entry e;
    cr_assert_eq(sl__spool_peek(s, &e, NULL), SL_OK); /* moves to seg 4 */
    cr_assert_eq(count_segments(t.path), 3);
    sl__spool_close(s);
    s = open_dir(t.path, 0, 64);
    for (int i = 5; i < 10; i++) {
        snprintf(text, sizeof(text), "e%03d", i);
        expect_next(s, SL_SIGNAL_LOG, (uint32_t)i, text);
    }
    expect_empty(s);
    cr_assert_eq(count_segments(t.path), 1, "only the writer's is left");
    sl__spool_close(s);
    tmp_remove(&t);
}

Test(spool, the_byte_bound_refuses_room_until_entries_are_acked) {
    tmpdir t;
    tmp_make(&t);
    sl__spool *s = open_dir(t.path, 3 * (SL_SPOOL_HEADER + 4), 0);
    cr_assert(sl__spool_has_room(s));
    append(s, SL_SIGNAL_LOG, 1, "aaaa");
    append(s, SL_SIGNAL_LOG, 1, "bbbb");
    cr_assert(sl__spool_has_room(s));
    append(s, SL_SIGNAL_LOG, 1, "cccc");
    cr_assert_not(sl__spool_has_room(s));
    expect_next(s, SL_SIGNAL_LOG, 1, "aaaa");
    cr_assert(sl__spool_has_room(s));
    sl__spool_close(s);
    /* the bound counts replayed entries too */
    s = open_dir(t.path, 2 * (SL_SPOOL_HEADER + 4), 0);
    cr_assert_not(sl__spool_has_room(s));
    sl__spool_close(s);
    tmp_remove(&t);
}

Test(spool, a_directory_is_locked_by_one_process_at_a_time) {
    tmpdir t;
    tmp_make(&t);
    sl__spool *s = open_dir(t.path, 0, 0);
    sl__spool_opts o = {.dir = t.path};
    sl__spool *s2 = NULL;
    sl_error err = {0};
    cr_assert_eq(sl__spool_open(&o, &s2, &err), SL_ESTATE);
    cr_assert(strstr(err.msg, "in use"), "%s", err.msg);
    cr_assert_null(s2);
    sl__spool_close(s);
    cr_assert_eq(sl__spool_open(&o, &s2, &err), SL_OK, "%s", err.msg);
    sl__spool_close(s2);
    o.dir = "/proc/no-such-place/queue";
    cr_assert_eq(sl__spool_open(&o, &s2, &err), SL_EIO);
    cr_assert(strstr(err.msg, "/proc/no-such-place/queue"), "%s", err.msg);
    tmp_remove(&t);
}

Test(spool, one_commit_syncs_every_entry_written_before_it) {
    tmpdir t;
    tmp_make(&t);
    sl__spool *s = open_dir(t.path, 0, 0);
    uint64_t gen = 0, last = 0;
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(sl__spool_write(s, SL_SIGNAL_LOG, 1, "x", 1, &gen, NULL),
                     SL_OK);
        cr_assert_gt(gen, last, "generations grow");
        last = gen;
    }
    sl__spool_stats st;
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.syncs, 0, "batch mode: write does not sync");
    cr_assert_eq(sl__spool_commit(s, gen, NULL), SL_OK);
    cr_assert_eq(sl__spool_commit(s, gen - 2, NULL), SL_OK); /* covered */
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.syncs, 1);
    cr_assert_eq(st.appends, 5);
    sl__spool_close(s);
    tmp_remove(&t);
}

Test(spool, always_syncs_each_write_and_never_syncs_none) {
    tmpdir t;
    tmp_make(&t);
    sl__spool_opts o = {.dir = t.path, .fsync = SL_SPOOL_FSYNC_ALWAYS};
    sl__spool *s = NULL;
    cr_assert_eq(sl__spool_open(&o, &s, NULL), SL_OK);
    append(s, SL_SIGNAL_LOG, 1, "a");
    append(s, SL_SIGNAL_LOG, 1, "b");
    sl__spool_stats st;
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.syncs, 2);
    sl__spool_close(s);
    o.fsync = SL_SPOOL_FSYNC_NEVER;
    cr_assert_eq(sl__spool_open(&o, &s, NULL), SL_OK);
    append(s, SL_SIGNAL_LOG, 1, "c");
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.syncs, 0);
    cr_assert_eq(st.replayed, 2);
    expect_next(s, SL_SIGNAL_LOG, 1, "a");
    expect_next(s, SL_SIGNAL_LOG, 1, "b");
    expect_next(s, SL_SIGNAL_LOG, 1, "c");
    sl__spool_close(s);
    tmp_remove(&t);
}

typedef struct writer_arg {
    sl__spool *s;
    int id;
} writer_arg;

static void *writer(void *p) {
    writer_arg *a = p;
    for (int i = 0; i < 200; i++) {
        char text[32];
        snprintf(text, sizeof(text), "w%d-%03d", a->id, i);
        if (sl__spool_append(a->s, SL_SIGNAL_LOG, (uint32_t)a->id, text,
                             strlen(text), NULL) != SL_OK) {
            return p;
        }
    }
    return NULL;
}

Test(spool, group_commit_keeps_each_writers_order_and_loses_nothing) {
    tmpdir t;
    tmp_make(&t);
    sl__spool *s = open_dir(t.path, 0, 4096); /* rotation under load too */
    pthread_t th[4];
    writer_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (writer_arg){s, i};
        pthread_create(&th[i], NULL, writer, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        cr_assert_null(r, "append failed");
    }
    sl__spool_stats st;
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.appends, 800);
    cr_assert_leq(st.syncs, 800 + 800 / (4096 / 27) + 2);
    sl__spool_close(s);
    s = open_dir(t.path, 0, 4096);
    int next[4] = {0};
    for (int n = 0; n < 800; n++) {
        sl__spool_entry e;
        cr_assert_eq(sl__spool_peek(s, &e, NULL), SL_OK);
        int id = (int)e.records;
        char text[32];
        snprintf(text, sizeof(text), "w%d-%03d", id, next[id]++);
        cr_assert_eq(e.len, strlen(text));
        cr_assert_eq(memcmp(e.data, text, e.len), 0);
        cr_assert_eq(sl__spool_ack(s, NULL), SL_OK);
    }
    expect_empty(s);
    sl__spool_close(s);
    tmp_remove(&t);
}

/* Write entries "one", "two" and "three" in one segment; return the
 * segment's path and each entry's offset. */
static void three_entries(tmpdir *t, char *seg, size_t n, long off[3]) {
    sl__spool *s = open_dir(t->path, 0, 0);
    append(s, SL_SIGNAL_LOG, 1, "one");
    append(s, SL_SIGNAL_LOG, 2, "two");
    append(s, SL_SIGNAL_LOG, 3, "three");
    sl__spool_close(s);
    DIR *d = opendir(t->path);
    cr_assert_not_null(d);
    seg[0] = '\0';
    for (struct dirent *de = readdir(d); de; de = readdir(d)) {
        if (strncmp(de->d_name, "seg-", 4) == 0) {
            snprintf(seg, n, "%s/%s", t->path, de->d_name);
        }
    }
    closedir(d);
    off[0] = 0;
    off[1] = SL_SPOOL_HEADER + 3;
    off[2] = 2 * SL_SPOOL_HEADER + 6;
}

static void flip_byte(const char *path, long at) {
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    unsigned char b;
    cr_assert_eq(pread(fd, &b, 1, at), 1);
    b ^= 0x5a;
    cr_assert_eq(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

/* After damage to the second entry: the first is delivered, the second
 * and everything after it in the segment skipped and counted once. */
static void expect_first_only(tmpdir *t) {
    sl__spool *s = open_dir(t->path, 0, 0);
    sl__spool_stats st;
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.torn, 1);
    cr_assert_eq(st.replayed, 1);
    cr_assert_eq(st.pending_entries, 1);
    expect_next(s, SL_SIGNAL_LOG, 1, "one");
    expect_empty(s);
    sl__spool_close(s);
    s = open_dir(t->path, 0, 0); /* the torn tail was cut: not recounted */
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.torn, 0);
    expect_empty(s);
    sl__spool_close(s);
}

Test(spool, corruption_at_every_header_byte_is_skipped_and_counted) {
    for (long i = 0; i < SL_SPOOL_HEADER; i++) {
        tmpdir t;
        tmp_make(&t);
        char seg[512];
        long off[3];
        three_entries(&t, seg, sizeof(seg), off);
        flip_byte(seg, off[1] + i);
        expect_first_only(&t);
        tmp_remove(&t);
    }
}

Test(spool, a_payload_byte_changed_fails_the_checksum) {
    tmpdir t;
    tmp_make(&t);
    char seg[512];
    long off[3];
    three_entries(&t, seg, sizeof(seg), off);
    flip_byte(seg, off[1] + SL_SPOOL_HEADER + 1);
    expect_first_only(&t);
    tmp_remove(&t);
}

Test(spool, a_tail_cut_at_any_byte_of_an_entry_is_skipped) {
    for (long cut = 1; cut < SL_SPOOL_HEADER + 3; cut++) {
        tmpdir t;
        tmp_make(&t);
        char seg[512];
        long off[3];
        three_entries(&t, seg, sizeof(seg), off);
        /* keep one, two and `cut` bytes of three */
        cr_assert_eq(truncate(seg, off[2] + cut), 0);
        sl__spool *s = open_dir(t.path, 0, 0);
        sl__spool_stats st;
        sl__spool_stats_get(s, &st);
        cr_assert_eq(st.torn, 1, "cut at %ld", cut);
        cr_assert_eq(st.replayed, 2);
        expect_next(s, SL_SIGNAL_LOG, 1, "one");
        expect_next(s, SL_SIGNAL_LOG, 2, "two");
        expect_empty(s);
        sl__spool_close(s);
        tmp_remove(&t);
    }
}

Test(spool, corruption_found_while_running_is_skipped_not_delivered) {
    tmpdir t;
    tmp_make(&t);
    sl__spool *s = open_dir(t.path, 0, 0);
    append(s, SL_SIGNAL_LOG, 1, "one");
    append(s, SL_SIGNAL_LOG, 2, "two");
    char seg[512] = {0};
    DIR *d = opendir(t.path);
    for (struct dirent *de = readdir(d); de; de = readdir(d)) {
        if (strncmp(de->d_name, "seg-", 4) == 0) {
            snprintf(seg, sizeof(seg), "%s/%s", t.path, de->d_name);
        }
    }
    closedir(d);
    flip_byte(seg, SL_SPOOL_HEADER + 3 + SL_SPOOL_HEADER); /* "two"'s t */
    expect_next(s, SL_SIGNAL_LOG, 1, "one");
    expect_empty(s);
    sl__spool_stats st;
    sl__spool_stats_get(s, &st);
    cr_assert_eq(st.torn, 1);
    cr_assert_eq(st.pending_entries, 0);
    cr_assert_eq(st.pending_bytes, 0);
    append(s, SL_SIGNAL_LOG, 3, "three"); /* the writer moved on */
    expect_next(s, SL_SIGNAL_LOG, 3, "three");
    sl__spool_close(s);
    tmp_remove(&t);
}

Test(spool, a_garbage_cursor_replays_every_segment) {
    tmpdir t;
    tmp_make(&t);
    sl__spool *s = open_dir(t.path, 0, 0);
    append(s, SL_SIGNAL_LOG, 1, "one");
    sl__spool_close(s);
    char path[512];
    snprintf(path, sizeof(path), "%s/cursor", t.path);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("not a cursor", f);
    fclose(f);
    s = open_dir(t.path, 0, 0);
    expect_next(s, SL_SIGNAL_LOG, 1, "one");
    sl__spool_close(s);
    tmp_remove(&t);
}

Test(spool, parse_rejects_what_is_not_a_whole_entry) {
    unsigned char buf[64];
    sl__spool_header(buf, SL_SIGNAL_METRIC, 7, "xyz", 3);
    memcpy(buf + SL_SPOOL_HEADER, "xyz", 3);
    sl__spool_entry e;
    const char *why = NULL;
    cr_assert_eq(sl__spool_parse(buf, SL_SPOOL_HEADER + 3, &e, &why),
                 SL_SPOOL_HEADER + 3);
    cr_assert_eq(e.sig, SL_SIGNAL_METRIC);
    cr_assert_eq(e.records, 7);
    for (size_t n = 0; n < SL_SPOOL_HEADER + 3; n++) {
        cr_assert_eq(sl__spool_parse(buf, n, &e, &why), 0, "len %zu", n);
        cr_assert_not_null(why);
    }
    /* CRC32C check value of "123456789" */
    cr_assert_eq(sl__crc32c(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(sl__crc32c(sl__crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}
