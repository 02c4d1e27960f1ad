/* Shared by the fuzz targets: the bytes under test are written to a model
 * file in a private folder made once per process, and loaded through the
 * public API by that path, so the real path is exercised: open, fstat,
 * mmap, wire pre-scan, hollowing, unpack, external data lookup relative to
 * the model's folder, validation. A small side file sits in the folder so
 * that inputs naming it as external data reach the range checks. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnxtd.h"

/* Loads are bounded well below libFuzzer's default RSS limit (2 GiB) so
 * that a refused-by-estimate input is a pass, not an out-of-memory kill. */
#define FUZZ_MEM_LIMIT ((size_t)256 << 20)

static char fuzz_dir[64];

static void fuzz_cleanup(void)
{
    static const char *const names[] = {"model.onnx", "out.onnx", "ext.bin",
                                        "out.bin"};
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", fuzz_dir, names[i]);
        unlink(p);
    }
    rmdir(fuzz_dir);
}

static int write_all(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (size) {
        ssize_t w = write(fd, data, size);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        data += w;
        size -= (size_t)w;
    }
    return close(fd);
}

/* Makes the folder on first use; aborts (a harness failure, not a finding)
 * if the machine cannot give us one. */
static const char *fuzz_path(const char *name)
{
    static char p[128];
    if (!fuzz_dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/onnxtd-fuzz.XXXXXX", base);
        if (!mkdtemp(fuzz_dir))
            abort();
        atexit(fuzz_cleanup);
        uint8_t side[4096];
        for (size_t i = 0; i < sizeof side; i++)
            side[i] = (uint8_t)(i * 37u);
        snprintf(p, sizeof p, "%s/ext.bin", fuzz_dir);
        if (write_all(p, side, sizeof side))
            abort();
    }
    snprintf(p, sizeof p, "%s/%s", fuzz_dir, name);
    return p;
}

/* Every failure must come with a message; a silent failure is a bug. */
static void check_error(onnxtd_status s, const onnxtd_error *err)
{
    if (s != ONNXTD_OK && err->message[0] == '\0') {
        fprintf(stderr, "status %d without a message\n", (int)s);
        abort();
    }
}

#endif
