/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Parses --output SPEC strings into a struct pw_output_spec. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output_spec.h"

#define MAX_KEEP 100
#define MAX_QUEUE_LINES 1000000u

static const struct {
	const char *name;
	int number;
} facilities[] = {
	{ "user", 1 },    { "daemon", 3 },  { "auth", 4 },    { "authpriv", 10 },
	{ "local0", 16 }, { "local1", 17 }, { "local2", 18 }, { "local3", 19 },
	{ "local4", 20 }, { "local5", 21 }, { "local6", 22 }, { "local7", 23 },
};

static const char *const format_names[] = {
	[PW_OUTPUT_FORMAT_DEFAULT] = "default", [PW_OUTPUT_FORMAT_TEXT] = "text",
	[PW_OUTPUT_FORMAT_JSON] = "json",       [PW_OUTPUT_FORMAT_ECS] = "ecs",
	[PW_OUTPUT_FORMAT_OCSF] = "ocsf",
};

const char *pw_output_format_name(enum pw_output_format format)
{
	if ((unsigned int)format >= sizeof(format_names) / sizeof(format_names[0]))
		return NULL;
	return format_names[format];
}

const char *pw_syslog_facility_name(int facility)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (facilities[i].number == facility)
			return facilities[i].name;
	return NULL;
}

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t err_len, const char *spec,
						       const char *fmt, ...)
{
	size_t n;
	va_list ap;

	snprintf(err, err_len, "--output '%s': ", spec);
	n = strlen(err);
	va_start(ap, fmt);
	if (n < err_len)
		vsnprintf(err + n, err_len - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "10M", "512k", "1G", "4096": bytes, suffixes in powers of 1024. */
static bool parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	uint64_t scale = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': scale = 1ull << 10; end++; break;
	case 'm': case 'M': scale = 1ull << 20; end++; break;
	case 'g': case 'G': scale = 1ull << 30; end++; break;
	default: return false;
	}
	if (*end || v == 0 || v > UINT64_MAX / scale)
		return false;
	*out = (uint64_t)v * scale;
	return true;
}

static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = (unsigned int)v;
	return true;
}

/* HOST:PORT, HOST a name, an IPv4 address or a bracketed IPv6 address. */
static int parse_host_port(const char *spec, const char *s, size_t len, struct pw_output_spec *out,
			   char *err, size_t err_len)
{
	const char *colon, *host = s;
	size_t host_len;
	unsigned int port;
	char port_text[16];

	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close)
			return fail(err, err_len, spec, "IPv6 address without closing ']'");
		host = s + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
		if (colon >= s + len || *colon != ':')
			return fail(err, err_len, spec, "missing ':PORT' after the address");
	} else {
		colon = NULL;
		for (const char *p = s; p < s + len; p++)
			if (*p == ':')
				colon = p;
		if (!colon)
			return fail(err, err_len, spec, "missing ':PORT' after the host");
		host_len = (size_t)(colon - s);
		if (memchr(s, ':', host_len))
			return fail(err, err_len, spec, "an IPv6 address needs brackets: [ADDR]:PORT");
	}
	if (host_len == 0)
		return fail(err, err_len, spec, "missing host before ':PORT'");
	if (host_len >= sizeof(out->host))
		return fail(err, err_len, spec, "host name longer than %zu bytes",
			    sizeof(out->host) - 1);
	len -= (size_t)(colon + 1 - s);
	if (len == 0 || len >= sizeof(port_text))
		return fail(err, err_len, spec, "missing or bad port after ':'");
	memcpy(port_text, colon + 1, len);
	port_text[len] = '\0';
	if (!parse_uint(port_text, 1, 65535, &port))
		return fail(err, err_len, spec, "port '%s' is not a number in 1..65535", port_text);
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	snprintf(out->port, sizeof(out->port), "%u", port);
	return 0;
}

static int parse_option(const char *spec, const char *opt, size_t len, struct pw_output_spec *out,
			char *err, size_t err_len)
{
	char key[16], value[64];
	const char *eq = memchr(opt, '=', len);
	size_t key_len, value_len;

	if (!eq)
		return fail(err, err_len, spec, "option '%.*s' needs a value (KEY=VALUE)", (int)len,
			    opt);
	key_len = (size_t)(eq - opt);
	value_len = len - key_len - 1;
	if (key_len >= sizeof(key) || value_len >= sizeof(value) || value_len == 0)
		return fail(err, err_len, spec, "bad option '%.*s'", (int)len, opt);
	memcpy(key, opt, key_len);
	key[key_len] = '\0';
	memcpy(value, eq + 1, value_len);
	value[value_len] = '\0';

	if (!strcmp(key, "format")) {
		for (int f = PW_OUTPUT_FORMAT_TEXT; f <= PW_OUTPUT_FORMAT_OCSF; f++)
			if (!strcmp(value, format_names[f])) {
				out->format = (enum pw_output_format)f;
				return 0;
			}
		return fail(err, err_len, spec, "format '%s' is not one of text, json, ecs, ocsf",
			    value);
	}
	if (!strcmp(key, "max-size") || !strcmp(key, "keep")) {
		if (out->kind != PW_OUTPUT_FILE)
			return fail(err, err_len, spec, "%s applies to file outputs only", key);
		if (key[0] == 'm' && !parse_size(value, &out->max_size))
			return fail(err, err_len, spec,
				    "max-size '%s' is not a size above 0 (e.g. 4096, 512K, 10M, 1G)",
				    value);
		if (key[0] == 'k' && !parse_uint(value, 0, MAX_KEEP, &out->keep))
			return fail(err, err_len, spec, "keep '%s' is not a number in 0..%d", value,
				    MAX_KEEP);
		return 0;
	}
	if (!strcmp(key, "facility")) {
		if (out->kind != PW_OUTPUT_UDP && out->kind != PW_OUTPUT_TCP)
			return fail(err, err_len, spec, "facility applies to syslog outputs only");
		for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
			if (!strcmp(value, facilities[i].name)) {
				out->facility = facilities[i].number;
				return 0;
			}
		return fail(err, err_len, spec,
			    "facility '%s' is not one of user, daemon, auth, authpriv, local0..local7",
			    value);
	}
	if (!strcmp(key, "queue")) {
		if (out->kind == PW_OUTPUT_STDOUT)
			return fail(err, err_len, spec, "queue does not apply to stdout");
		if (!parse_uint(value, 1, MAX_QUEUE_LINES, &out->queue_lines))
			return fail(err, err_len, spec, "queue '%s' is not a number in 1..%u", value,
				    MAX_QUEUE_LINES);
		return 0;
	}
	return fail(err, err_len, spec,
		    "unknown option '%s' (known: format, max-size, keep, facility, queue)", key);
}

int pw_output_spec_parse(const char *spec, struct pw_output_spec *out, char *err, size_t err_len)
{
	const char *dest_end = strchr(spec, ',');
	size_t dest_len = dest_end ? (size_t)(dest_end - spec) : strlen(spec);
	const char *p;
	int rc;

	memset(out, 0, sizeof(*out));
	out->keep = PW_OUTPUT_DEFAULT_KEEP;
	out->queue_lines = PW_OUTPUT_DEFAULT_QUEUE_LINES;
	out->facility = PW_SYSLOG_FACILITY_DAEMON;

	if (dest_len == 1 && spec[0] == '-') {
		out->kind = PW_OUTPUT_STDOUT;
	} else if (dest_len >= 5 && !strncmp(spec, "file:", 5)) {
		out->kind = PW_OUTPUT_FILE;
		if (dest_len == 5)
			return fail(err, err_len, spec, "file: needs a path (file:PATH)");
		if (dest_len - 5 >= sizeof(out->path))
			return fail(err, err_len, spec, "path longer than %zu bytes",
				    sizeof(out->path) - 1);
		memcpy(out->path, spec + 5, dest_len - 5);
		out->path[dest_len - 5] = '\0';
	} else if (dest_len >= 6 && (!strncmp(spec, "udp://", 6) || !strncmp(spec, "tcp://", 6))) {
		out->kind = spec[0] == 'u' ? PW_OUTPUT_UDP : PW_OUTPUT_TCP;
		rc = parse_host_port(spec, spec + 6, dest_len - 6, out, err, err_len);
		if (rc)
			return rc;
	} else {
		return fail(err, err_len, spec,
			    "unknown destination '%.*s' (expected -, file:PATH, udp://HOST:PORT or "
			    "tcp://HOST:PORT)",
			    (int)dest_len, spec);
	}

	for (p = dest_end; p; p = strchr(p + 1, ',')) {
		const char *next = strchr(p + 1, ',');
		size_t len = next ? (size_t)(next - p - 1) : strlen(p + 1);

		if (len == 0)
			return fail(err, err_len, spec, "empty option after ','");
		rc = parse_option(spec, p + 1, len, out, err, err_len);
		if (rc)
			return rc;
	}
	return 0;
}
