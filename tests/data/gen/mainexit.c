/* Process tree corpus, main-thread exit: the main thread calls pthread_exit() while a worker
 * goes on opening DIR/mainexit-0..5; the process lives until the worker ends. Usage:
 * mainexit DIR */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static const char *dir;

static void *work(void *a)
{
    (void)a;
    usleep(200000);
    for (int i = 0; i < 6; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/mainexit-%d", dir, i);
        int fd = open(p, O_RDONLY);
        if (fd >= 0)
            close(fd);
        usleep(20000);
    }
    return 0;
}

int main(int argc, char **argv)
{
    pthread_t t;
    dir = argc > 1 ? argv[1] : "/tmp";
    int fd = open("/etc/hostname", O_RDONLY);
    if (fd >= 0)
        close(fd);
    pthread_create(&t, 0, work, 0);
    pthread_exit(0);
}
