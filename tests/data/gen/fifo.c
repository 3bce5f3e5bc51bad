/* Restarted opens: open(DIR/f, O_RDONLY) of a FIFO blocks (no writer yet); SIGALRM (handler
 * with SA_RESTART) interrupts it at 0.5 s (-ERESTARTSYS, restarted by the kernel), SIGUSR1
 * (no SA_RESTART) at 1 s (-ERESTARTSYS at the system call's return, EINTR for the program,
 * which opens again); a child opens the write end at 1.5 s. Usage: fifo DIR */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void handler(int s)
{
    (void)s;
}

int main(int argc, char **argv)
{
    char fifo[4096];
    snprintf(fifo, sizeof fifo, "%s/f", argc > 1 ? argv[1] : "/tmp");
    unlink(fifo);
    if (mkfifo(fifo, 0600) != 0)
        return 1;
    struct sigaction sa = {0};
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, 0);
    struct sigaction sb = {0};
    sb.sa_handler = handler;
    sigaction(SIGUSR1, &sb, 0);
    pid_t me = getpid();
    pid_t child = fork();
    if (child == 0) {
        usleep(500000);
        kill(me, SIGALRM);
        usleep(500000);
        kill(me, SIGUSR1);
        usleep(500000);
        int w = open(fifo, O_WRONLY);
        close(w);
        _exit(0);
    }
    int fd;
    while ((fd = open(fifo, O_RDONLY)) < 0)
        ;
    close(fd);
    waitpid(child, 0, 0);
    unlink(fifo);
    return 0;
}
