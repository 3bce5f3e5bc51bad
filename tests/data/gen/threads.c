/* Process tree corpus, threads: 4 threads open DIR/thr-T-I (3 each, missing), the main
 * thread opens /etc/hostname first. Usage: threads DIR */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static const char *dir;

static void *work(void *a)
{
    char p[4096];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/thr-%ld-%d", dir, (long)a, i);
        int fd = open(p, O_RDONLY);
        if (fd >= 0)
            close(fd);
    }
    return 0;
}

int main(int argc, char **argv)
{
    pthread_t t[4];
    dir = argc > 1 ? argv[1] : "/tmp";
    int fd = open("/etc/hostname", O_RDONLY);
    if (fd >= 0)
        close(fd);
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], 0, work, (void *)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], 0);
    return 0;
}
