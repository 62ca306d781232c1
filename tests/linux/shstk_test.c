/* shstk_test.c: user shadow stacks under Linux (run inside the test
 * initramfs by tests/tier-linux). Enables shadow stacks for this thread
 * with arch_prctl(ARCH_SHSTK_ENABLE), then overwrites a return address:
 * the RET must die with SIGSEGV, si_code SEGV_CPERR. Exit status: 0 caught
 * as SEGV_CPERR, 1 not caught, 2 another SIGSEGV, 3 cannot enable. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#define ARCH_SHSTK_ENABLE 0x5001
#define ARCH_SHSTK_SHSTK (1ULL << 0)
#ifndef SEGV_CPERR
#define SEGV_CPERR 10
#endif
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	printf("SIGSEGV si_code=%d (%s)\n", si->si_code, si->si_code == SEGV_CPERR ? "SEGV_CPERR" : "other");
	fflush(stdout);
	_exit(si->si_code == SEGV_CPERR ? 0 : 2);
}
__attribute__((noinline)) static void victim(void)
{
	unsigned long *ra = (unsigned long *)__builtin_frame_address(0) + 1;
	*ra += 1; /* a return-address overwrite */
	__asm__ volatile("" ::: "memory");
}
/* Inline: a function called before enabling could not return afterwards. */
static inline __attribute__((always_inline)) long shstk_enable(void)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(SYS_arch_prctl), "D"(ARCH_SHSTK_ENABLE),
			 "S"(ARCH_SHSTK_SHSTK) : "rcx", "r11", "memory");
	return r;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	if (shstk_enable()) {
		printf("cannot enable shadow stacks\n");
		fflush(stdout);
		_exit(3);
	}
	printf("shadow stack enabled\n");
	fflush(stdout);
	victim();
	printf("return-address overwrite NOT caught\n");
	fflush(stdout);
	_exit(1);
}
