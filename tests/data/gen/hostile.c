/* The hostile-name program of the differential tests: opens each argument as a path, read
 * only, and closes it. An argument is %XX-encoded (so that any byte but NUL can be given on a
 * command line); one starting with `--comm=` sets the process name (prctl PR_SET_NAME) for the
 * opens that follow instead. Usage: hostile [--comm=NAME | PATH]... */
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int main(int argc, char **argv)
{
    static char buf[16384];
    for (int i = 1; i < argc; i++) {
        size_t n = 0;
        const char *s = argv[i];
        int setcomm = strncmp(s, "--comm=", 7) == 0;
        if (setcomm)
            s += 7;
        while (*s && n < sizeof buf - 1) {
            if (s[0] == '%' && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
                buf[n++] = (char)(hex(s[1]) * 16 + hex(s[2]));
                s += 3;
            } else {
                buf[n++] = *s++;
            }
        }
        buf[n] = 0;
        if (setcomm) {
            prctl(PR_SET_NAME, buf);
            continue;
        }
        int fd = open(buf, O_RDONLY);
        if (fd >= 0)
            close(fd);
    }
    return 0;
}
