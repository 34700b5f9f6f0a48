/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The allowlist policy: a line-oriented parser with precise messages, and a
 * first-match-wins matcher over annotated records. */
#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "addr.h"
#include "policy.h"

#define POLICY_MAX_BYTES (1u << 20)
#define TRANSPORT_TCP (1u << 0)
#define TRANSPORT_UDP (1u << 1)
#define QUOTE_MAX 60 /* longest excerpt of the file quoted in a message */

enum verb { VERB_LISTEN, VERB_CONNECT };

struct port_range {
	uint16_t first, last; /* inclusive */
};

struct rule {
	bool allow;
	enum verb verb;
	unsigned int transports; /* TRANSPORT_* bits */
	struct port_range *ranges;
	size_t n_ranges;
	/* Conditions; NULL when not given. Patterns as fnmatch(3) takes them. */
	char *exe;
	char *comm;
	char *user;
	bool user_has_uid; /* user= was a number, or a name known at load time */
	uint32_t uid;
	char *container;
	char *scope; /* "loopback", "any", "address" */
	char *name;
	unsigned int line;
};

struct pw_policy {
	char *name; /* the file's path, for messages */
	struct rule *rules;
	size_t n_rules;
	bool has_connect_rules;
};

/* A word of the line being parsed, with where it starts for the column. */
struct word {
	const char *start;
	size_t len;
};

struct parser {
	const char *name;
	unsigned int line;
	const char *line_start;
	const char *line_end;
	const char *pos;
	char *err;
	size_t err_len;
};

static const char *const condition_keys[] = { "exe", "comm", "user", "container", "scope", "name" };
#define CONDITION_LIST "exe=, comm=, user=, container=, scope= or name="

__attribute__((format(printf, 3, 4))) static int syntax_error(const struct parser *ps,
							      const char *at, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	used = (size_t)snprintf(ps->err, ps->err_len, "%s:%u:%u: ", ps->name, ps->line,
				(unsigned int)(at - ps->line_start) + 1);
	if (used < ps->err_len) {
		va_start(ap, fmt);
		vsnprintf(ps->err + used, ps->err_len - used, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next word of the line; false at the end of the line or at a comment
 * ('#' at the start of a word). ps->pos is then where the word would be. */
static bool next_word(struct parser *ps, struct word *w)
{
	while (ps->pos < ps->line_end && is_blank(*ps->pos))
		ps->pos++;
	if (ps->pos == ps->line_end || *ps->pos == '#')
		return false;
	w->start = ps->pos;
	while (ps->pos < ps->line_end && !is_blank(*ps->pos))
		ps->pos++;
	w->len = (size_t)(ps->pos - w->start);
	return true;
}

static bool word_is(const struct word *w, const char *s)
{
	return strlen(s) == w->len && !memcmp(w->start, s, w->len);
}

/* "expected X after 'PREV', found 'WORD'" or "..., found end of line". */
static int expected(struct parser *ps, const struct word *prev, const struct word *found,
		    const char *what)
{
	int prev_len = (int)(prev->len > QUOTE_MAX ? QUOTE_MAX : prev->len);

	if (!found)
		return syntax_error(ps, ps->pos, "expected %s after '%.*s', found end of line", what,
				    prev_len, prev->start);
	if (!found->len)
		return syntax_error(ps, found->start, "expected %s after '%.*s', found nothing", what,
				    prev_len, prev->start);
	return syntax_error(ps, found->start, "expected %s after '%.*s', found '%.*s'", what,
			    prev_len, prev->start, (int)(found->len > QUOTE_MAX ? QUOTE_MAX : found->len),
			    found->start);
}

/* Split a word at commas: the item starting at *from, up to the next comma
 * or the end of the word. */
static bool next_item(const struct word *w, const char **from, struct word *item)
{
	const char *end = w->start + w->len, *p = *from;

	if (p > end)
		return false;
	item->start = p;
	while (p < end && *p != ',')
		p++;
	item->len = (size_t)(p - item->start);
	*from = p + 1;
	return true;
}

static int parse_transports(struct parser *ps, const struct word *prev, const struct word *w,
			    struct rule *rule)
{
	static const struct word comma = { ",", 1 };
	const char *from = w->start;
	struct word item;
	bool first = true;

	if (word_is(w, "any")) {
		rule->transports = TRANSPORT_TCP | TRANSPORT_UDP;
		return 0;
	}
	while (next_item(w, &from, &item)) {
		if (word_is(&item, "tcp"))
			rule->transports |= TRANSPORT_TCP;
		else if (word_is(&item, "udp"))
			rule->transports |= TRANSPORT_UDP;
		else
			return expected(ps, first ? prev : &comma, &item,
					"a transport (tcp, udp, tcp,udp or any)");
		first = false;
	}
	return 0;
}

/* A whole decimal number, 65536 standing for any larger one; -1 when the
 * text is empty or not all digits. */
static long parse_port_number(const char *s, size_t len)
{
	long value = 0;
	size_t i;

	if (!len)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (value <= 65535)
			value = value * 10 + (s[i] - '0');
	}
	return value > 65535 ? 65536 : value;
}

static int add_range(struct rule *rule, long first, long last)
{
	struct port_range *ranges = realloc(rule->ranges, (rule->n_ranges + 1) * sizeof(*ranges));

	if (!ranges)
		return -ENOMEM;
	rule->ranges = ranges;
	ranges[rule->n_ranges].first = (uint16_t)first;
	ranges[rule->n_ranges].last = (uint16_t)last;
	rule->n_ranges++;
	return 0;
}

static int parse_port_item(struct parser *ps, const struct word *prev, const struct word *item,
			   struct rule *rule)
{
	static const struct {
		const char *word;
		long first, last;
	} categories[] = {
		{ "well-known", 0, 1023 },
		{ "registered", 1024, 49151 },
		{ "dynamic", 49152, 65535 },
		{ "any", 0, 65535 },
	};
	const char *dash;
	long first, last;
	size_t i;

	for (i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
		if (word_is(item, categories[i].word))
			return add_range(rule, categories[i].first, categories[i].last);
	dash = memchr(item->start, '-', item->len);
	if (dash) {
		first = parse_port_number(item->start, (size_t)(dash - item->start));
		last = parse_port_number(dash + 1, item->len - (size_t)(dash - item->start) - 1);
	} else {
		first = last = parse_port_number(item->start, item->len);
	}
	if (first < 0 || last < 0)
		return expected(ps, prev, item, "a port, range or category");
	if (first < 1 || first > 65535 || last < 1 || last > 65535)
		return syntax_error(ps, item->start, "expected ports from 1 to 65535, found '%.*s'",
				    (int)item->len, item->start);
	if (first > last)
		return syntax_error(ps, item->start,
				    "expected a range FIRST-LAST with FIRST <= LAST, found '%.*s'",
				    (int)item->len, item->start);
	return add_range(rule, first, last);
}

static int parse_ports(struct parser *ps, const struct word *prev, const struct word *w,
		       struct rule *rule)
{
	static const struct word comma = { ",", 1 };
	const char *from = w->start;
	struct word item;
	bool first = true;
	int err;

	while (next_item(w, &from, &item)) {
		err = parse_port_item(ps, first ? prev : &comma, &item, rule);
		if (err)
			return err;
		first = false;
	}
	return 0;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

static bool valid_rule_name(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
	       strlen(s);
}

static char **condition_slot(struct rule *rule, size_t key)
{
	char **slots[] = { &rule->exe, &rule->comm, &rule->user, &rule->container, &rule->scope,
			   &rule->name };

	return slots[key];
}

/* Check a condition's value; returns 0 or a syntax error. */
static int check_condition(struct parser *ps, size_t key, const char *value,
			   const char *value_at, const struct pw_policy *policy, struct rule *rule)
{
	const char *name = condition_keys[key];
	size_t i;

	if (!strcmp(name, "exe") && value[0] != '/' && value[0] != '*')
		return syntax_error(ps, value_at,
				    "expected an absolute path or a pattern after 'exe=', found '%.*s'",
				    QUOTE_MAX, value);
	if (!strcmp(name, "comm") && !has_glob(value) && strlen(value) > PW_COMM_LEN - 1)
		return syntax_error(ps, value_at,
				    "expected a command name of at most %d characters after 'comm=' "
				    "(the kernel keeps no more), found '%.*s'",
				    PW_COMM_LEN - 1, QUOTE_MAX, value);
	if (!strcmp(name, "scope") && strcmp(value, "loopback") && strcmp(value, "any") &&
	    strcmp(value, "address"))
		return syntax_error(ps, value_at,
				    "expected loopback, any or address after 'scope=', found '%.*s'",
				    QUOTE_MAX, value);
	if (!strcmp(name, "name")) {
		if (!valid_rule_name(value))
			return syntax_error(ps, value_at,
					    "expected a rule name of letters, digits, '-', '_' or '.' "
					    "after 'name=', found '%.*s'",
					    QUOTE_MAX, value);
		for (i = 0; i < policy->n_rules; i++)
			if (policy->rules[i].name && !strcmp(policy->rules[i].name, value))
				return syntax_error(ps, value_at,
						    "expected a rule name not used before, found '%s' "
						    "(already the name of line %u)",
						    value, policy->rules[i].line);
	}
	if (!strcmp(name, "user")) {
		if (all_digits(value)) {
			unsigned long uid = strtoul(value, NULL, 10);

			if (uid > UINT32_MAX - 1 || strlen(value) > 10)
				return syntax_error(ps, value_at,
						    "expected a user name or a uid below 4294967295 "
						    "after 'user=', found '%.*s'",
						    QUOTE_MAX, value);
			rule->user_has_uid = true;
			rule->uid = (uint32_t)uid;
		} else if (!has_glob(value)) {
			struct passwd *pw = getpwnam(value);

			if (pw) {
				rule->user_has_uid = true;
				rule->uid = pw->pw_uid;
			}
		}
	}
	return 0;
}

static int parse_condition(struct parser *ps, const struct word *w, const struct pw_policy *policy,
			   struct rule *rule)
{
	const char *eq = memchr(w->start, '=', w->len);
	size_t key, key_len;
	char **slot;
	int err;

	key_len = eq ? (size_t)(eq - w->start) : 0;
	for (key = 0; eq && key < sizeof(condition_keys) / sizeof(condition_keys[0]); key++)
		if (strlen(condition_keys[key]) == key_len && !memcmp(w->start, condition_keys[key], key_len))
			break;
	if (!eq || key == sizeof(condition_keys) / sizeof(condition_keys[0]))
		return syntax_error(ps, w->start, "expected a condition (" CONDITION_LIST "), found '%.*s'",
				    (int)(w->len > QUOTE_MAX ? QUOTE_MAX : w->len), w->start);
	slot = condition_slot(rule, key);
	if (*slot)
		return syntax_error(ps, w->start, "expected each condition once, found a second '%s='",
				    condition_keys[key]);
	if (eq + 1 == w->start + w->len)
		return syntax_error(ps, eq + 1, "expected a value after '%s=', found nothing",
				    condition_keys[key]);
	*slot = strndup(eq + 1, w->len - key_len - 1);
	if (!*slot)
		return -ENOMEM;
	err = check_condition(ps, key, *slot, eq + 1, policy, rule);
	if (err) {
		free(*slot);
		*slot = NULL;
	}
	return err;
}

static void rule_free(struct rule *rule)
{
	free(rule->ranges);
	free(rule->exe);
	free(rule->comm);
	free(rule->user);
	free(rule->container);
	free(rule->scope);
	free(rule->name);
}

/* One line: nothing, a comment, or a rule appended to policy. */
static int parse_line(struct parser *ps, struct pw_policy *policy)
{
	struct word action, verb, transports, ports, condition;
	struct rule rule = { 0 };
	struct rule *rules;
	int err;

	if (!next_word(ps, &action))
		return 0;
	rule.line = ps->line;
	if (word_is(&action, "allow") || word_is(&action, "deny")) {
		rule.allow = word_is(&action, "allow");
	} else {
		return syntax_error(ps, action.start, "expected 'allow' or 'deny', found '%.*s'",
				    (int)(action.len > QUOTE_MAX ? QUOTE_MAX : action.len), action.start);
	}
	if (!next_word(ps, &verb))
		return expected(ps, &action, NULL, "'listen' or 'connect'");
	if (word_is(&verb, "listen"))
		rule.verb = VERB_LISTEN;
	else if (word_is(&verb, "connect"))
		rule.verb = VERB_CONNECT;
	else
		return expected(ps, &action, &verb, "'listen' or 'connect'");
	if (!next_word(ps, &transports))
		return expected(ps, &verb, NULL, "a transport (tcp, udp, tcp,udp or any)");
	err = parse_transports(ps, &verb, &transports, &rule);
	if (err)
		goto fail;
	if (!next_word(ps, &ports)) {
		err = expected(ps, &transports, NULL, "a port, range or category");
		goto fail;
	}
	err = parse_ports(ps, &transports, &ports, &rule);
	if (err)
		goto fail;
	while (next_word(ps, &condition)) {
		err = parse_condition(ps, &condition, policy, &rule);
		if (err)
			goto fail;
	}
	rules = realloc(policy->rules, (policy->n_rules + 1) * sizeof(*rules));
	if (!rules) {
		err = -ENOMEM;
		goto fail;
	}
	policy->rules = rules;
	policy->rules[policy->n_rules++] = rule;
	if (rule.verb == VERB_CONNECT)
		policy->has_connect_rules = true;
	return 0;
fail:
	rule_free(&rule);
	return err;
}

void pw_policy_free(struct pw_policy *policy)
{
	size_t i;

	if (!policy)
		return;
	for (i = 0; i < policy->n_rules; i++)
		rule_free(&policy->rules[i]);
	free(policy->rules);
	free(policy->name);
	free(policy);
}

int pw_policy_parse(const char *name, const char *text, struct pw_policy **out, char *err,
		    size_t err_len)
{
	struct parser ps = { .name = name, .err = err, .err_len = err_len };
	struct pw_policy *policy;
	const char *line = text;
	int code = 0;

	*out = NULL;
	err[0] = '\0';
	policy = calloc(1, sizeof(*policy));
	if (!policy || !(policy->name = strdup(name))) {
		free(policy);
		snprintf(err, err_len, "%s: out of memory", name);
		return -ENOMEM;
	}
	/* Editors on some systems start UTF-8 files with a byte order mark. */
	if (!strncmp(line, "\xef\xbb\xbf", 3))
		line += 3;
	while (*line) {
		const char *end = strchr(line, '\n');

		if (!end)
			end = line + strlen(line);
		ps.line++;
		ps.line_start = ps.pos = line;
		ps.line_end = end;
		code = parse_line(&ps, policy);
		if (code) {
			if (code == -ENOMEM)
				snprintf(err, err_len, "%s: out of memory", name);
			pw_policy_free(policy);
			return code;
		}
		line = *end ? end + 1 : end;
	}
	*out = policy;
	return 0;
}

int pw_policy_load(const char *path, struct pw_policy **out, char *err, size_t err_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *file;
	int code;

	*out = NULL;
	file = fopen(path, "re");
	if (!file) {
		code = -errno;
		snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
		return code;
	}
	text = malloc(POLICY_MAX_BYTES + 1);
	if (!text) {
		code = -ENOMEM;
		snprintf(err, err_len, "cannot read %s: %s", path, strerror(ENOMEM));
		goto cleanup;
	}
	len = fread(text, 1, POLICY_MAX_BYTES + 1, file);
	if (ferror(file)) {
		code = -EIO;
		snprintf(err, err_len, "cannot read %s: %s", path, strerror(EIO));
		goto cleanup;
	}
	if (len > POLICY_MAX_BYTES) {
		code = -EFBIG;
		snprintf(err, err_len, "cannot read %s: larger than %u bytes, not a policy", path,
			 POLICY_MAX_BYTES);
		goto cleanup;
	}
	if (memchr(text, '\0', len)) {
		code = -EINVAL;
		snprintf(err, err_len, "cannot read %s: it holds NUL bytes, not a policy", path);
		goto cleanup;
	}
	text[len] = '\0';
	code = pw_policy_parse(path, text, out, err, err_len);
cleanup:
	free(text);
	fclose(file);
	return code;
}

size_t pw_policy_rule_count(const struct pw_policy *policy)
{
	return policy->n_rules;
}

bool pw_policy_has_connect_rules(const struct pw_policy *policy)
{
	return policy->has_connect_rules;
}

const char *pw_policy_name(const struct pw_policy *policy)
{
	return policy->name;
}

/* Matching ---------------------------------------------------------------- */

/* What a record asks of the policy. */
struct request {
	enum verb verb;
	unsigned int transport;
	uint16_t port;          /* local port to listen on, remote port to connect to */
	const uint8_t *addr;    /* local (listen) or remote (connect) address */
	const char *service;
	bool existing;          /* found at start-up, not seen happening */
};

static bool classify(const struct pw_policy *policy, const struct pw_record *rec,
		     struct request *req)
{
	const struct pw_event *ev = rec->ev;
	bool tcp, udp;

	if (!ev || (rec->type != PW_REC_STATE && rec->type != PW_REC_BIND &&
		    rec->type != PW_REC_SNAPSHOT))
		return false;
	if (ev->family != AF_INET && ev->family != AF_INET6)
		return false;
	tcp = ev->protocol == IPPROTO_TCP;
	udp = ev->protocol == IPPROTO_UDP;
	if (!tcp && !udp)
		return false;
	memset(req, 0, sizeof(*req));
	req->transport = tcp ? TRANSPORT_TCP : TRANSPORT_UDP;
	req->existing = rec->type == PW_REC_SNAPSHOT;
	req->verb = VERB_LISTEN;
	req->port = ev->sport;
	req->addr = ev->saddr;
	req->service = rec->local_service;

	switch (rec->type) {
	case PW_REC_STATE:
		if (ev->type != PW_EVENT_STATE || !tcp)
			return false;
		if (ev->new_state == PW_TCP_LISTEN && ev->old_state != PW_TCP_LISTEN)
			return true;
		if (ev->old_state == PW_TCP_CLOSE && ev->new_state == PW_TCP_SYN_SENT)
			break; /* connect */
		return false;
	case PW_REC_BIND:
		/* A bound TCP socket takes no traffic until it listens, and that
		 * listen is checked; a UDP socket takes traffic once bound. A
		 * bind to port 0 is a client asking for any ephemeral port. */
		return ev->type == PW_EVENT_BIND && udp && ev->bind_errno == 0 && ev->sport &&
		       ev->requested_port;
	default: /* snapshot */
		if (tcp && ev->new_state == PW_TCP_LISTEN)
			return true;
		if (udp && ev->new_state == PW_TCP_CLOSE)
			return ev->sport != 0;
		if (ev->direction != PW_DIR_OUTBOUND)
			return false;
		break; /* an established outgoing connection */
	}
	if (!policy->has_connect_rules || !ev->dport)
		return false;
	req->verb = VERB_CONNECT;
	req->port = ev->dport;
	req->addr = ev->daddr;
	req->service = rec->remote_service;
	return true;
}

static bool matches_pattern(const char *pattern, const char *value)
{
	return value && fnmatch(pattern, value, 0) == 0;
}

static bool matches_user(const struct rule *rule, const struct pw_record *rec)
{
	const struct pw_task *owner = &rec->ev->owner;

	if (!owner->pid)
		return false; /* the uid of an unowned socket is not a process's user */
	if (rule->user_has_uid && owner->uid == rule->uid)
		return true;
	return !all_digits(rule->user) && matches_pattern(rule->user, rec->proc.user);
}

static bool matches_container(const char *pattern, const char *id)
{
	if (!strcmp(pattern, "none"))
		return id == NULL;
	if (!id)
		return false;
	/* A plain id may be the short form (docker ps shows 12 digits). */
	if (!has_glob(pattern))
		return !strncmp(id, pattern, strlen(pattern));
	return fnmatch(pattern, id, 0) == 0;
}

static bool rule_matches(const struct rule *rule, const struct request *req,
			 const struct pw_record *rec)
{
	const struct pw_event *ev = rec->ev;
	char comm[PW_COMM_LEN];
	bool in_range = false;
	size_t i;

	if (rule->verb != req->verb || !(rule->transports & req->transport))
		return false;
	for (i = 0; i < rule->n_ranges && !in_range; i++)
		in_range = req->port >= rule->ranges[i].first && req->port <= rule->ranges[i].last;
	if (!in_range)
		return false;
	if (rule->scope && strcmp(rule->scope, pw_addr_scope(ev->family, req->addr)))
		return false;
	if (rule->exe && !(ev->owner.pid && matches_pattern(rule->exe, rec->proc.exe)))
		return false;
	if (rule->comm) {
		memcpy(comm, ev->owner.comm, PW_COMM_LEN);
		comm[PW_COMM_LEN - 1] = '\0';
		if (!ev->owner.pid || !matches_pattern(rule->comm, comm))
			return false;
	}
	if (rule->user && !matches_user(rule, rec))
		return false;
	if (rule->container && !(ev->owner.pid && matches_container(rule->container,
								    rec->proc.container_id)))
		return false;
	return true;
}

/* Printable form of an attacker-chosen name: no control characters in a
 * sentence that a terminal may show. */
static void printable(char *out, const char *in, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len && in[i]; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[i] = '\0';
}

static void describe(const struct pw_policy *policy, const struct rule *rule,
		     const struct request *req, const struct pw_record *rec,
		     struct pw_policy_verdict *verdict)
{
	const struct pw_event *ev = rec->ev;
	const char *transport = req->transport == TRANSPORT_TCP ? "tcp" : "udp";
	const char *scope = pw_addr_scope(ev->family, req->addr);
	char ip[PW_ADDR_STRLEN] = "?", comm[PW_COMM_LEN], owner[160], subject[256], service[80] = "";

	pw_addr_format(ev->family, req->addr, ip, sizeof(ip));
	if (req->service) {
		char name[64];

		printable(name, req->service, sizeof(name));
		snprintf(service, sizeof(service), " (%s)", name);
	}
	if (req->verb == VERB_CONNECT) {
		snprintf(subject, sizeof(subject), "%s%s connection to %s port %u%s",
			 req->existing ? "existing " : "", transport, ip, req->port, service);
	} else {
		const char *what = req->transport == TRANSPORT_TCP
					   ? (req->existing ? "already listening" : "opened for listening")
					   : (req->existing ? "already bound" : "bound");
		const char *where = !strcmp(scope, "any")	  ? " (all interfaces)"
				    : !strcmp(scope, "loopback") ? " (loopback)"
								   : "";

		snprintf(subject, sizeof(subject), "%s port %u%s %s on %s%s", transport, req->port,
			 service, what, ip, where);
	}
	if (ev->owner.pid) {
		char user[64];

		printable(comm, ev->owner.comm, sizeof(comm));
		if (rec->proc.user)
			printable(user, rec->proc.user, sizeof(user));
		else
			snprintf(user, sizeof(user), "uid %u", ev->owner.uid);
		snprintf(owner, sizeof(owner), "%s (pid %u, user %s)", comm, ev->owner.pid, user);
	} else {
		snprintf(owner, sizeof(owner), "no known process");
	}
	if (rule) {
		if (rule->name)
			snprintf(verdict->rule, sizeof(verdict->rule), "%s", rule->name);
		else
			snprintf(verdict->rule, sizeof(verdict->rule), "%.*s:%u", 200, policy->name,
				 rule->line);
		snprintf(verdict->reason, sizeof(verdict->reason), "%s by %s is denied by %s:%u%s%s%s",
			 subject, owner, policy->name, rule->line, rule->name ? " (rule " : "",
			 rule->name ? rule->name : "", rule->name ? ")" : "");
	} else {
		snprintf(verdict->rule, sizeof(verdict->rule), "default");
		snprintf(verdict->reason, sizeof(verdict->reason), "%s by %s is not allowed by %s",
			 subject, owner, policy->name);
	}
}

bool pw_policy_check(const struct pw_policy *policy, const struct pw_record *rec,
		     struct pw_policy_verdict *verdict)
{
	struct request req;
	size_t i;

	if (!policy || !classify(policy, rec, &req))
		return false;
	for (i = 0; i < policy->n_rules; i++) {
		const struct rule *rule = &policy->rules[i];

		if (!rule_matches(rule, &req, rec))
			continue;
		if (rule->allow)
			return false;
		describe(policy, rule, &req, rec, verdict);
		return true;
	}
	describe(policy, NULL, &req, rec, verdict);
	return true;
}

void pw_policy_alert_record(const struct pw_record *rec, const struct pw_policy_verdict *verdict,
			    struct pw_record *alert)
{
	*alert = *rec;
	alert->type = PW_REC_ALERT;
	alert->alert.rule = verdict->rule;
	alert->alert.reason = verdict->reason;
	alert->alert.existing = rec->type == PW_REC_SNAPSHOT;
}
