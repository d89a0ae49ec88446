/* tests/match/test_cache.c: the Vectorscan database cache (match/cache.c,
 * through sl__patset_compile_cached): one file per database, reused as is
 * by the next compile of the same patterns; a corrupt, truncated or stale
 * file is ignored and replaced; a set that does not compile stores
 * nothing and fails as without the cache; a cache that cannot be written
 * costs nothing but the compile. Every set scans as an uncached one. */
#include "helpers.h"

#include <dirent.h>
#include <sys/stat.h>

#include "match/cached.h"

#define SL_TEST_TMPDIR "/tmp/sluice-hsc-XXXXXX"
#include "cli/tmpdir.h"

TestSuite(regex_cache, .init = make_dir, .fini = remove_dir);

static const char *const texts[] = {"timeout (after|in) [0-9]+ms on s-1",
                                    "retry [0-9]+ of [0-9]+", "^GET /api/",
                                    "panic.*goroutine"};
enum {
    NTEXTS = sizeof(texts) / sizeof(texts[0])
};

static sl_patset *compile(const char *cache) {
    sl_pat p[NTEXTS];
    for (uint32_t i = 0; i < NTEXTS; i++) {
        p[i] = mkpat(SL_PAT_REGEX, 0, texts[i], 100 + i);
    }
    sl_patset *set = NULL;
    sl_error err = {0};
    sl_status rc =
        sl__patset_compile_cached(p, NTEXTS, cache, NULL, &set, NULL, &err);
    cr_assert_eq(rc, SL_OK, "%s", err.msg);
    return set;
}

/* The ids set matches in each probe, as a bit mask of id - 100. */
static unsigned probe(const sl_patset *set, const char *s) {
    sl_scratch *scr = NULL;
    cr_assert_eq(sl_scratch_reserve(&scr, set), SL_OK);
    hits h = {0};
    cr_assert_eq(sl_patset_scan(set, s, strlen(s), scr, collect, &h), SL_OK);
    sl_scratch_free(scr);
    unsigned mask = 0;
    for (size_t i = 0; i < h.n && i < 64; i++) {
        mask |= 1u << (h.v[i].id - 100);
    }
    return mask;
}

static const char *const probes[] = {"db timeout after 35ms on s-1 (pool)",
                                     "retry 3 of 5",
                                     "GET /api/v1/users",
                                     "worker panic: see goroutine 7",
                                     "nothing to see here",
                                     "timeout in 5ms on s-2 and retry 1 of 2"};

/* Every probe matches the same patterns as a set compiled without a
 * cache. */
static void same_as_uncached(const sl_patset *set) {
    sl_patset *plain = compile(NULL);
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        cr_assert_eq(probe(set, probes[i]), probe(plain, probes[i]), "%s",
                     probes[i]);
    }
    cr_assert_eq(probe(plain, probes[0]), 1u);
    cr_assert_eq(probe(plain, probes[5]), 2u);
    sl_patset_free(plain);
}

/* The one .hsdb file in the cache (name in out); how many there are. */
static int db_files(const char *cache, char *out, size_t cap) {
    DIR *d = opendir(cache);
    if (!d) {
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".hsdb") == 0) {
            snprintf(out, cap, "%s/%s", cache, e->d_name);
            n++;
        } else if (e->d_name[0] != '.' || len > 2) {
            cr_assert_fail("a stray file in the cache: %s", e->d_name);
        }
    }
    closedir(d);
    return n;
}

static char *slurp(const char *p, size_t *len) {
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "%s", p);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spill(const char *p, const char *b, size_t n) {
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

static ino_t inode(const char *p) {
    struct stat st;
    cr_assert_eq(stat(p, &st), 0, "%s", p);
    return st.st_ino;
}

Test(regex_cache, a_second_compile_reuses_the_stored_database) {
    const char *cache = path("hs");
    sl_patset *a = compile(cache); /* the directory is made */
    char file[512];
    cr_assert_eq(db_files(cache, file, sizeof(file)), 1);
    ino_t first = inode(file);
    size_t n1, n2;
    char *b1 = slurp(file, &n1);
    sl_patset *b = compile(cache);
    cr_assert_eq(db_files(cache, file, sizeof(file)), 1);
    cr_assert_eq(inode(file), first, "a hit does not write the file again");
    char *b2 = slurp(file, &n2);
    cr_assert(n1 == n2 && memcmp(b1, b2, n1) == 0);
    same_as_uncached(a);
    same_as_uncached(b);
    free(b1);
    free(b2);
    sl_patset_free(a);
    sl_patset_free(b);
}

/* A file spoiled in each way is ignored (the set still scans right) and
 * replaced by a good one, byte for byte the original. */
Test(regex_cache, corrupt_truncated_and_stale_files_are_replaced) {
    const char *cache = path("hs");
    sl_patset_free(compile(cache));
    char file[512];
    cr_assert_eq(db_files(cache, file, sizeof(file)), 1);
    size_t n;
    char *good = slurp(file, &n);
    cr_assert_gt(n, 200u);
    for (int how = 0; how < 5; how++) {
        char *bad = malloc(n);
        memcpy(bad, good, n);
        size_t len = n;
        if (how == 0) {
            bad[n - 7] ^= 0x20; /* payload */
        } else if (how == 1) {
            len = n - 100; /* truncated */
        } else if (how == 2) {
            bad[8 + 3] ^= 1; /* another key: stale */
        } else if (how == 3) {
            bad[0] = 'X'; /* not a cache file */
        } else {
            len = 10; /* shorter than a header */
        }
        spill(file, bad, len);
        free(bad);
        ino_t before = inode(file);
        sl_patset *set = compile(cache);
        same_as_uncached(set);
        sl_patset_free(set);
        cr_assert_eq(db_files(cache, file, sizeof(file)), 1, "case %d", how);
        cr_assert_neq(inode(file), before, "case %d: replaced", how);
        size_t m;
        char *now = slurp(file, &m);
        cr_assert(m == n && memcmp(now, good, n) == 0, "case %d", how);
        free(now);
    }
    free(good);
}

Test(regex_cache, a_set_that_does_not_compile_stores_nothing) {
    const char *cache = path("hs");
    /* neither has a required literal: one database, which fails */
    sl_pat p[2] = {mkpat(SL_PAT_REGEX, 0, "[a-z]+[0-9]", 1),
                   mkpat(SL_PAT_REGEX, 0, "(ab|cd|ef){3000}", 2)};
    sl_patset *set = NULL;
    sl_error plain = {0}, cached = {0};
    size_t bad1 = 0, bad2 = 0;
    sl_status rc1 = sl_patset_compile_report(p, 2, &set, &bad1, &plain);
    sl_status rc2 =
        sl__patset_compile_cached(p, 2, cache, NULL, &set, &bad2, &cached);
    cr_assert_eq(rc1, SL_EPATTERN);
    cr_assert_eq(rc2, rc1);
    cr_assert_eq(bad2, bad1);
    cr_assert_str_eq(cached.msg, plain.msg);
    cr_assert(strstr(cached.msg, "Pattern is too large"), "%s", cached.msg);
    char file[512];
    cr_assert_eq(db_files(cache, file, sizeof(file)), 0);
}

Test(regex_cache, a_cache_that_cannot_be_written_costs_only_the_compile) {
    spill(path("plain-file"), "x", 1);
    const char *cache = path("plain-file/hs"); /* under a regular file */
    sl_patset *set = compile(cache);
    same_as_uncached(set);
    sl_patset_free(set);
    set = compile("");
    same_as_uncached(set);
    sl_patset_free(set);
}
