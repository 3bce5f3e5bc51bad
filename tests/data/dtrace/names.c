/* Opens hostile names, for the DTrace end-to-end tests. Usage: names LIST COMM REPORT
 * LIST holds NUL-terminated paths. The process renames itself COMM (prctl PR_SET_NAME), then
 * opens each path with O_WRONLY|O_CREAT (and openat(NULL) once, which fails with EFAULT), and
 * writes each result to REPORT as one decimal line (fd or -errno), in order: the ground truth. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: names LIST COMM REPORT\n");
        return 2;
    }
    static char list[1 << 20];
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    size_t n = fread(list, 1, sizeof list - 1, f);
    fclose(f);
    FILE *report = fopen(argv[3], "w");
    if (!report) {
        perror(argv[3]);
        return 1;
    }
    prctl(PR_SET_NAME, argv[2], 0, 0, 0);
    for (size_t i = 0; i < n; i += strlen(list + i) + 1) {
        int fd = open(list + i, O_WRONLY | O_CREAT, 0600);
        fprintf(report, "%d\n", fd < 0 ? -errno : fd);
        if (fd >= 0)
            close(fd);
    }
    long r = syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY);
    fprintf(report, "%ld\n", r < 0 ? -(long)errno : r);
    fclose(report);
    return 0;
}
