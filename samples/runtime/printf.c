/*
 * A small printf: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a width, and the
 * length modifiers l, ll, z.  Enough for the samples; no floating point.
 */
#include "runtime.h"

struct out {
	char *buf;      /* NULL: write to the serial port */
	size_t size;
	size_t len;     /* characters produced, even those that did not fit */
};

static void out_char(struct out *o, char c)
{
	if (!o->buf)
		serial_putc(c);
	else if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

static void out_str(struct out *o, const char *s, int width, bool left)
{
	int n = (int)strlen(s);

	if (!left)
		out_pad(o, ' ', width - n);
	while (*s)
		out_char(o, *s++);
	if (left)
		out_pad(o, ' ', width - n);
}

static void out_num(struct out *o, uint64_t v, bool neg, unsigned base, bool upper,
		    int width, bool zero, bool left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	int total = n + (neg ? 1 : 0);
	if (!left && !zero)
		out_pad(o, ' ', width - total);
	if (neg)
		out_char(o, '-');
	if (!left && zero)
		out_pad(o, '0', width - total);
	while (n)
		out_char(o, tmp[--n]);
	if (left)
		out_pad(o, ' ', width - total);
}

static void format(struct out *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			out_char(o, *fmt);
			continue;
		}
		bool left = false, zero = false;
		int width = 0, lng = 0;

		for (fmt++; *fmt == '-' || *fmt == '0'; fmt++) {
			if (*fmt == '-')
				left = true;
			else
				zero = true;
		}
		for (; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		for (; *fmt == 'l' || *fmt == 'z'; fmt++)
			lng++;

		uint64_t u;
		int64_t s;
		switch (*fmt) {
		case 'd':
		case 'i':
			s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			out_num(o, s < 0 ? -(uint64_t)s : (uint64_t)s, s < 0, 10, false,
				width, zero, left);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			out_num(o, u, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, zero,
				left);
			break;
		case 'p':
			out_char(o, '0');
			out_char(o, 'x');
			out_num(o, (uintptr_t)va_arg(ap, void *), false, 16, false, width,
				zero, left);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			out_str(o, str ? str : "(null)", width, left);
			break;
		}
		case 'c':
			out_char(o, (char)va_arg(ap, int));
			break;
		case '%':
			out_char(o, '%');
			break;
		case '\0':
			return;
		default:
			out_char(o, '%');
			out_char(o, *fmt);
			break;
		}
	}
}

int vprintf(const char *fmt, va_list ap)
{
	struct out o = { 0 };

	format(&o, fmt, ap);
	return (int)o.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = n };

	format(&o, fmt, ap);
	if (n)
		buf[o.len < n ? o.len : n - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}
