/* Process tree corpus, vfork: posix_spawn (glibc: clone(CLONE_VM | CLONE_VFORK)) of
 * `cat /etc/hostname`, from the main thread and then from a worker thread. Usage: spawn */
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static void run_cat(void)
{
    pid_t p;
    char *av[] = {"cat", "/etc/hostname", 0};
    if (posix_spawn(&p, "/bin/cat", 0, 0, av, environ) == 0)
        waitpid(p, 0, 0);
}

static void *work(void *a)
{
    (void)a;
    run_cat();
    return 0;
}

int main(void)
{
    pthread_t t;
    run_cat();
    pthread_create(&t, 0, work, 0);
    pthread_join(t, 0);
    return 0;
}
