/* x86.h: architectural constants, named as in the Intel SDM. */
#ifndef CETVM_X86_H
#define CETVM_X86_H

/* Exception vectors (SDM Vol. 3 6.3.1). */
#define X86_EXC_DE 0
#define X86_EXC_DB 1
#define X86_EXC_NMI 2
#define X86_EXC_BP 3
#define X86_EXC_OF 4
#define X86_EXC_BR 5
#define X86_EXC_UD 6
#define X86_EXC_NM 7
#define X86_EXC_DF 8
#define X86_EXC_TS 10
#define X86_EXC_NP 11
#define X86_EXC_SS 12
#define X86_EXC_GP 13
#define X86_EXC_PF 14
#define X86_EXC_MF 16
#define X86_EXC_AC 17
#define X86_EXC_MC 18
#define X86_EXC_XM 19
#define X86_EXC_VE 20
#define X86_EXC_CP 21

/* #PF error code bits. */
#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I (1u << 4)
#define PF_PK (1u << 5)
#define PF_SS (1u << 6)

/* #CP error codes (spec 8). */
#define CP_NEAR_RET 1
#define CP_FAR_RET 2
#define CP_ENDBRANCH 3
#define CP_RSTORSSP 4
#define CP_SETSSBSY 5

/* RFLAGS. */
#define X86_EFLAGS_CF (1ull << 0)
#define X86_EFLAGS_FIXED (1ull << 1)
#define X86_EFLAGS_PF (1ull << 2)
#define X86_EFLAGS_AF (1ull << 4)
#define X86_EFLAGS_ZF (1ull << 6)
#define X86_EFLAGS_SF (1ull << 7)
#define X86_EFLAGS_TF (1ull << 8)
#define X86_EFLAGS_IF (1ull << 9)
#define X86_EFLAGS_DF (1ull << 10)
#define X86_EFLAGS_OF (1ull << 11)
#define X86_EFLAGS_IOPL (3ull << 12)
#define X86_EFLAGS_NT (1ull << 14)
#define X86_EFLAGS_RF (1ull << 16)
#define X86_EFLAGS_VM (1ull << 17)
#define X86_EFLAGS_AC (1ull << 18)
#define X86_EFLAGS_VIF (1ull << 19)
#define X86_EFLAGS_VIP (1ull << 20)
#define X86_EFLAGS_ID (1ull << 21)
#define X86_EFLAGS_ARITH (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			  X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF)

/* CR0. */
#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_EM (1ull << 2)
#define X86_CR0_TS (1ull << 3)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_AM (1ull << 18)
#define X86_CR0_NW (1ull << 29)
#define X86_CR0_CD (1ull << 30)
#define X86_CR0_PG (1ull << 31)

/* CR4. */
#define X86_CR4_VME (1ull << 0)
#define X86_CR4_PVI (1ull << 1)
#define X86_CR4_TSD (1ull << 2)
#define X86_CR4_DE (1ull << 3)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_MCE (1ull << 6)
#define X86_CR4_PGE (1ull << 7)
#define X86_CR4_PCE (1ull << 8)
#define X86_CR4_OSFXSR (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_CR4_UMIP (1ull << 11)
#define X86_CR4_LA57 (1ull << 12)
#define X86_CR4_VMXE (1ull << 13)
#define X86_CR4_SMXE (1ull << 14)
#define X86_CR4_FSGSBASE (1ull << 16)
#define X86_CR4_PCIDE (1ull << 17)
#define X86_CR4_OSXSAVE (1ull << 18)
#define X86_CR4_SMEP (1ull << 20)
#define X86_CR4_SMAP (1ull << 21)
#define X86_CR4_PKE (1ull << 22)
#define X86_CR4_CET (1ull << 23)
#define X86_CR4_PKS (1ull << 24)

/* EFER. */
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Paging entry bits. */
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)

/* MSRs. */
#define MSR_IA32_TSC 0x10
#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_TSC_ADJUST 0x3b
#define MSR_IA32_SPEC_CTRL 0x48
#define MSR_IA32_PRED_CMD 0x49
#define MSR_IA32_BIOS_SIGN_ID 0x8b
#define MSR_IA32_MTRRCAP 0xfe
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MCG_CAP 0x179
#define MSR_IA32_MCG_STATUS 0x17a
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING (1ull << 0)
#define MISC_ENABLE_BTS_UNAVAIL (1ull << 11)
#define MISC_ENABLE_PEBS_UNAVAIL (1ull << 12)
#define MSR_IA32_MTRR_PHYSBASE0 0x200
#define MSR_IA32_MTRR_FIX64K 0x250
#define MSR_IA32_MTRR_FIX16K_80000 0x258
#define MSR_IA32_MTRR_FIX16K_A0000 0x259
#define MSR_IA32_MTRR_FIX4K_C0000 0x268
#define MSR_IA32_PAT 0x277
#define MSR_IA32_MTRR_DEF_TYPE 0x2ff
#define MSR_IA32_U_CET 0x6a0
#define MSR_IA32_S_CET 0x6a2
#define MSR_IA32_PL0_SSP 0x6a4
#define MSR_IA32_PL1_SSP 0x6a5
#define MSR_IA32_PL2_SSP 0x6a6
#define MSR_IA32_PL3_SSP 0x6a7
#define MSR_IA32_INT_SSP_TAB 0x6a8
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_IA32_PKRS 0x6e1
#define MSR_IA32_XSS 0xda0
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103
#define MSR_KVM_INTERNAL_GUEST_SSP 0x4b564dff

/* U_CET / S_CET bits (spec 3.2). */
#define CET_SHSTK_EN (1ull << 0)
#define CET_WRSS_EN (1ull << 1)
#define CET_ENDBR_EN (1ull << 2)
#define CET_LEG_IW_EN (1ull << 3)
#define CET_NO_TRACK_EN (1ull << 4)
#define CET_SUPPRESS_DIS (1ull << 5)
#define CET_RESERVED (0xfull << 6)
#define CET_SUPPRESS (1ull << 10)
#define CET_WAIT_ENDBR (1ull << 11)

/* XSAVE components. */
#define XFEATURE_X87 (1ull << 0)
#define XFEATURE_SSE (1ull << 1)
#define XFEATURE_YMM (1ull << 2)
#define XFEATURE_PKRU (1ull << 9)
#define XFEATURE_CET_U (1ull << 11)
#define XFEATURE_CET_S (1ull << 12)

/* CPUID feature identifiers for cpu_has_feature(): leaf/reg/bit packed. */
#define X86_FEAT(leaf_id, reg, bit) (((leaf_id) << 8) | ((reg) << 5) | (bit))
enum { FL_1, FL_7_0, FL_7_1, FL_80000001, FL_D_1 };
enum { FR_EAX, FR_EBX, FR_ECX, FR_EDX };
#define X86_FEATURE_FPU X86_FEAT(FL_1, FR_EDX, 0)
#define X86_FEATURE_TSC X86_FEAT(FL_1, FR_EDX, 4)
#define X86_FEATURE_APIC X86_FEAT(FL_1, FR_EDX, 9)
#define X86_FEATURE_SEP X86_FEAT(FL_1, FR_EDX, 11)
#define X86_FEATURE_PGE X86_FEAT(FL_1, FR_EDX, 13)
#define X86_FEATURE_PSE X86_FEAT(FL_1, FR_EDX, 3)
#define X86_FEATURE_PAE X86_FEAT(FL_1, FR_EDX, 6)
#define X86_FEATURE_FXSR X86_FEAT(FL_1, FR_EDX, 24)
#define X86_FEATURE_SSE X86_FEAT(FL_1, FR_EDX, 25)
#define X86_FEATURE_SSE2 X86_FEAT(FL_1, FR_EDX, 26)
#define X86_FEATURE_SSE3 X86_FEAT(FL_1, FR_ECX, 0)
#define X86_FEATURE_PCLMUL X86_FEAT(FL_1, FR_ECX, 1)
#define X86_FEATURE_SSSE3 X86_FEAT(FL_1, FR_ECX, 9)
#define X86_FEATURE_CX16 X86_FEAT(FL_1, FR_ECX, 13)
#define X86_FEATURE_PCID X86_FEAT(FL_1, FR_ECX, 17)
#define X86_FEATURE_SSE41 X86_FEAT(FL_1, FR_ECX, 19)
#define X86_FEATURE_SSE42 X86_FEAT(FL_1, FR_ECX, 20)
#define X86_FEATURE_X2APIC X86_FEAT(FL_1, FR_ECX, 21)
#define X86_FEATURE_MOVBE X86_FEAT(FL_1, FR_ECX, 22)
#define X86_FEATURE_POPCNT X86_FEAT(FL_1, FR_ECX, 23)
#define X86_FEATURE_TSC_DEADLINE X86_FEAT(FL_1, FR_ECX, 24)
#define X86_FEATURE_AES X86_FEAT(FL_1, FR_ECX, 25)
#define X86_FEATURE_XSAVE X86_FEAT(FL_1, FR_ECX, 26)
#define X86_FEATURE_AVX X86_FEAT(FL_1, FR_ECX, 28)
#define X86_FEATURE_RDRAND X86_FEAT(FL_1, FR_ECX, 30)
#define X86_FEATURE_FSGSBASE X86_FEAT(FL_7_0, FR_EBX, 0)
#define X86_FEATURE_BMI1 X86_FEAT(FL_7_0, FR_EBX, 3)
#define X86_FEATURE_AVX2 X86_FEAT(FL_7_0, FR_EBX, 5)
#define X86_FEATURE_SMEP X86_FEAT(FL_7_0, FR_EBX, 7)
#define X86_FEATURE_BMI2 X86_FEAT(FL_7_0, FR_EBX, 8)
#define X86_FEATURE_ERMS X86_FEAT(FL_7_0, FR_EBX, 9)
#define X86_FEATURE_INVPCID X86_FEAT(FL_7_0, FR_EBX, 10)
#define X86_FEATURE_RDSEED X86_FEAT(FL_7_0, FR_EBX, 18)
#define X86_FEATURE_ADX X86_FEAT(FL_7_0, FR_EBX, 19)
#define X86_FEATURE_SMAP X86_FEAT(FL_7_0, FR_EBX, 20)
#define X86_FEATURE_CLFLUSHOPT X86_FEAT(FL_7_0, FR_EBX, 23)
#define X86_FEATURE_CLWB X86_FEAT(FL_7_0, FR_EBX, 24)
#define X86_FEATURE_SHA X86_FEAT(FL_7_0, FR_EBX, 29)
#define X86_FEATURE_UMIP X86_FEAT(FL_7_0, FR_ECX, 2)
#define X86_FEATURE_PKU X86_FEAT(FL_7_0, FR_ECX, 3)
#define X86_FEATURE_SHSTK X86_FEAT(FL_7_0, FR_ECX, 7)
#define X86_FEATURE_LA57 X86_FEAT(FL_7_0, FR_ECX, 16)
#define X86_FEATURE_RDPID X86_FEAT(FL_7_0, FR_ECX, 22)
#define X86_FEATURE_IBT X86_FEAT(FL_7_0, FR_EDX, 20)
#define X86_FEATURE_SSS X86_FEAT(FL_7_1, FR_EDX, 18)
#define X86_FEATURE_LAHF_LM X86_FEAT(FL_80000001, FR_ECX, 0)
#define X86_FEATURE_ABM X86_FEAT(FL_80000001, FR_ECX, 5)
#define X86_FEATURE_PREFETCHW X86_FEAT(FL_80000001, FR_ECX, 8)
#define X86_FEATURE_SYSCALL X86_FEAT(FL_80000001, FR_EDX, 11)
#define X86_FEATURE_NX X86_FEAT(FL_80000001, FR_EDX, 20)
#define X86_FEATURE_PDPE1GB X86_FEAT(FL_80000001, FR_EDX, 26)
#define X86_FEATURE_RDTSCP X86_FEAT(FL_80000001, FR_EDX, 27)
#define X86_FEATURE_LM X86_FEAT(FL_80000001, FR_EDX, 29)
#define X86_FEATURE_XSAVEOPT X86_FEAT(FL_D_1, FR_EAX, 0)
#define X86_FEATURE_XSAVEC X86_FEAT(FL_D_1, FR_EAX, 1)
#define X86_FEATURE_XGETBV1 X86_FEAT(FL_D_1, FR_EAX, 2)
#define X86_FEATURE_XSAVES X86_FEAT(FL_D_1, FR_EAX, 3)

#endif
