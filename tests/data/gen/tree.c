/* Process tree corpus, `-p` of a running tree that then forks. An old child, forked before
 * any tracer attaches, opens DIR/tree-old-child every 0.1 s until the tree ends (neither
 * strace -f -p nor trace-gen -p follows it); the parent creates DIR/forked once it has forked
 * it, and the tracers attach only after that. The parent opens DIR/ping every 0.05 s until
 * DIR/go exists (the tracers are attached when they have seen a ping); then it forks a child
 * that opens DIR/tree-new-child and /etc/hostname and forks a grandchild that opens
 * DIR/tree-grandchild; it waits for it and opens DIR/tree-parent. Usage: tree DIR */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static char buf[4096];

static const char *at(const char *dir, const char *name)
{
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    pid_t old = fork();
    if (old == 0) {
        for (;;) {
            usleep(100000);
            int fd = open(at(dir, "tree-old-child"), O_RDONLY);
            if (fd >= 0)
                close(fd);
        }
    }
    int forked = open(at(dir, "forked"), O_WRONLY | O_CREAT, 0644);
    if (forked >= 0)
        close(forked);
    char go[4096];
    snprintf(go, sizeof go, "%s/go", dir);
    while (access(go, F_OK) != 0) {
        int fd = open(at(dir, "ping"), O_RDONLY);
        if (fd >= 0)
            close(fd);
        usleep(50000);
    }
    pid_t p = fork();
    if (p == 0) {
        open(at(dir, "tree-new-child"), O_RDONLY);
        open("/etc/hostname", O_RDONLY);
        if (fork() == 0) {
            open(at(dir, "tree-grandchild"), O_RDONLY);
            _exit(0);
        }
        wait(0);
        _exit(0);
    }
    waitpid(p, 0, 0);
    open(at(dir, "tree-parent"), O_RDONLY);
    kill(old, SIGKILL);
    waitpid(old, 0, 0);
    return 0;
}
