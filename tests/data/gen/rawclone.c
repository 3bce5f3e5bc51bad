/* Process tree corpus, clone() without CLONE_THREAD: from a worker thread with CLONE_VM, and
 * from the main thread with CLONE_FS; each child opens DIR/rawclone-child and /etc/hostname
 * with the raw openat system call. Usage: rawclone DIR */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[4096];

static int child(void *a)
{
    (void)a;
    syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
    syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
    return 0;
}

static void *work(void *a)
{
    (void)a;
    char *st = malloc(65536);
    pid_t p = clone(child, st + 65536, CLONE_VM | SIGCHLD, 0);
    waitpid(p, 0, __WALL);
    return 0;
}

int main(int argc, char **argv)
{
    snprintf(path, sizeof path, "%s/rawclone-child", argc > 1 ? argv[1] : "/tmp");
    pthread_t t;
    pthread_create(&t, 0, work, 0);
    pthread_join(t, 0);
    char *st = malloc(65536);
    pid_t p = clone(child, st + 65536, CLONE_FS | SIGCHLD, 0);
    waitpid(p, 0, __WALL);
    return 0;
}
