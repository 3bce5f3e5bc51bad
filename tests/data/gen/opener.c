/* The multi-threaded test program of the trace-gen end-to-end tests: THREADS threads each
 * open DIR/exists-T (created here) and DIR/missing-T ROUNDS times, so every open has a known
 * result: a file descriptor, or -ENOENT. Usage: opener DIR THREADS ROUNDS */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *dir;
static long rounds;

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
        if (open(missing, O_RDONLY) >= 0) {
            fprintf(stderr, "%s exists\n", missing);
            exit(1);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: opener DIR THREADS ROUNDS\n");
        return 2;
    }
    dir = argv[1];
    long threads = atol(argv[2]);
    rounds = atol(argv[3]);
    pthread_t tids[64];
    if (threads < 1 || threads > 64)
        return 2;
    for (long t = 0; t < threads; t++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/exists-%ld", dir, t);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            perror(path);
            return 1;
        }
        close(fd);
    }
    for (long t = 0; t < threads; t++)
        if (pthread_create(&tids[t], NULL, work, (void *)t) != 0)
            return 1;
    for (long t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);
    return 0;
}
