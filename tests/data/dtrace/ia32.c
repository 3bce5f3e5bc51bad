/* 32-bit (ia32 compat) opens from a 64-bit static non-PIE binary (its data below 4 GiB), for
 * the DTrace end-to-end tests: open("/etc/hostname") and open("/nonexistent-ia32") through
 * int 0x80 (compat call 5), then openat(AT_FDCWD, "/etc/hostname") (compat call 295). */
static char path[] = "/etc/hostname";
static char nope[] = "/nonexistent-ia32";
int main(void)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(5), "b"(path), "c"(0), "d"(0) : "memory");
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(5), "b"(nope), "c"(0), "d"(0) : "memory");
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(295), "b"(-100), "c"(path), "d"(0) : "memory");
    return 0;
}
