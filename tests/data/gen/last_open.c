/* Opens PREFIX-0 ... PREFIX-(N-1), in order, as fast as it can, and exits the instant after
 * the last one: that open is the last system call before exit_group (raw system calls, so
 * that no libc exit handler runs in between). A trace that stops at this process's exit must
 * still hold every open: the fence has to drain what the tracer's buffers hold then.
 *
 * Usage: last_open PREFIX N */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    long n = atol(argv[2]);
    char path[4096];
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s-%ld", argv[1], i);
        syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    }
    syscall(SYS_exit_group, 0);
    return 0;
}
