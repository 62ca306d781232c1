/* apic_timer: the xAPIC timer in one-shot, periodic and TSC-deadline mode:
 * interrupts arrive and are counted (handler + EOI), the current count runs
 * down, a masked LVT, IF=0 or CR8 (the TPR) holds the interrupt back, and a
 * missing EOI blocks further ones (SDM Vol. 3A, 11.5.4 and 11.8.4). Waits are bounded
 * by loop counts, never by time. */
#include "apic.h"
#include "idt.h"
#include "report.h"
#include "x86.h"

#define TIMER_VECTOR 0x40
#define SPIN_LIMIT 200000000ull

static volatile int ticks;
static bool send_eoi = true;

static void timer_handler(struct regs *r)
{
	(void)r;
	ticks++;
	if (send_eoi)
		apic_eoi();
}

static bool wait_ticks(int n)
{
	for (u64 i = 0; i < SPIN_LIMIT && ticks < n; i++)
		pause();
	return ticks >= n;
}

static bool wait_count_zero(void)
{
	for (u64 i = 0; i < SPIN_LIMIT; i++)
		if (apic_read(APIC_TIMER_CCR) == 0)
			return true;
	return false;
}

/* In periodic mode: return after the count has reloaded n times, so that
 * n periods passed whatever the speed of the (virtual) clock. */
static bool wait_periods(int n)
{
	u32 last = apic_read(APIC_TIMER_CCR);

	for (u64 i = 0; i < SPIN_LIMIT && n > 0; i++) {
		u32 now = apic_read(APIC_TIMER_CCR);
		n -= now > last;
		last = now;
	}
	return n <= 0;
}

static void spin(u64 n)
{
	for (u64 i = 0; i < n; i++)
		pause();
}

static void test_oneshot(void)
{
	ticks = 0;
	apic_timer_oneshot(TIMER_VECTOR, 100000);
	report(wait_ticks(1), "one-shot: interrupt arrives");
	report(wait_count_zero(), "one-shot: current count reaches 0");
	spin(100000);
	report(ticks == 1, "one-shot: exactly one interrupt (%d)", ticks);

	apic_timer_oneshot(TIMER_VECTOR, 0x7fffffff);
	u32 a = apic_read(APIC_TIMER_CCR);
	spin(1000);
	u32 b = apic_read(APIC_TIMER_CCR);
	report(a <= 0x7fffffff && b < a, "current count runs down (%#x then %#x)", a, b);
	apic_timer_stop();
	report(apic_read(APIC_TIMER_CCR) == 0, "writing initial count 0 stops the timer");
}

static void test_periodic(void)
{
	ticks = 0;
	apic_timer_periodic(TIMER_VECTOR, 200000);
	report(wait_ticks(5), "periodic: 5 interrupts arrive (%d)", ticks);
	report(apic_read(APIC_TIMER_CCR) <= 200000, "periodic: count reloads from initial");
	apic_timer_stop();
	spin(10000); /* drain a tick that fired before the stop */

	/* Without EOI the vector stays in service and blocks itself. */
	cli();
	send_eoi = false;
	ticks = 0;
	apic_timer_periodic(TIMER_VECTOR, 100000);
	sti();
	wait_ticks(1);
	bool waited = wait_periods(3);
	int held = ticks;
	send_eoi = true;
	apic_eoi();
	report(waited && held == 1, "no EOI: the vector blocks itself (%d interrupts in 3 periods)",
	       held);
	report(wait_ticks(3), "EOI releases the next interrupt (%d)", ticks);
	apic_timer_stop();
}

static void test_held_back(void)
{
	ticks = 0;
	apic_write(APIC_TIMER_DCR, 0xb);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | TIMER_VECTOR);
	apic_write(APIC_TIMER_ICR, 50000);
	report(wait_count_zero() && (spin(10000), ticks == 0), "masked LVT: no interrupt");
	apic_timer_stop();

	cli();
	apic_timer_oneshot(TIMER_VECTOR, 50000);
	wait_count_zero();
	spin(10000);
	int before = ticks;
	sti();
	asm volatile("nop");
	report(before == 0 && wait_ticks(1), "IF=0 holds the interrupt; STI delivers it");
}

static u64 cr8_read(void)
{
	u64 v;
	asm volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static void cr8_write(u64 v)
{
	asm volatile("mov %0, %%cr8" ::"r"(v) : "memory");
}

/* CR8 is the TPR's priority class (SDM Vol. 3A 11.8.6.1): one register,
 * which holds back interrupts of its class and below. */
static void test_cr8(void)
{
	cr8_write(0xa);
	u32 tpr = apic_read(APIC_TPR);
	report(tpr == 0xa0, "MOV CR8 = 0xa sets TPR = 0xa0 (%#x)", tpr);
	apic_write(APIC_TPR, 0x35);
	report(cr8_read() == 3, "TPR = 0x35 reads back as CR8 = 3 (%#lx)", cr8_read());
	ticks = 0;
	cr8_write(TIMER_VECTOR >> 4);
	apic_timer_oneshot(TIMER_VECTOR, 50000);
	wait_count_zero();
	spin(10000);
	int before = ticks;
	cr8_write((TIMER_VECTOR >> 4) - 1);
	report(before == 0 && wait_ticks(1), "CR8 = 4 holds back vector 0x40; CR8 = 3 lets it in");
	cr8_write(0);
	apic_timer_stop();
}

static void test_deadline(void)
{
	if (!cpu_has(X86_FEATURE_TSC_DEADLINE)) {
		report_skip("TSC-deadline mode not supported");
		return;
	}
	ticks = 0;
	apic_timer_deadline(TIMER_VECTOR);
	wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + 200000);
	report(wait_ticks(1), "TSC deadline: interrupt arrives");
	report(rdmsr(MSR_IA32_TSC_DEADLINE) == 0, "TSC deadline MSR reads 0 after it fired");
	wrmsr(MSR_IA32_TSC_DEADLINE, 1); /* in the past: fires at once */
	report(wait_ticks(2), "deadline in the past fires");
	wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + (1ull << 40));
	wrmsr(MSR_IA32_TSC_DEADLINE, 0);
	spin(100000);
	report(ticks == 2, "writing 0 disarms the deadline");
	apic_timer_stop();
}

int main(void)
{
	if (!cpu_has(X86_FEATURE_APIC)) {
		report_skip("no local APIC");
		return report_summary();
	}
	u64 base = rdmsr(MSR_IA32_APICBASE);
	report((base & ~0xfffull) == APIC_DEFAULT_BASE, "APIC base is %#llx (%#lx)", APIC_DEFAULT_BASE,
	       base);
	report(base & (1 << 8), "IA32_APIC_BASE.BSP set");
	apic_enable();
	u32 ver = apic_read(APIC_VERSION);
	report((ver & 0xff) >= 0x10 && (ver >> 16 & 0xff) >= 3, "version register %#x", ver);
	report((apic_read(APIC_SPIV) & 0x1ff) == (APIC_SPIV_ENABLE | APIC_SPURIOUS_VECTOR),
	       "SPIV reads back");

	idt_set_handler(TIMER_VECTOR, timer_handler);
	sti();
	test_oneshot();
	test_periodic();
	test_held_back();
	test_cr8();
	test_deadline();
	cli();
	return report_summary();
}
