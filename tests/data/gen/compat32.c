/* Process tree corpus, 32-bit opens: built with `gcc -m32 -static`. open, creat, openat and
 * openat2 through `int 0x80` (the ia32 system call numbers 5, 8, 295, 437), and libc's open
 * (the vDSO's entry). Usage: compat32 DIR */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static long sys3(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

static long sys4(long nr, long a, long b, long c, long d)
{
    long r;
    __asm__ volatile("int $0x80"
                     : "=a"(r)
                     : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d)
                     : "memory");
    return r;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char missing[4096], created[4096];
    snprintf(missing, sizeof missing, "%s/compat-missing", dir);
    snprintf(created, sizeof created, "%s/compat-creat", dir);
    long fd = sys3(5, (long)"/etc/hostname", O_RDONLY, 0); /* open */
    if (fd >= 0)
        sys3(6, fd, 0, 0);
    sys3(5, (long)missing, O_RDONLY, 0);
    fd = sys4(295, AT_FDCWD, (long)"/etc/hostname", O_RDONLY, 0); /* openat */
    if (fd >= 0)
        sys3(6, fd, 0, 0);
    fd = sys3(8, (long)created, 0644, 0); /* creat */
    if (fd >= 0)
        sys3(6, fd, 0, 0);
    unsigned long long how[3] = {O_RDONLY, 0, 0}; /* struct open_how */
    fd = sys4(437, AT_FDCWD, (long)"/etc/hostname", (long)how, sizeof how); /* openat2 */
    if (fd >= 0)
        sys3(6, fd, 0, 0);
    fd = open("/etc/passwd", O_RDONLY); /* libc */
    if (fd >= 0)
        close(fd);
    return 0;
}
