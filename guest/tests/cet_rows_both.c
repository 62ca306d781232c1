/* Covers: 15 17 21 23 25
 * cet_rows_both: the CET rows of KVM's MSR test table from inside a guest
 * whose CPU is -cpu max (guest/lib/cet_rows.h). */
/* args: -cpu max */
#include "cet_rows.h"
#include "report.h"

int main(void)
{
	cet_msr_rows("max");
	return report_summary();
}
