/*
 * vsnprintf for the guest: %d %i %u %x %X %o %b %p %s %c %%, flags '-' '0' '#' ' ' '+',
 * width and precision (also '*'), length modifiers hh h l ll z t j.
 */
#include "libhvt.h"
#include "spinlock.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void emit(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void emit_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		emit(o, c);
}

struct spec {
	bool left, zero, alt, plus, space;
	int width, precision;
};

static void emit_string(struct out *o, const char *s, const struct spec *sp)
{
	int len;

	if (!s)
		s = "(null)";
	len = (int)strnlen(s, sp->precision >= 0 ? (size_t)sp->precision : (size_t)-1);
	if (!sp->left)
		emit_pad(o, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		emit(o, s[i]);
	if (sp->left)
		emit_pad(o, ' ', sp->width - len);
}

static void emit_number(struct out *o, uint64_t v, bool negative, unsigned base, bool upper,
			const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[66];
	int n = 0, prefix_len = 0, zeros, total;
	const char *prefix = "";

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (sp->precision == 0 && n == 1 && tmp[0] == '0')
		n = 0;

	if (negative)
		prefix = "-";
	else if (sp->plus)
		prefix = "+";
	else if (sp->space)
		prefix = " ";
	if (sp->alt && base == 16 && n)
		prefix = upper ? "0X" : "0x";
	else if (sp->alt && base == 2 && n)
		prefix = "0b";
	else if (sp->alt && base == 8 && (n == 0 || tmp[n - 1] != '0'))
		prefix = "0";
	prefix_len = (int)strlen(prefix);

	zeros = sp->precision > n ? sp->precision - n : 0;
	total = prefix_len + zeros + n;
	if (sp->zero && !sp->left && sp->precision < 0 && sp->width > total) {
		zeros += sp->width - total;
		total = sp->width;
	}
	if (!sp->left)
		emit_pad(o, ' ', sp->width - total);
	for (int i = 0; i < prefix_len; i++)
		emit(o, prefix[i]);
	emit_pad(o, '0', zeros);
	while (n)
		emit(o, tmp[--n]);
	if (sp->left)
		emit_pad(o, ' ', sp->width - total);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		struct spec sp = { .precision = -1 };
		int lng = 0;	/* 0 int, 1 long, 2 long long, -1 short, -2 char */
		bool is_signed = false;
		unsigned base = 10;
		uint64_t v;

		if (*fmt != '%') {
			emit(&o, *fmt);
			continue;
		}
		for (;;) {
			char f = *++fmt;

			if (f == '-')
				sp.left = true;
			else if (f == '0')
				sp.zero = true;
			else if (f == '#')
				sp.alt = true;
			else if (f == '+')
				sp.plus = true;
			else if (f == ' ')
				sp.space = true;
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0)
				sp.left = true, sp.width = -sp.width;
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			sp.precision = 0;
			if (*++fmt == '*') {
				sp.precision = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				sp.precision = sp.precision * 10 + (*fmt++ - '0');
		}
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'h')
				lng--;
			else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j')
				lng = 1;
			else
				break;
		}

		switch (*fmt) {
		case '\0':
			goto done;
		case '%':
			emit(&o, '%');
			continue;
		case 'c': {
			char c = (char)va_arg(ap, int);

			if (!sp.left)
				emit_pad(&o, ' ', sp.width - 1);
			emit(&o, c);
			if (sp.left)
				emit_pad(&o, ' ', sp.width - 1);
			continue;
		}
		case 's':
			emit_string(&o, va_arg(ap, const char *), &sp);
			continue;
		case 'p':
			sp.alt = true;
			emit_number(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, &sp);
			continue;
		case 'd':
		case 'i':
			is_signed = true;
			break;
		case 'u':
			break;
		case 'x':
		case 'X':
			base = 16;
			break;
		case 'o':
			base = 8;
			break;
		case 'b':
			base = 2;
			break;
		default:
			/* Unknown conversion: print it as it is, so the mistake shows. */
			emit(&o, '%');
			emit(&o, *fmt);
			continue;
		}

		if (is_signed) {
			int64_t s = lng >= 1 ? va_arg(ap, long) : va_arg(ap, int);

			if (lng == -1)
				s = (short)s;
			else if (lng <= -2)
				s = (signed char)s;
			v = s < 0 ? -(uint64_t)s : (uint64_t)s;
			emit_number(&o, v, s < 0, base, false, &sp);
		} else {
			v = lng >= 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			if (lng == -1)
				v = (uint16_t)v;
			else if (lng <= -2)
				v = (uint8_t)v;
			emit_number(&o, v, false, base, *fmt == 'X', &sp);
		}
	}
done:
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * One printf is one write under one lock, so lines from several CPUs never
 * interleave on the console (docs/protocol.md: one record per line).
 */
static struct spinlock console_lock;

static void console_write_locked(const char *buf, size_t len)
{
	spin_lock(&console_lock);
	console_write(buf, len);
	spin_unlock(&console_lock);
}

int vprintf(const char *fmt, va_list ap)
{
	char buf[1024];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	console_write_locked(buf, MIN((size_t)n, sizeof(buf) - 1));
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void puts(const char *s)
{
	console_write_locked(s, strlen(s));
}
