/* Hostile file and process names for the tracers' output channel: opens, in DIR, files whose
 * names look like trace lines, lost-count headers and quoted strings, or hold control bytes,
 * invalid UTF-8, bidi controls, quotes and backslashes; a 255-byte name; paths of 1,000 and
 * 4,095 bytes (PATH_MAX - 1) and one the kernel refuses as too long; then renames its own
 * thread (comm) to names with a space, " open: ", " ret: " and a newline and opens once under
 * each. Writes what it did to EXPECTED, one open per line: the path in hex, the comm in hex,
 * and the result (fd or -errno), so that a trace can be compared byte for byte.
 * Usage: guest_hostile DIR EXPECTED */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static FILE *expected;

static void hex(const char *s, size_t n)
{
    if (n == 0)
        fputc('-', expected);
    for (size_t i = 0; i < n; i++)
        fprintf(expected, "%02x", (unsigned char)s[i]);
}

static void open_one(const char *path)
{
    int fd = open(path, O_RDONLY);
    int ret = fd >= 0 ? fd : -errno;
    if (fd >= 0)
        close(fd);
    char comm[17] = {0};
    prctl(PR_GET_NAME, comm, 0, 0, 0);
    hex(path, strlen(path));
    fputc(' ', expected);
    hex(comm, strlen(comm));
    fprintf(expected, " %d\n", ret);
}

static void open_in(const char *dir, const char *name)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    open_one(path);
}

/* DIR/ then "seg/" repeated, then "x" fill, to exactly LEN bytes. */
static void open_long(const char *dir, size_t len)
{
    char *p = malloc(len + 1);
    size_t n = (size_t)snprintf(p, len + 1, "%s/", dir);
    while (n + 100 < len) {
        memset(p + n, 'd', 99);
        p[n + 99] = '/';
        n += 100;
    }
    memset(p + n, 'x', len - n);
    p[len] = 0;
    open_one(p);
    free(p);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: guest_hostile DIR EXPECTED\n");
        return 2;
    }
    const char *dir = argv[1];
    expected = fopen(argv[2], "w");
    if (!expected) {
        perror(argv[2]);
        return 1;
    }
    static const char *names[] = {
        "new\nline",
        "a 5\n<= uid: 0 pid: 9 ret: 3 6\n=> uid: 0 pid: 1 comm: systemd open: /etc/shadow T\n"
        "<= uid: 0 pid: 1 ret: 3 T2\n=> uid: 65534 pid: P open: x",
        "x\nLost 999999 events\n",
        "y\n# lost: 999999\n",
        "\"/etc/shadow\"",
        "\"\\x41\\x42\"",
        "back\\slash",
        "quote\"q",
        "tab\there",
        "cr\rhere",
        "esc\x1b[31mred",
        "bidi\xe2\x80\xae" "evil",
        "invalid\xff\xfe\x80utf8",
        "caf\xc3\xa9",
        " lead",
        "trail ",
        "ends in 42",
        "open: x ret: 3",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        open_in(dir, names[i]);
    char name255[256];
    memset(name255, 'n', 255);
    name255[255] = 0;
    open_in(dir, name255);
    open_long(dir, 1000);
    open_long(dir, 4095);
    open_long(dir, 5000); /* ENAMETOOLONG: the tracer reads at most PATH_MAX - 1 bytes */
    /* Relative: the name itself is what the tracer sees. */
    if (chdir(dir) == 0) {
        open_one("\"/etc/shadow\"");
        open_one("\"\\x41\\x42\"");
    }
    static const char *comms[] = {"a open: y", "b ret: 3", "new\nline", "\"q\" \\"};
    for (size_t i = 0; i < sizeof comms / sizeof comms[0]; i++) {
        prctl(PR_SET_NAME, comms[i], 0, 0, 0);
        char name[64];
        snprintf(name, sizeof name, "comm-%zu", i);
        open_in(dir, name);
    }
    return fclose(expected) == 0 ? 0 : 1;
}
