/* Process tree corpus, exec from a non-main thread: a worker opens DIR/threxec-before, then
 * execs /bin/cat /etc/hostname (the kernel makes it the thread group leader) while the main
 * thread waits. Usage: threxec DIR */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static const char *dir;

static void *work(void *a)
{
    (void)a;
    char p[4096];
    snprintf(p, sizeof p, "%s/threxec-before", dir);
    open(p, O_RDONLY);
    char *av[] = {"cat", "/etc/hostname", 0};
    execv("/bin/cat", av);
    return 0;
}

int main(int argc, char **argv)
{
    pthread_t t;
    dir = argc > 1 ? argv[1] : "/tmp";
    pthread_create(&t, 0, work, 0);
    for (;;)
        pause();
}
