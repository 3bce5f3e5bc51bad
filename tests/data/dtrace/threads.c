/* The multi-threaded ground truth of the DTrace end-to-end tests; every open's result is known.
 * Usage: threads DIR WORKERS ROUNDS LATE
 * - thread "fifo" blocks in open(DIR/fifo, O_RDONLY) until main opens it for writing, which main
 *   does only after WORKERS threads have each opened DIR/exists-T (created by main) and
 *   DIR/missing-T ROUNDS times: the blocked open spans all of their opens;
 * - then main starts a thread that opens DIR/late LATE times (created by main) after main itself
 *   has called pthread_exit(): the process is traced as long as any thread of it lives. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *dir;
static long rounds, late_n;

static void path(char *out, const char *name, long t)
{
    if (t < 0)
        snprintf(out, 4096, "%s/%s", dir, name);
    else
        snprintf(out, 4096, "%s/%s-%ld", dir, name, t);
}

static void *fifo_reader(void *arg)
{
    char p[4096];
    path(p, "fifo", -1);
    int fd = open(p, O_RDONLY);
    if (fd < 0) {
        perror(p);
        exit(1);
    }
    close(fd);
    return arg;
}

static void *worker(void *arg)
{
    long t = (long)arg;
    char exists[4096], missing[4096];
    path(exists, "exists", t);
    path(missing, "missing", t);
    for (long i = 0; i < rounds; i++) {
        int fd = open(exists, O_RDONLY);
        if (fd < 0) {
            perror(exists);
            exit(1);
        }
        close(fd);
        if (open(missing, O_RDONLY) >= 0)
            exit(1);
    }
    return arg;
}

static void *late(void *arg)
{
    char p[4096];
    path(p, "late", -1);
    usleep(100000);
    for (long i = 0; i < late_n; i++) {
        int fd = open(p, O_RDONLY);
        if (fd < 0) {
            perror(p);
            exit(1);
        }
        close(fd);
    }
    return arg;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: threads DIR WORKERS ROUNDS LATE\n");
        return 2;
    }
    dir = argv[1];
    long workers = atol(argv[2]);
    rounds = atol(argv[3]);
    late_n = atol(argv[4]);
    char p[4096];
    path(p, "fifo", -1);
    unlink(p);
    if (mkfifo(p, 0600) != 0) {
        perror(p);
        return 1;
    }
    pthread_t reader, t[64], l;
    pthread_create(&reader, 0, fifo_reader, 0);
    usleep(50000);
    for (long i = 0; i < workers; i++) {
        char e[4096];
        path(e, "exists", i);
        int fd = open(e, O_WRONLY | O_CREAT, 0600);
        if (fd < 0) {
            perror(e);
            return 1;
        }
        close(fd);
        pthread_create(&t[i], 0, worker, (void *)i);
    }
    for (long i = 0; i < workers; i++)
        pthread_join(t[i], 0);
    int fd = open(p, O_WRONLY);
    if (fd < 0) {
        perror(p);
        return 1;
    }
    close(fd);
    pthread_join(reader, 0);
    path(p, "late", -1);
    fd = open(p, O_WRONLY | O_CREAT, 0600);
    close(fd);
    pthread_create(&l, 0, late, 0);
    pthread_exit(0);
}
