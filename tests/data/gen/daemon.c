/* Process tree corpus, a double-forking daemon: the command's process opens DIR/daemon-parent
 * and exits at once; its grandchild (after setsid) opens /etc/hostname three times and
 * DIR/daemon-missing after 1.5 s (time enough for trace-gen --stop-at-exit to have
 * stopped on a loaded machine). Usage: daemon DIR */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char p[4096];
    if (fork()) {
        snprintf(p, sizeof p, "%s/daemon-parent", dir);
        open(p, O_RDONLY);
        _exit(0);
    }
    setsid();
    if (fork())
        _exit(0);
    usleep(1500000);
    for (int i = 0; i < 3; i++) {
        int fd = open("/etc/hostname", O_RDONLY);
        if (fd >= 0)
            close(fd);
    }
    snprintf(p, sizeof p, "%s/daemon-missing", dir);
    open(p, O_RDONLY);
    return 0;
}
