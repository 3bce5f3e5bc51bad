/* Opens through path pointers that cannot be read (a program's bug, or an attacker probing
 * the tracer): the kernel fails each with EFAULT, and the tracer's read of the path faults
 * too. Then one ordinary open, so the trace shows the run went on. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *bad[] = {(const char *)1, (const char *)0x10, (const char *)-4096L};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int fd = open(bad[i], O_RDONLY);
        if (fd >= 0 || errno != EFAULT)
            return 1;
    }
    int fd = open(argc > 1 ? argv[1] : "/nonexistent-after-bad-pointers", O_RDONLY);
    return fd >= 0 ? 2 : 0;
}
