/* printf.c: a small printf; the conversion parser is one switch statement. */
#include "printf.h"

#include "serial.h"

/* Where characters go: COM1 when buf is NULL, else a bounded buffer. */
struct sink {
	char *buf;
	size_t size;
	size_t len; /* characters produced, even those that did not fit */
};

struct spec {
	int width, prec; /* prec < 0: none */
	int lng;         /* 1: long (also z, t), 2: long long (also j) */
	bool left, zero, plus, space, alt, upper;
};

static void put(struct sink *s, char c)
{
	if (!s->buf)
		serial_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void pad(struct sink *s, char c, int n)
{
	while (n-- > 0)
		put(s, c);
}

static void put_str(struct sink *s, const struct spec *sp, const char *str)
{
	int n = 0;
	if (!str)
		str = "(null)";
	while (str[n] && (sp->prec < 0 || n < sp->prec))
		n++;
	if (!sp->left)
		pad(s, ' ', sp->width - n);
	for (int i = 0; i < n; i++)
		put(s, str[i]);
	if (sp->left)
		pad(s, ' ', sp->width - n);
}

/* *v /= base, returning the remainder, by shift and subtract: the 32-bit
 * kit (guest/lib32) links no libgcc, which has the 64-bit division. */
static unsigned div_small(u64 *v, unsigned base)
{
	u64 q = 0, r = 0;
	for (int i = 63; i >= 0; i--) {
		r = r << 1 | ((*v >> i) & 1);
		q <<= 1;
		if (r >= base) {
			r -= base;
			q |= 1;
		}
	}
	*v = q;
	return (unsigned)r;
}

static void put_num(struct sink *s, const struct spec *sp, u64 v, unsigned base, bool neg)
{
	const char *digits = sp->upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24], prefix[3] = "";
	int n = 0, np = 0;

	while (v || n == 0)
		tmp[n++] = digits[div_small(&v, base)];
	if (sp->prec == 0 && n == 1 && tmp[0] == '0')
		n = 0; /* "%.0d" of 0 prints nothing (C11 7.21.6.1) */
	if (neg || sp->plus || sp->space)
		prefix[np++] = neg ? '-' : sp->plus ? '+' : ' ';
	if (sp->alt && base == 16) {
		prefix[np++] = '0';
		prefix[np++] = sp->upper ? 'X' : 'x';
	}
	int zeros = sp->prec > n ? sp->prec - n : 0;
	int fill = sp->width - np - zeros - n;
	if (sp->zero && !sp->left && sp->prec < 0) {
		zeros += fill > 0 ? fill : 0;
		fill = 0;
	}
	if (!sp->left)
		pad(s, ' ', fill);
	for (int i = 0; i < np; i++)
		put(s, prefix[i]);
	pad(s, '0', zeros);
	while (n)
		put(s, tmp[--n]);
	if (sp->left)
		pad(s, ' ', fill);
}

static u64 arg_unsigned(va_list *ap, int lng)
{
	if (lng >= 2)
		return va_arg(*ap, unsigned long long);
	return lng ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
}

static void put_signed(struct sink *s, const struct spec *sp, va_list *ap)
{
	s64 v = sp->lng >= 2 ? va_arg(*ap, long long)
	      : sp->lng	     ? va_arg(*ap, long)
			     : va_arg(*ap, int);
	put_num(s, sp, v < 0 ? -(u64)v : (u64)v, 10, v < 0);
}

/* f points just after '%'. Every character that may follow '%' is a case of
 * one switch, dense enough for gcc to emit a jump table: with
 * -fcf-protection=full that is a NOTRACK indirect jump, which the IBT tests
 * (spec/cet.md item 95) rely on. Returns the pointer after the conversion. */
static const char *convert(struct sink *s, const char *f, va_list *ap)
{
	struct spec sp = { .prec = -1 };
	char c;

	for (;; f++) {
		switch (*f) {
		case '-': sp.left = true; continue;
		case '+': sp.plus = true; continue;
		case ' ': sp.space = true; continue;
		case '#': sp.alt = true; continue;
		case '.': sp.prec = 0; continue;
		case 'h': continue;
		case 'l': sp.lng++; continue;
		case 'z': case 't': sp.lng = 1; continue; /* size_t is a long */
		case 'j': sp.lng = 2; continue;
		case '*':
			if (sp.prec >= 0)
				sp.prec = va_arg(*ap, int);
			else if ((sp.width = va_arg(*ap, int)) < 0)
				sp.left = true, sp.width = -sp.width;
			continue;
		case '0':
			if (sp.prec < 0 && sp.width == 0) {
				sp.zero = true;
				continue;
			}
			/* a digit of the width or precision */
			__attribute__((fallthrough));
		case '1' ... '9':
			if (sp.prec >= 0)
				sp.prec = sp.prec * 10 + (*f - '0');
			else
				sp.width = sp.width * 10 + (*f - '0');
			continue;
		case 'd': case 'i': put_signed(s, &sp, ap); break;
		case 'u': put_num(s, &sp, arg_unsigned(ap, sp.lng), 10, false); break;
		case 'o': put_num(s, &sp, arg_unsigned(ap, sp.lng), 8, false); break;
		case 'X': sp.upper = true; __attribute__((fallthrough));
		case 'x': put_num(s, &sp, arg_unsigned(ap, sp.lng), 16, false); break;
		case 'p':
			sp.alt = true;
			put_num(s, &sp, (uintptr_t)va_arg(*ap, void *), 16, false);
			break;
		case 's': put_str(s, &sp, va_arg(*ap, const char *)); break;
		case 'c':
			c = (char)va_arg(*ap, int);
			pad(s, ' ', sp.left ? 0 : sp.width - 1);
			put(s, c);
			pad(s, ' ', sp.left ? sp.width - 1 : 0);
			break;
		case '%': put(s, '%'); break;
		case '\0': return f; /* a lone '%' at the end */
		default: put(s, '%'); put(s, *f); break;
		}
		return f + 1;
	}
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt == '%')
			fmt = convert(s, fmt + 1, &aq);
		else
			put(s, *fmt++);
	}
	va_end(aq);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { .buf = buf, .size = size };
	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = { 0 };
	format(&s, fmt, ap);
	return s.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}
