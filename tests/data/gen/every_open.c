/* The ground truth of resolved paths: opens files every way the kernel offers, under a fresh
 * directory, and prints after each open what the kernel opened, as the program itself sees it.
 *
 * Usage: every_open DIR     (DIR must not exist; it is created, used and left in place)
 * Build: cc -O2 -Wall -pthread -o every_open every_open.c   (no library beyond libc)
 *
 * Under DIR: a/, a/b/, link -> a/b (a symlinked directory). The cwd is DIR/a. Every call is
 * made with syscall(2) (or raw io_uring syscalls), so the flags and mode printed are exactly
 * those the kernel received.
 *
 * Output: one JSON object per line on stdout, one per open, in the order of the opens:
 *   {"case":"cwd-create","pid":P,"tid":T,"how":"syscall","call":"open","path":"b/created",
 *    "ret":3,"resolved":"/dev/shm/x/a/b/created","flags":577,"mode":416,"resolve":0}
 * - case: a unique name per record.
 * - how: "syscall", "io_uring" or "handle" (open_by_handle_at) -- trace-format's `via:`.
 * - call: "open", "openat", "openat2", "creat", "open_by_handle_at", "IORING_OP_OPENAT",
 *   "IORING_OP_OPENAT2".
 * - path: the name as passed (null for open_by_handle_at, whose argument is a handle, and for
 *   an unreadable pointer); fault: the pointer, "0x1", when it is unreadable (else absent).
 * - ret: the fd, or -errno.
 * - resolved: for a success, readlink(/proc/self/fd/FD) (an O_TMPFILE file shows as
 *   "DIR/#INODE (deleted)"); for a failure, the realpath of the directory the name was
 *   resolved against (the cwd or the dirfd) joined with the name as passed (an absolute
 *   name as is; else DIR + "/" + name, no normalisation); null when there is no name.
 * - flags, mode, resolve: the numbers passed (Linux numbering; creat passes
 *   O_CREAT|O_WRONLY|O_TRUNC; resolve is openat2's how.resolve, else 0; mode is printed
 *   whatever the flags, a tracer shows it only with O_CREAT or O_TMPFILE).
 * Strings are byte strings: each byte is one JSON character U+0000..U+00FF (bytes below 0x20,
 * 0x7f.., `"` and `\` as \u00XX), so a reader maps each character back to one byte.
 *
 * open_by_handle_at needs CAP_DAC_READ_SEARCH: without it the record has ret -1 (EPERM).
 * Exit status 0 when every call behaved as planned (a case that did not is named on stderr
 * with status 1; its record is still printed). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int status;

static void json_bytes(const char *s)
{
    if (!s) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* The realpath of `dirfd` (AT_FDCWD: the cwd) joined with `name`. */
static void joined(int dirfd, const char *name, char *out, size_t size)
{
    char dir[PATH_MAX + 1];
    if (name[0] == '/') {
        snprintf(out, size, "%s", name);
        return;
    }
    if (dirfd == AT_FDCWD) {
        if (!getcwd(dir, sizeof dir))
            strcpy(dir, "?");
    } else {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
        ssize_t n = readlink(link, dir, sizeof dir - 1);
        dir[n < 0 ? 0 : n] = 0;
    }
    size_t len = strlen(dir);
    snprintf(out, size, "%s%s%s", dir, len && dir[len - 1] == '/' ? "" : "/", name);
}

/* Prints one record. `ret` is the call's result (fd or -errno); `dirfd`/`name` say where a
 * failure was resolved; `expect_ok` is the plan (1 success, 0 failure). */
static void record(const char *cas, const char *how, const char *call, const char *name,
                   const void *fault, long ret, int dirfd, long flags, long mode,
                   long resolve, int expect_ok)
{
    char resolved[2 * PATH_MAX + 2] = "";
    int have = 0;
    if (ret >= 0) {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%ld", ret);
        ssize_t n = readlink(link, resolved, sizeof resolved - 1);
        resolved[n < 0 ? 0 : n] = 0;
        have = n >= 0;
    } else if (name) {
        joined(dirfd, name, resolved, sizeof resolved);
        have = 1;
    }
    printf("{\"case\":\"%s\",\"pid\":%d,\"tid\":%ld,\"how\":\"%s\",\"call\":\"%s\",\"path\":", cas,
           getpid(), (long)syscall(SYS_gettid), how, call);
    json_bytes(name);
    if (fault)
        printf(",\"fault\":\"%p\"", fault);
    printf(",\"ret\":%ld,\"resolved\":", ret);
    json_bytes(have ? resolved : NULL);
    printf(",\"flags\":%ld,\"mode\":%ld,\"resolve\":%ld}\n", flags, mode, resolve);
    fflush(stdout);
    if ((ret >= 0) != expect_ok) {
        fprintf(stderr, "every_open: case %s: result %ld, not as planned\n", cas, ret);
        status = 1;
    }
}

static long result(long r)
{
    return r < 0 ? -errno : r;
}

/* --- io_uring by raw system calls: one ring, one request at a time --- */

struct ring {
    int fd;
    unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
};

static int ring_setup(struct ring *r)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    r->fd = (int)syscall(SYS_io_uring_setup, 4, &p);
    if (r->fd < 0)
        return -errno;
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    char *sq = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                    IORING_OFF_SQ_RING);
    char *cq = mmap(NULL, cq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                    IORING_OFF_CQ_RING);
    r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || r->sqes == MAP_FAILED)
        return -errno;
    r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
    r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    r->sq_array = (unsigned *)(sq + p.sq_off.array);
    r->cq_head = (unsigned *)(cq + p.cq_off.head);
    r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
    r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
    r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    return 0;
}

/* Submits `sqe` and waits for its completion; the completion's res (fd or -errno). */
static long ring_run(struct ring *r, const struct io_uring_sqe *sqe)
{
    unsigned tail = *r->sq_tail, i = tail & *r->sq_mask;
    r->sqes[i] = *sqe;
    r->sq_array[i] = i;
    __atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
    if (syscall(SYS_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
        return -errno;
    unsigned head = *r->cq_head;
    while (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
        ;
    long res = r->cqes[head & *r->cq_mask].res;
    __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
    return res;
}

static long uring_openat(struct ring *r, int dirfd, const char *name, int flags, int mode)
{
    struct io_uring_sqe sqe;
    memset(&sqe, 0, sizeof sqe);
    sqe.opcode = IORING_OP_OPENAT;
    sqe.fd = dirfd;
    sqe.addr = (uintptr_t)name;
    sqe.open_flags = (unsigned)flags;
    sqe.len = (unsigned)mode;
    return ring_run(r, &sqe);
}

static long uring_openat2(struct ring *r, int dirfd, const char *name, struct open_how *how)
{
    struct io_uring_sqe sqe;
    memset(&sqe, 0, sizeof sqe);
    sqe.opcode = IORING_OP_OPENAT2;
    sqe.fd = dirfd;
    sqe.addr = (uintptr_t)name;
    sqe.addr2 = (uintptr_t)how;
    sqe.len = sizeof *how;
    return ring_run(r, &sqe);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: every_open DIR (DIR must not exist)\n");
        return 2;
    }
    const char *top = argv[1];
    char path[PATH_MAX + 64], real[PATH_MAX];
    if (mkdir(top, 0755) < 0) {
        perror(top);
        return 2;
    }
    if (!realpath(top, real)) {
        perror(top);
        return 2;
    }
    snprintf(path, sizeof path, "%s/a", real);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/a/b", real);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/link", real);
    if (symlink("a/b", path) < 0 || chdir(real) < 0 || chdir("a") < 0) {
        perror(path);
        return 2;
    }
    long r;
    int f;

    /* Relative to the cwd: created, then missing. */
    f = O_WRONLY | O_CREAT | O_TRUNC;
    r = result(syscall(SYS_open, "b/created", f, 0640));
    record("cwd-create", "syscall", "open", "b/created", NULL, r, AT_FDCWD, f, 0640, 0, 1);
    f = O_RDONLY;
    r = result(syscall(SYS_openat, AT_FDCWD, "b/missing", f, 0));
    record("cwd-missing", "syscall", "openat", "b/missing", NULL, r, AT_FDCWD, f, 0, 0, 0);

    /* `..` and `.`. */
    f = O_RDONLY | O_CLOEXEC;
    r = result(syscall(SYS_openat, AT_FDCWD, "../a/./b/created", f, 0));
    record("dot-dot", "syscall", "openat", "../a/./b/created", NULL, r, AT_FDCWD, f, 0, 0, 1);

    /* Through the symlinked directory, by its absolute name. */
    snprintf(path, sizeof path, "%s/link/created", real);
    f = O_RDWR | O_APPEND;
    r = result(syscall(SYS_openat, AT_FDCWD, path, f, 0));
    record("symlinked-dir", "syscall", "openat", path, NULL, r, AT_FDCWD, f, 0, 0, 1);

    /* Through a dirfd (opened through the symlink): found, missing. */
    f = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    int dirfd = (int)result(syscall(SYS_openat, AT_FDCWD, "../link", f, 0));
    record("dirfd-open", "syscall", "openat", "../link", NULL, dirfd, AT_FDCWD, f, 0, 0, 1);
    f = O_RDWR | O_APPEND;
    r = result(syscall(SYS_openat, dirfd, "created", f, 0));
    record("dirfd", "syscall", "openat", "created", NULL, r, dirfd, f, 0, 0, 1);
    f = O_RDONLY;
    r = result(syscall(SYS_openat, dirfd, "missing", f, 0));
    record("dirfd-missing", "syscall", "openat", "missing", NULL, r, dirfd, f, 0, 0, 0);

    /* creat(2). */
    r = result(syscall(SYS_creat, "b/by-creat", 0600));
    record("creat", "syscall", "creat", "b/by-creat", NULL, r, AT_FDCWD,
           O_CREAT | O_WRONLY | O_TRUNC, 0600, 0, 1);

    /* O_TMPFILE: an unnamed file in b, shown as "DIR/#INODE (deleted)". */
    f = O_TMPFILE | O_RDWR;
    r = result(syscall(SYS_openat, AT_FDCWD, "b", f, 0600));
    record("tmpfile", "syscall", "openat", "b", NULL, r, AT_FDCWD, f, 0600, 0, 1);

    /* openat2 with RESOLVE_BENEATH: inside the dirfd, and escaping it (EXDEV). */
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_RDONLY;
    how.resolve = RESOLVE_BENEATH;
    r = result(syscall(SYS_openat2, dirfd, "created", &how, sizeof how));
    record("openat2-beneath", "syscall", "openat2", "created", NULL, r, dirfd, (long)how.flags,
           0, (long)how.resolve, 1);
    r = result(syscall(SYS_openat2, dirfd, "../b/created", &how, sizeof how));
    record("openat2-escape", "syscall", "openat2", "../b/created", NULL, r, dirfd,
           (long)how.flags, 0, (long)how.resolve, 0);
    memset(&how, 0, sizeof how);
    how.flags = O_WRONLY | O_CREAT | O_EXCL;
    how.mode = 0604;
    how.resolve = RESOLVE_NO_SYMLINKS;
    r = result(syscall(SYS_openat2, AT_FDCWD, "b/by-openat2", &how, sizeof how));
    record("openat2-create", "syscall", "openat2", "b/by-openat2", NULL, r, AT_FDCWD,
           (long)how.flags, (long)how.mode, (long)how.resolve, 1);

    /* An empty name (ENOENT) and an unreadable pointer (EFAULT). */
    f = O_RDONLY;
    r = result(syscall(SYS_openat, AT_FDCWD, "", f, 0));
    record("empty", "syscall", "openat", "", NULL, r, AT_FDCWD, f, 0, 0, 0);
    const char *bad = (const char *)1;
    r = result(syscall(SYS_openat, AT_FDCWD, bad, f, 0));
    record("fault", "syscall", "openat", NULL, bad, r, AT_FDCWD, f, 0, 0, 0);

    /* Other mounts: devtmpfs, and procfs through the /proc/self symlink. */
    f = O_WRONLY;
    r = result(syscall(SYS_openat, AT_FDCWD, "/dev/null", f, 0));
    record("other-mount", "syscall", "openat", "/dev/null", NULL, r, AT_FDCWD, f, 0, 0, 1);
    f = O_RDONLY;
    r = result(syscall(SYS_openat, AT_FDCWD, "/proc/self/stat", f, 0));
    record("proc-self", "syscall", "openat", "/proc/self/stat", NULL, r, AT_FDCWD, f, 0, 0, 1);

    /* io_uring: IORING_OP_OPENAT found and missing, IORING_OP_OPENAT2 through the dirfd. */
    struct ring ring;
    int e = ring_setup(&ring);
    if (e < 0) {
        fprintf(stderr, "every_open: io_uring_setup: %s\n", strerror(-e));
        status = 1;
    } else {
        f = O_RDONLY | O_CLOEXEC;
        r = uring_openat(&ring, AT_FDCWD, "b/created", f, 0);
        record("uring", "io_uring", "IORING_OP_OPENAT", "b/created", NULL, r, AT_FDCWD, f, 0,
               0, 1);
        r = uring_openat(&ring, AT_FDCWD, "b/uring-missing", f, 0);
        record("uring-missing", "io_uring", "IORING_OP_OPENAT", "b/uring-missing", NULL, r,
               AT_FDCWD, f, 0, 0, 0);
        f = O_WRONLY | O_CREAT | O_TRUNC;
        r = uring_openat(&ring, dirfd, "by-uring", f, 0644);
        record("uring-create", "io_uring", "IORING_OP_OPENAT", "by-uring", NULL, r, dirfd, f,
               0644, 0, 1);
        memset(&how, 0, sizeof how);
        how.flags = O_RDONLY;
        how.resolve = RESOLVE_BENEATH;
        r = uring_openat2(&ring, dirfd, "created", &how);
        record("uring-openat2", "io_uring", "IORING_OP_OPENAT2", "created", NULL, r, dirfd,
               (long)how.flags, 0, (long)how.resolve, 1);
    }

    /* open_by_handle_at: a handle of b/created (needs CAP_DAC_READ_SEARCH). */
    struct {
        struct file_handle h;
        unsigned char bytes[MAX_HANDLE_SZ];
    } handle;
    int mount_id;
    handle.h.handle_bytes = MAX_HANDLE_SZ;
    if (syscall(SYS_name_to_handle_at, AT_FDCWD, "b/created", &handle.h, &mount_id, 0) < 0) {
        perror("every_open: name_to_handle_at");
        status = 1;
    } else {
        f = O_RDONLY;
        r = result(syscall(SYS_open_by_handle_at, dirfd, &handle.h, f));
        record("handle", "handle", "open_by_handle_at", NULL, NULL, r, dirfd, f, 0, 0, 1);
    }
    return status;
}
