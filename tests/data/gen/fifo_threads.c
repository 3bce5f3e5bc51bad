/* Ground truth for the tracers' loss and pairing: THREADS worker threads each open
 * DIR/exists-T (created here) and DIR/missing-T ROUNDS times, while one more thread is blocked
 * in an open of the FIFO DIR/fifo for reading across the whole burst; once the workers are done,
 * main opens the FIFO for writing, which ends the blocked open. Every open has a known result:
 * a file descriptor, or -ENOENT. Prints nothing on success.
 * Usage: fifo_threads DIR THREADS ROUNDS */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static long rounds;
static char fifo[4096];

static void *work(void *arg)
{
    long t = (long)arg;
    char exists[4096], missing[4096];
    snprintf(exists, sizeof exists, "%s/exists-%ld", dir, t);
    snprintf(missing, sizeof missing, "%s/missing-%ld", dir, t);
    for (long i = 0; i < rounds; i++) {
        int fd = open(exists, O_RDONLY);
        if (fd < 0) {
            perror(exists);
            exit(1);
        }
        close(fd);
        if (open(missing, O_RDONLY) >= 0 || errno != ENOENT) {
            fprintf(stderr, "%s: not ENOENT\n", missing);
            exit(1);
        }
    }
    return NULL;
}

static void *read_fifo(void *arg)
{
    (void)arg;
    int fd = open(fifo, O_RDONLY); /* blocks until main opens it for writing */
    if (fd < 0) {
        perror(fifo);
        exit(1);
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fifo_threads DIR THREADS ROUNDS\n");
        return 2;
    }
    dir = argv[1];
    long threads = atol(argv[2]);
    rounds = atol(argv[3]);
    if (threads < 1 || threads > 64 || rounds < 0) {
        fprintf(stderr, "fifo_threads: THREADS is 1 to 64, ROUNDS at least 0\n");
        return 2;
    }
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    if (mkfifo(fifo, 0600) != 0 && errno != EEXIST) {
        perror(fifo);
        return 1;
    }
    for (long t = 0; t < threads; t++) {
        char exists[4096];
        snprintf(exists, sizeof exists, "%s/exists-%ld", dir, t);
        int fd = open(exists, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            perror(exists);
            return 1;
        }
        close(fd);
    }
    pthread_t reader, tid[64];
    pthread_create(&reader, NULL, read_fifo, NULL);
    /* Let the reader block in its open before the burst starts. */
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    for (long t = 0; t < threads; t++)
        pthread_create(&tid[t], NULL, work, (void *)t);
    for (long t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    int fd = open(fifo, O_WRONLY);
    if (fd < 0) {
        perror(fifo);
        return 1;
    }
    close(fd);
    pthread_join(reader, NULL);
    return 0;
}
